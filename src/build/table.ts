import { createReadStream } from 'node:fs';
import { UserError } from './problems.js';

/** One record of a delimited file: its fields in column order, and the line it starts on (1-based). */
export interface TableRow {
  line: number;
  fields: string[];
  /** Set when the row is malformed (an unterminated quote, text after a closing quote). */
  error?: string;
}

export interface Table {
  header: string[];
  delimiter: string;
  /** The data rows (after the header), streamed: the file is never held in memory whole. */
  rows: AsyncIterable<TableRow>;
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * Splits a stream of text into records, RFC 4180 style: fields may be quoted, quotes inside are
 * doubled, quoted fields may span lines. Blank lines are skipped. Line numbers count physical lines.
 */
export async function* parseDelimited(chunks: AsyncIterable<string>, delimiter: string): AsyncGenerator<TableRow> {
  const splitter = new RecordSplitter(delimiter.charCodeAt(0));
  for await (const chunk of chunks) for (const row of splitter.feed(chunk)) yield row;
  const last = splitter.end();
  if (last) yield last;
}

/** The state of `parseDelimited` between chunks: a record, a field or a quote may span them. */
class RecordSplitter {
  private fields: string[] = [];
  private field = '';
  private quoted = false; // inside a quoted field
  private afterQuote = false; // just closed a quoted field
  private line = 1; // physical line of the current character
  private start = 1; // line the current record started on
  private error: string | undefined;
  private pendingCR = false;
  private splitQuote = false;

  constructor(private readonly delim: number) {}

  /** The records that end in `chunk`. */
  *feed(chunk: string): Generator<TableRow> {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      if (this.splitQuote && this.endSplitQuote(c)) {
        i++;
        continue;
      }
      if (this.quoted) {
        i = this.quotedText(chunk, i);
        continue;
      }
      if (c === this.delim) {
        this.fields.push(this.field);
        this.field = '';
        this.afterQuote = false;
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        const row = this.endRecord();
        if (row) yield row;
        if (c === CR) this.pendingCR = true;
        this.line++;
        this.start = this.line;
        i++;
        continue;
      }
      i = this.plainText(chunk, i, c);
    }
  }

  /** The last record, at the end of the input. */
  end(): TableRow | undefined {
    if (this.splitQuote) [this.quoted, this.afterQuote] = [false, true];
    if (this.quoted) this.error = 'a quoted field is never closed';
    return this.endRecord();
  }

  /**
   * The previous chunk ended on a quote inside a quoted field: `""` escaped (true: `c` is the
   * second quote, taken), or the field's close.
   */
  private endSplitQuote(c: number): boolean {
    this.splitQuote = false;
    if (c === QUOTE) {
      this.field += '"';
      return true;
    }
    this.quoted = false;
    this.afterQuote = true;
    return false;
  }

  /** Inside a quoted field at `i`: a quote (doubled, closing, or split off at the chunk's end), or a run of text. Returns where to go on. */
  private quotedText(chunk: string, i: number): number {
    if (chunk.charCodeAt(i) === QUOTE) {
      if (i + 1 === chunk.length) {
        this.splitQuote = true;
        return i + 1;
      }
      if (chunk.charCodeAt(i + 1) === QUOTE) {
        this.field += '"';
        return i + 2;
      }
      this.quoted = false;
      this.afterQuote = true;
      return i + 1;
    }
    // Copy a run of ordinary characters at once.
    let j = chunk.indexOf('"', i);
    if (j < 0) j = chunk.length;
    const run = chunk.slice(i, j);
    for (let k = run.indexOf('\n'); k >= 0; k = run.indexOf('\n', k + 1)) this.line++;
    this.field += run;
    return j;
  }

  /** Outside quotes at `i` (not a delimiter or line break): an opening quote, or a run of text. Returns where to go on. */
  private plainText(chunk: string, i: number, c: number): number {
    if (c === QUOTE && this.field === '' && !this.afterQuote) {
      this.quoted = true;
      return i + 1;
    }
    if (this.afterQuote) this.error ??= `unexpected text after a closing quote in column ${this.fields.length + 1}`;
    // Copy a run of ordinary characters at once.
    let j = i + 1;
    while (j < chunk.length) {
      const d = chunk.charCodeAt(j);
      if (d === this.delim || d === LF || d === CR || d === QUOTE) break;
      j++;
    }
    this.field += chunk.slice(i, j);
    return j;
  }

  /** Ends the current record: a row, or undefined for a blank line. */
  private endRecord(): TableRow | undefined {
    this.fields.push(this.field);
    const { fields, error } = this;
    const row = fields.length === 1 && fields[0] === '' && !error ? undefined : { line: this.start, fields, ...(error ? { error } : {}) };
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.afterQuote = false;
    return row;
  }
}

