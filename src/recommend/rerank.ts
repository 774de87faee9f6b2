import type { Scored } from './select.js';

/**
 * Re-ranks for variety (seed §4): keeps score order, but a group (a category) gets at most
 * `perGroup` of the first `limit` places while other groups have candidates; the rest fill up
 * after. "Goes with" for trousers should offer shoes *and* tops, not six sandals.
 */
export function diversify(hits: readonly Scored[], groupOf: (index: number) => string | undefined, limit: number, perGroup = Math.max(1, Math.ceil(limit / 3))): Scored[] {
  const out: Scored[] = [];
  const held: Scored[] = [];
  const count = new Map<string, number>();
  for (const h of hits) {
    if (out.length === limit) break;
    const g = groupOf(h.index);
    const n = g === undefined ? 0 : count.get(g) ?? 0;
    if (g !== undefined && n >= perGroup) {
      held.push(h);
      continue;
    }
    if (g !== undefined) count.set(g, n + 1);
    out.push(h);
  }
  for (const h of held) {
    if (out.length === limit) break;
    out.push(h);
  }
  return out;
}
