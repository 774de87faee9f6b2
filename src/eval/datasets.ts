/**
 * The evaluation's datasets (../shared/data, each README gives format and license), loaded into
 * time-ordered train/test splits. Session logs go through the builder's own reader (`readEvents`:
 * the same sniffing, column mapping and 30-minute split a store's log gets).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEvents } from '../build/events.js';
import { readBaskets } from '../build/baskets.js';
import { Problems } from '../build/problems.js';
import type { ColumnSpec } from '../build/table.js';
import { createRng, shuffledIndices } from '../recommend/rng.js';

/** Next view: sessions of item indices (0 … items − 1). */
export interface SessionSplit {
  dataset: string;
  items: number;
  train: Int32Array[];
  /** Test sessions; positions from `from` on are predicted (1: every next view; length − 1: leave-last-out). */
  test: { session: Int32Array; from: number }[];
  notes: string[];
}

/** Complementary: baskets or outfits of item indices, with optional item names and categories. */
export interface BasketSplit {
  dataset: string;
  items: number;
  names: string[];
  /** Per item, 1-based category (0: none); `categoryNames[c − 1]`. */
  categories: Int32Array;
  categoryNames: string[];
  /** Per item, its coarse (semantic) category when the data has one: fill-in-the-blank draws from it. */
  groups?: Int32Array;
  train: Int32Array[];
  test: Int32Array[];
  /** Polyvore's compatibility rows: whole outfits labelled real (1) or not (0). */
  compatibility?: { label: 0 | 1; items: Int32Array }[];
  notes: string[];
}

export class DataMissingError extends Error {
  override name = 'DataMissingError';
}

function need(path: string): string {
  if (!existsSync(path)) throw new DataMissingError(`${path} is missing (the datasets live in ../shared/data; see its README)`);
  return path;
}

/**
 * Sessions with their start times → a time-ordered split: the latest `testShare` of sessions (by
 * start) are the test set. Test items the training sessions never show are dropped (no method can
 * know them); test sessions left with fewer than two items are dropped.
 */
export function timeSplit(dataset: string, sessions: readonly Int32Array[], starts: ArrayLike<number>, testShare = 0.2): SessionSplit {
  const order = sessions.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]! || a - b);
  const cut = Math.round(order.length * (1 - testShare));
  const trainRaw = order.slice(0, cut).map((i) => sessions[i]!);
  const testRaw = order.slice(cut).map((i) => sessions[i]!);
  // Re-index to the items seen in training, in order of first appearance.
  const index = new Map<number, number>();
  for (const s of trainRaw) for (const it of s) if (!index.has(it)) index.set(it, index.size);
  const train = trainRaw.map((s) => Int32Array.from(s, (it) => index.get(it)!));
  let dropped = 0;
  const test: SessionSplit['test'] = [];
  for (const s of testRaw) {
    const known = Array.from(s).filter((it) => index.has(it));
    dropped += s.length - known.length;
    // Dropping an unknown item can make two views of the same item adjacent: collapse them as the reader does.
    const kept = known.filter((it, k) => k === 0 || known[k - 1] !== it).map((it) => index.get(it)!);
    if (kept.length > 1) test.push({ session: Int32Array.from(kept), from: 1 });
  }
  return {
    dataset, items: index.size, train, test,
    notes: [`${train.length} training sessions, ${test.length} test sessions (latest ${Math.round(testShare * 100)}% by start); ${dropped} test views of items unseen in training dropped`],
  };
}

/**
 * Any session log the builder reads: `readEvents` with its column mapping, then `timeSplit`; with
 * `test`, that log's sessions are the test set.
 */
