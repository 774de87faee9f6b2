import { describe, expect, it } from 'vitest';
import { currentSession, groupBy, SESSION_GAP_MS, splitSessions } from '../../../src/recommend/sessions.js';

const MIN = 60_000;
const ev = (productId: string, at: number) => ({ productId, at });

describe('splitSessions', () => {
  it('starts a new session after a pause longer than 30 minutes, not at exactly 30', () => {
    const events = [ev('a', 0), ev('b', 10 * MIN), ev('c', 40 * MIN), ev('d', 40 * MIN + SESSION_GAP_MS + 1)];
    expect(splitSessions(events).map((s) => s.map((e) => e.productId))).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('sorts by time first, keeping equal times in input order', () => {
    const events = [ev('late', 5 * MIN), ev('x', 0), ev('y', 0)];
    expect(splitSessions(events)[0]!.map((e) => e.productId)).toEqual(['x', 'y', 'late']);
  });

  it('honours another gap', () => {
    expect(splitSessions([ev('a', 0), ev('b', 2 * MIN)], MIN)).toHaveLength(2);
    expect(splitSessions([])).toEqual([]);
  });
});

describe('currentSession', () => {
  const events = [ev('old', 0), ev('a', 2 * 60 * MIN), ev('b', 2 * 60 * MIN + 5 * MIN)];
  it('is the last session while it is still open', () => {
    expect(currentSession(events, 2 * 60 * MIN + 20 * MIN).map((e) => e.productId)).toEqual(['a', 'b']);
  });
  it('is empty once the last event is older than the gap', () => {
    expect(currentSession(events, 2 * 60 * MIN + 5 * MIN + SESSION_GAP_MS + 1)).toEqual([]);
  });
});

describe('groupBy', () => {
  it('groups and keeps input order within a group', () => {
    const g = groupBy([{ u: 'x', n: 1 }, { u: 'y', n: 2 }, { u: 'x', n: 3 }], (e) => e.u);
    expect([...g.keys()]).toEqual(['x', 'y']);
    expect(g.get('x')!.map((e) => e.n)).toEqual([1, 3]);
  });
});
