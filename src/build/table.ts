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
  const delim = delimiter.charCodeAt(0);
  let fields: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let afterQuote = false; // just closed a quoted field
  let line = 1; // physical line of the current character
  let start = 1; // line the current record started on
  let error: string | undefined;
  let pendingCR = false;
  let splitQuote = false;

  const endRecord = (): TableRow | undefined => {
    fields.push(field);
    const row = fields.length === 1 && fields[0] === '' && !error ? undefined : { line: start, fields, ...(error ? { error } : {}) };
    fields = [];
    field = '';
    error = undefined;
    afterQuote = false;
    return row;
  };

  for await (const chunk of chunks) {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (pendingCR) {
        pendingCR = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      if (splitQuote) {
        // The previous chunk ended on a quote inside a quoted field: `""` escaped, or the close.
        splitQuote = false;
        if (c === QUOTE) {
          field += '"';
          i++;
          continue;
        }
        quoted = false;
        afterQuote = true;
      }
      if (quoted) {
        if (c === QUOTE) {
          if (i + 1 === n) {
            splitQuote = true;
            i++;
          } else if (chunk.charCodeAt(i + 1) === QUOTE) {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            afterQuote = true;
            i++;
          }
          continue;
        }
        // Copy a run of ordinary characters at once.
        let j = chunk.indexOf('"', i);
        if (j < 0) j = n;
        const run = chunk.slice(i, j);
        for (let k = run.indexOf('\n'); k >= 0; k = run.indexOf('\n', k + 1)) line++;
        field += run;
        i = j;
        continue;
      }
      if (c === delim) {
        fields.push(field);
        field = '';
        afterQuote = false;
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        const row = endRecord();
        if (row) yield row;
        if (c === CR) pendingCR = true;
        line++;
        start = line;
        i++;
        continue;
      }
      if (c === QUOTE && field === '' && !afterQuote) {
        quoted = true;
        i++;
        continue;
      }
      if (afterQuote) error ??= `unexpected text after a closing quote in column ${fields.length + 1}`;
      // Copy a run of ordinary characters at once.
      let j = i + 1;
      while (j < n) {
        const d = chunk.charCodeAt(j);
        if (d === delim || d === LF || d === CR || d === QUOTE) break;
        j++;
      }
      field += chunk.slice(i, j);
      i = j;
    }
  }
  if (splitQuote) [quoted, afterQuote] = [false, true];
  if (quoted) error = 'a quoted field is never closed';
  const last = endRecord();
  if (last) yield last;
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
