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
