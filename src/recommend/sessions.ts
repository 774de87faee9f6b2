/** Thirty minutes: the pause that starts a new session (seed §1). */
export const SESSION_GAP_MS = 30 * 60 * 1000;

export interface TimedEvent {
  productId: string;
  /** Unix milliseconds. */
  at: number;
}

/**
 * Splits one shopper's events into sessions: a pause longer than `gapMs` between consecutive
 * events starts a new one. Events are sorted by time first (stable for equal times).
 */
export function splitSessions<E extends TimedEvent>(events: readonly E[], gapMs = SESSION_GAP_MS): E[][] {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const sessions: E[][] = [];
  let current: E[] = [];
  for (const e of sorted) {
    if (current.length && e.at - current[current.length - 1]!.at > gapMs) {
      sessions.push(current);
      current = [];
    }
    current.push(e);
  }
  if (current.length) sessions.push(current);
  return sessions;
}

/** The events of the session that is still open at `now` (none if the last event is older than the gap). */
export function currentSession<E extends TimedEvent>(events: readonly E[], now: number, gapMs = SESSION_GAP_MS): E[] {
  const sessions = splitSessions(events, gapMs);
  const last = sessions[sessions.length - 1];
  if (!last || now - last[last.length - 1]!.at > gapMs) return [];
  return last;
}

/** Groups events by a key (user or session id), keeping each group's input order. */
export function groupBy<E>(events: readonly E[], key: (e: E) => string): Map<string, E[]> {
  const groups = new Map<string, E[]>();
  for (const e of events) {
    const k = key(e);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  return groups;
}

/** Sessions (or baskets) stored flat: list `s` is `items[offsets[s] .. offsets[s + 1])`. */
export interface SessionLists {
  items: Int32Array;
  offsets: Int32Array;
}

/** Lists as flat {@link SessionLists}, keeping each list's latest `keepLatest` items. */
export function sessionLists(lists: Iterable<ArrayLike<number>>, keepLatest = Infinity): SessionLists {
  const offsets: number[] = [0];
  const items: number[] = [];
  for (const s of lists) {
    for (let i = Math.max(0, s.length - keepLatest); i < s.length; i++) items.push(s[i]!);
    offsets.push(items.length);
  }
  return { items: Int32Array.from(items), offsets: Int32Array.from(offsets) };
}

/** List `s` of flat lists, as a view. */
export const sessionAt = (lists: SessionLists, s: number): Int32Array => lists.items.subarray(lists.offsets[s]!, lists.offsets[s + 1]!);