export async function* textChunks(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  try {
    for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 })) {
      let text = decoder.decode(buf as Buffer, { stream: true });
      if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
      first = false;
      yield text;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(err.code === 'ENOENT' ? `${path}: no such file` : err.code === 'EISDIR' ? `${path}: is a directory, not a file` : `${path}: cannot be read (${err.message})`);
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Picks the delimiter that splits the header line into the most columns: tab, comma, semicolon or pipe. */
export function sniffDelimiter(headerLine: string): string {
  let best = ',';
  let most = 0;
  for (const d of ['\t', ',', ';', '|']) {
    const n = headerLine.split(d).length - 1;
    if (n > most) [best, most] = [d, n];
  }
  return best;
}

/**
 * Opens a CSV/TSV file: sniffs the delimiter from the first line, reads the header (trimmed), and
 * streams the rest. Throws a UserError for a missing or empty file.
 */
export async function openTable(path: string, delimiter?: string): Promise<Table> {
  // Read the first line to sniff the delimiter, then stream the file from the start.
  let firstLine = '';
  for await (const chunk of textChunks(path)) {
    firstLine += chunk;
    const nl = firstLine.search(/\r|\n/);
    if (nl >= 0) {
      firstLine = firstLine.slice(0, nl);
      break;
    }
    if (firstLine.length > 1 << 20) break;
  }
  if (!firstLine.trim()) throw new UserError(`${path}: is empty (a header line is expected)`);
  const delim = delimiter ?? sniffDelimiter(firstLine);
  const records = parseDelimited(textChunks(path), delim);
  const head = await records.next();
  if (head.done) throw new UserError(`${path}: is empty (a header line is expected)`);
  const header = head.value.fields.map((h) => h.trim());
  return {
    header,
    delimiter: delim,
    rows: { [Symbol.asyncIterator]: () => records },
  };
}

/** One line of a JSON-lines file: the parsed value, or why it could not be parsed. */
export interface JsonLine {
  line: number;
  value?: unknown;
  error?: string;
}

/** Streams a JSON-lines file (one JSON value per line; blank lines skipped). */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine> {
  let line = 0;
  let rest = '';
  const emit = function* (text: string): Generator<JsonLine> {
    line++;
    const t = text.trim();
    if (!t) return;
    try {
      yield { line, value: JSON.parse(t) };
    } catch (e) {
      yield { line, error: `not valid JSON (${(e as Error).message})` };
    }
  };
  for await (const chunk of textChunks(path)) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield* emit(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield* emit(rest);
}

/** `role=ColumnName` pairs from a `--…-columns` flag. */
export type ColumnSpec = Record<string, string>;

/** Parses `session=SessionId,item=ItemId,time=Time`, checking each role against `roles`. */
export function parseColumnSpec(spec: string, roles: readonly string[], flag: string): ColumnSpec {
  const out: ColumnSpec = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const role = part.slice(0, Math.max(eq, 0)).trim();
    const name = part.slice(eq + 1).trim();
    if (eq < 0 || !name) throw new UserError(`${flag}: "${part}" should look like role=ColumnName`);
    if (!roles.includes(role)) throw new UserError(`${flag}: unknown role "${role}" (roles: ${roles.join(', ')})`);
    out[role] = name;
  }
  return out;
}

const normName = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Each role's column index in `header`: the column the spec names, else the first default name
 * present (names compared ignoring case, spaces, `_` and `-`). Throws a UserError naming the columns
 * there are when a named or required one is missing.
 */
export function findColumns<R extends string>(
  header: string[],
  file: string,
  defaults: Record<R, string[]>,
  spec: ColumnSpec,
  required: NoInfer<R>[],
  flag: string,
): Partial<Record<R, number>> {
  const index = new Map(header.map((h, i) => [normName(h), i]));
  const found: Partial<Record<R, number>> = {};
  for (const role of Object.keys(defaults) as R[]) {
    const given = spec[role];
    const i = given !== undefined ? index.get(normName(given)) : defaults[role].map((n) => index.get(normName(n))).find((x) => x !== undefined);
    if (given !== undefined && i === undefined) throw new UserError(`${file} line 1: no column "${given}" for ${role} (columns are: ${header.join(', ')})`);
    if (i !== undefined) found[role] = i;
  }
  for (const role of required) {
    if (found[role] === undefined) {
      throw new UserError(`${file} line 1: no ${role} column (looked for ${defaults[role].join(', ')}; columns are: ${header.join(', ')}; map one with ${flag} ${role}=Name)`);
    }
  }
  return found;
}
