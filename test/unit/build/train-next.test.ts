import { describe, expect, it } from 'vitest';
import { sessionChunks } from '../../../src/build/train-next.js';

describe('sessionChunks', () => {
  it('cuts sessions into right-padded chunks of maxLength + 1 items, continuing from the last item', () => {
    const { chunks, count, positions } = sessionChunks([[4, 0, 7, 2, 9], [3], [5, 6]], 3);
    expect(count).toBe(3);
    expect([...chunks]).toEqual([5, 1, 8, 3, 3, 10, 0, 0, 6, 7, 0, 0]);
    expect(positions).toBe(3 + 1 + 1);
  });
});