export async function loadEventLog(path: string, columns: ColumnSpec = {}, dataset = path, gapMs?: number, test?: string): Promise<SessionSplit> {
  const problems = new Problems();
  const index = new Map<string, number>();
  const data = await readEvents(need(path), { index, addUnknown: true, columns, gapMs, problems });
  if (test) {
    const held = await readEvents(need(test), { index, columns, gapMs, problems });
    return {
      dataset, items: index.size,
      train: [...data.sessions].map((s) => s.slice()),
      test: [...held.sessions].filter((s) => s.length > 1).map((s) => ({ session: s.slice(), from: 1 })),
      notes: [`train ${path}: ${data.sessions.count} sessions; test ${test}: ${held.sessions.count} sessions`, ...problems.warnings()],
    };
  }
  const split = timeSplit(dataset, [...data.sessions].map((s) => s.slice()), data.starts);
  split.notes.unshift(`${data.rows} rows → ${data.sessions.count} sessions, ${index.size} items`);
  for (const line of problems.warnings()) split.notes.push(line);
  return split;
}

/** DIGINETICA sample: given sessions; ordered by date, then `timeframe` within the session. */
export function loadDiginetica(dir: string): SessionSplit {
  const text = readFileSync(need(join(dir, 'sample_train-item-views.csv')), 'utf8');
  const bySession = new Map<string, { date: number; rows: [number, string][] }>();
  text.split('\n').slice(1).forEach((line) => {
    const [session, , item, timeframe, date] = line.trim().split(';');
    if (!session || !item || !date) return;
    const s = bySession.get(session) ?? bySession.set(session, { date: Date.parse(date), rows: [] }).get(session)!;
    s.rows.push([Number(timeframe), item]);
  });
  const ids = new Map<string, number>();
  const sessions: Int32Array[] = [];
  const starts: number[] = [];
  for (const [session, s] of bySession) {
    s.rows.sort((a, b) => a[0] - b[0]);
    const items = s.rows.map(([, id]) => ids.get(id) ?? ids.set(id, ids.size).get(id)!).filter((it, k, a) => k === 0 || a[k - 1] !== it);
    sessions.push(Int32Array.from(items));
    starts.push(s.date + Number(session) * 1e-6); // same day: by session id
  }
  return timeSplit('diginetica-sample', sessions, starts);
}

/** SASRec's Amazon Video Games: one time-ordered sequence per user; leave-last-out. */
export function loadAmazon(dir: string): SessionSplit {
  const text = readFileSync(need(join(dir, 'Video.txt')), 'utf8');
  const users = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const [u, i] = line.trim().split(/\s+/);
    if (u && i) (users.get(u) ?? users.set(u, []).get(u)!).push(Number(i) - 1);
  }
  let items = 0;
  for (const seq of users.values()) for (const i of seq) items = Math.max(items, i + 1);
  const train: Int32Array[] = [];
  const test: SessionSplit['test'] = [];
  for (const seq of users.values()) {
    // The last item is the test target; everything before it trains (SASRec's protocol, no validation item).
    if (seq.length > 1) test.push({ session: Int32Array.from(seq), from: seq.length - 1 });
    if (seq.length > 1) train.push(Int32Array.from(seq.slice(0, -1)));
  }
  return { dataset: 'amazon-videogames-sasrec', items, train, test, notes: [`${users.size} users, ${items} items; each user's last item is the test target`] };
}

/** MovieLens latest-small: ratings per user, split into sessions at 30-minute pauses by the builder's reader. */
export function loadMovielens(dir: string): Promise<SessionSplit> {
  return loadEventLog(join(dir, 'ratings.csv'), { user: 'userId', item: 'movieId', time: 'timestamp' }, 'movielens-latest-small');
}

/** Items named by strings → dense indices. */
class Names {
  readonly index = new Map<string, number>();
  readonly list: string[] = [];
  of(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(name, i);
      this.list.push(name);
    }
    return i;
  }
}

/** Splits baskets in file (time) order: the last `testShare` are the test set; drops test items unseen in training. */
function basketSplit(dataset: string, baskets: number[][], names: Names, testShare = 0.2): Omit<BasketSplit, 'categories' | 'categoryNames'> {
  const cut = Math.round(baskets.length * (1 - testShare));
  return trainTest(dataset, baskets.slice(0, cut), baskets.slice(cut), names.list, `last ${Math.round(testShare * 100)}% in time order`);
}

