/** A growable Int32 array: compact storage for millions of item indices. */
export class IntList {
  private data = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** The values so far (a copy trimmed to length). */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Lists of item indices (sessions, baskets) stored flat: list i is `items[offsets[i] .. offsets[i+1])`.
 * Millions of sessions fit in a few typed arrays instead of millions of JS arrays.
 */
export class ListSet {
  private readonly itemList = new IntList();
  private readonly offsetList = new IntList();

  constructor() {
    this.offsetList.push(0);
  }

  add(list: ArrayLike<number>): void {
    for (let i = 0; i < list.length; i++) this.itemList.push(list[i]!);
    this.offsetList.push(this.itemList.length);
  }

  get count(): number {
    return this.offsetList.length - 1;
  }

  /** Total items over all lists. */
  get size(): number {
    return this.itemList.length;
  }

  /** Freezes the set into arrays. */
  finish(): FrozenLists {
    return new FrozenLists(this.itemList.toArray(), this.offsetList.toArray());
  }
}

export class FrozenLists {
  constructor(
    readonly items: Int32Array,
    readonly offsets: Int32Array,
  ) {}

  get count(): number {
    return this.offsets.length - 1;
  }

  /** List i, as a view (no copy). */
  get(i: number): Int32Array {
    return this.items.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }

  *[Symbol.iterator](): IterableIterator<Int32Array> {
    for (let i = 0; i < this.count; i++) yield this.get(i);
  }

  static of(lists: readonly (readonly number[])[]): FrozenLists {
    const s = new ListSet();
    for (const l of lists) s.add(l);
    return s.finish();
  }
}

/**
 * Groups a stream of keyed records (events by user or session, order lines by order) without
 * holding the stream: at most `capacity` groups are open; when more arrive, the least recently
 * touched are closed first. Logs grouped by key, or ordered by time, close each group exactly
 * once; only a log that interleaves more than `capacity` live keys would split a group.
 */
export class Grouper<T> {
  private readonly open = new Map<string, T[]>();
  constructor(
    private readonly close: (key: string, group: T[]) => void,
    private readonly capacity = 200_000,
  ) {}

  /** The open group of `key` (created empty), marked as most recently touched. */
  group(key: string): T[] {
    let g = this.open.get(key);
    if (g) this.open.delete(key);
    else g = [];
    this.open.set(key, g);
    if (this.open.size > this.capacity) this.evict(Math.ceil(this.capacity / 10));
    return g;
  }

  /** Closes `key`'s group now (a session that ended with a long pause, say). */
  end(key: string): void {
    const g = this.open.get(key);
    if (!g) return;
    this.open.delete(key);
    this.close(key, g);
  }

  private evict(n: number): void {
    for (const key of this.open.keys()) {
      if (n-- <= 0) break;
      this.end(key);
    }
  }

  /** Closes every open group. */
  finish(): void {
    for (const key of [...this.open.keys()]) this.end(key);
  }
}
