/**
 * Problems with a store's input files, reported the way a store owner can act on them: file, line
 * and reason; skippable rows counted with their first few examples; never a stack trace.
 */

/** A mistake in the user's input or command line: printed as its message alone, exit code 2. */
export class UserError extends Error {
  override name = 'UserError';
}

/** Where in an input file a problem is. */
export interface Place {
  file: string;
  /** 1-based line number, when the problem belongs to one row. */
  line?: number;
}

const where = (p: Place) => (p.line === undefined ? p.file : `${p.file} line ${p.line}`);

interface Kind {
  count: number;
  examples: string[];
}

/** How many examples of each kind of problem are kept for the report. */
const EXAMPLES = 5;

/**
 * Collects problems while the input streams by. `skip` is a row the build can do without (it warns
 * at the end, with counts); `fatal` is one that makes the output wrong (the build fails after the
 * step has read everything, so the owner sees every broken row at once, not one per run).
 */
export class Problems {
  private readonly skipped = new Map<string, Kind>();
  private readonly fatals: string[] = [];
  private fatalCount = 0;

  /** A row that is left out; `kind` groups the report ("events naming products not in the catalog"). */
  skip(kind: string, place: Place, reason: string): void {
    let k = this.skipped.get(kind);
    if (!k) this.skipped.set(kind, (k = { count: 0, examples: [] }));
    k.count++;
    if (k.examples.length < EXAMPLES) k.examples.push(`${where(place)}: ${reason}`);
  }

  /** `count` more rows of a kind whose examples are already listed (an engine that counts in bulk). */
  skipUnlisted(kind: string, count: number): void {
    if (count <= 0) return;
    let k = this.skipped.get(kind);
    if (!k) this.skipped.set(kind, (k = { count: 0, examples: [] }));
    k.count += count;
  }

  /** A problem that fails the build once the current step has finished reading. */
  fatal(place: Place, reason: string): void {
    this.fatalCount++;
    if (this.fatals.length < 50) this.fatals.push(`${where(place)}: ${reason}`);
  }

  /** Throws a UserError listing the fatal problems, if any. */
  throwIfFatal(what: string): void {
    if (!this.fatalCount) return;
    const more = this.fatalCount > this.fatals.length ? `\n  … and ${this.fatalCount - this.fatals.length} more` : '';
    throw new UserError(`${what}: ${this.fatalCount} problem${this.fatalCount === 1 ? '' : 's'}\n  ${this.fatals.join('\n  ')}${more}`);
  }

  /** Count of skipped rows of one kind (tests and summaries). */
  count(kind: string): number {
    return this.skipped.get(kind)?.count ?? 0;
  }

  /** One warning per kind, with the count and the first few places. */
  warnings(): string[] {
    return [...this.skipped].map(([kind, k]) => `${k.count} ${kind} (skipped)\n    ${k.examples.join('\n    ')}${k.count > k.examples.length ? '\n    …' : ''}`);
  }
}