/** Training and test baskets → a split; test items unseen in training are dropped. */
function trainTest(dataset: string, trainRaw: ArrayLike<number>[], testRaw: ArrayLike<number>[], names: string[], how = 'last 20% in time order'): Omit<BasketSplit, 'categories' | 'categoryNames'> {
  const train = trainRaw.filter((b) => b.length > 1).map((b) => Int32Array.from(b));
  const known = new Set<number>();
  for (const b of train) for (const i of b) known.add(i);
  const test = testRaw.map((b) => Array.from(b).filter((i) => known.has(i))).filter((b) => b.length > 1).map((b) => Int32Array.from(b));
  return { dataset, items: names.length, names, train, test, notes: [`${train.length} training and ${test.length} test baskets of two or more items (${how})`] };
}

/**
 * Any purchase log the builder reads (`readBaskets`: order and product columns, an optional time
 * column): the test baskets are `test`'s, else the latest 20% by time, else — without a time
 * column — a seeded 20%.
 */
export async function loadBasketLog(path: string, columns: ColumnSpec = {}, test?: string, seed = 1): Promise<BasketSplit> {
  const problems = new Problems();
  const index = new Map<string, number>();
  const log = await readBaskets(need(path), { index, addUnknown: true, columns, problems });
  const baskets = [...log.baskets];
  let split: Omit<BasketSplit, 'categories' | 'categoryNames'>;
  if (test) {
    const other = await readBaskets(need(test), { index, columns, problems });
    split = trainTest(path, baskets, [...other.baskets], [], `test baskets from ${test}`);
  } else if (log.timed) {
    const cut = Math.round(baskets.length * 0.8);
    split = trainTest(path, baskets.slice(0, cut), baskets.slice(cut), []);
  } else {
    const order = shuffledIndices(baskets.length, createRng(seed + 23));
    const cut = Math.round(order.length * 0.8);
    split = trainTest(path, order.slice(0, cut).map((i) => baskets[i]!), order.slice(cut).map((i) => baskets[i]!), [], 'a seeded 20%: the log has no time column');
  }
  const names = [...index.keys()];
  return { ...split, items: names.length, names, categories: new Int32Array(names.length), categoryNames: [], notes: [...split.notes, ...problems.warnings()] };
}

/** arules Groceries: one basket per line, in time order, no header. */
export function loadGroceries(dir: string): BasketSplit {
  const names = new Names();
  const baskets = readFileSync(need(join(dir, 'groceries.csv')), 'utf8')
    .split('\n')
    .map((line) => [...new Set(line.split(',').map((s) => s.trim()).filter(Boolean).map((s) => names.of(s)))]);
  return { ...basketSplit('groceries-arules', baskets, names), categories: new Int32Array(names.list.length), categoryNames: [] };
}

/** Bakery transactions (`Date,Time,Transaction,Item`, numbered in time order); `NONE` rows dropped. */
export function loadBakery(dir: string): BasketSplit {
  const names = new Names();
  const byTx = new Map<number, Set<number>>();
  readFileSync(need(join(dir, 'BreadBasket_DMS.csv')), 'utf8')
    .split('\n')
    .slice(1)
    .forEach((line) => {
      const [, , tx, item] = line.trim().split(',');
      if (!tx || !item || item === 'NONE') return;
      const t = Number(tx);
      (byTx.get(t) ?? byTx.set(t, new Set()).get(t)!).add(names.of(item));
    });
  const baskets = [...byTx.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => [...s]);
  return { ...basketSplit('bakery-breadbasket', baskets, names), categories: new Int32Array(names.list.length), categoryNames: [] };
}

/**
 * Polyvore Outfits (valid split): outfits of items with fine categories and 11 semantic groups. No
 * time: outfits are split by a seeded shuffle. Compatibility rows are kept when they are real outfits
 * of the test split, or negatives (which mix items of many outfits).
 */
export function loadPolyvore(dir: string, seed = 1): BasketSplit {
  const outfits = JSON.parse(readFileSync(need(join(dir, 'valid.json')), 'utf8')) as { set_id: string; items: { item_id: string; index: number }[] }[];
  const fine = JSON.parse(readFileSync(need(join(dir, 'train_category.json')), 'utf8')) as Record<string, string>;
  const semantic = new Map<string, string>();
  const fineName = new Map<string, string>();
  for (const line of readFileSync(need(join(dir, 'categories.csv')), 'utf8').split('\n')) {
    const [id, name, group] = line.split(',').map((s) => s?.trim());
    if (!id) continue;
    fineName.set(id, name || id);
    semantic.set(id, group || '');
  }
  const names = new Names();
  const slot = new Map<string, number>();
  const lists = outfits.map((o) => o.items.map((it) => {
    const i = names.of(it.item_id);
    slot.set(`${o.set_id}_${it.index}`, i);
    return i;
  }));
  const cats = new Names();
  const groups = new Names();
  const categories = new Int32Array(names.list.length);
  const groupOf = new Int32Array(names.list.length);
  names.list.forEach((id, i) => {
    const c = fine[id];
    if (c === undefined) return;
    categories[i] = cats.of(fineName.get(c) ?? c) + 1;
    const g = semantic.get(c);
    if (g) groupOf[i] = groups.of(g) + 1;
  });
  const rng = createRng(seed + 17);
  const order = shuffledIndices(outfits.length, rng);
  const cut = Math.round(order.length * 0.8);
  const testSets = new Set(order.slice(cut).map((i) => outfits[i]!.set_id));
  const train = order.slice(0, cut).map((i) => Int32Array.from(lists[i]!)).filter((b) => b.length > 1);
  const test = order.slice(cut).map((i) => Int32Array.from(lists[i]!)).filter((b) => b.length > 1);
  // Compatibility: the real test outfits of compatibility_valid.txt against negatives made the way
  // its own are (every item swapped for a random item of the same semantic group), drawn from the
  // test outfits' items. The file's negatives mix items from all outfits, most of them training
  // items, so any method that knows the training data (even popularity: AUC 0.04) tells them apart
  // from test outfits by familiarity, not by fit.
  const testPool = new Map<number, number[]>();
  for (const b of test) for (const i of b) (testPool.get(groupOf[i]!) ?? testPool.set(groupOf[i]!, []).get(groupOf[i]!)!).push(i);
  const compatibility: NonNullable<BasketSplit['compatibility']> = [];
  for (const line of readFileSync(need(join(dir, 'compatibility_valid.txt')), 'utf8').split('\n')) {
    const [label, ...refs] = line.trim().split(/\s+/);
    if (label !== '1' || refs.length < 2 || !testSets.has(refs[0]!.split('_')[0]!)) continue;
    const items = refs.map((r) => slot.get(r));
    if (items.some((i) => i === undefined)) continue;
    compatibility.push({ label: 1, items: Int32Array.from(items as number[]) });
    const swapped = (items as number[]).map((i) => {
      const pool = testPool.get(groupOf[i]!)!;
      return pool[rng.int(pool.length)]!;
    });
    compatibility.push({ label: 0, items: Int32Array.from(swapped) });
  }
  return {
    dataset: 'polyvore-outfits-valid', items: names.list.length, names: names.list, categories, categoryNames: cats.list, groups: groupOf, train, test, compatibility,
    notes: [
      `${train.length} training and ${test.length} test outfits (seeded shuffle: no time order in the data); ${cats.list.length} categories, ${groups.list.length} semantic groups`,
      `compatibility: ${compatibility.filter((c) => c.label).length} real test outfits vs as many with every item swapped for a random test item of its group; fill-in-the-blank draws its three wrong answers from the test items of the held-out item's group`,
      "no product images: the dataset's multi-GB image archive is not available offline, so the pair model reads the items' fine categories and semantic groups only, without image features",
    ],
  };
}
