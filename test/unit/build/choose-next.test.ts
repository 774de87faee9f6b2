import { beforeAll, describe, expect, it } from 'vitest';
import { buildNextView, chooseNextView, shipNextView } from '../../../src/build/choose-next.js';
import { sampleSessions } from '../../../src/recommend/next-view.js';
import { sessionLists } from '../../../src/recommend/sessions.js';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { decodeSessions } from '../../../src/bundle/session-file.js';
import { NextViewModel } from '../../../src/model/next-view.js';
import { indexSessions, modelProbabilities, nextViewScores } from '../../../src/recommend/next-view.js';
import { createRng } from '../../../src/recommend/rng.js';
import { topIndices } from '../../../src/recommend/select.js';

beforeAll(async () => {
  await initNodeTf();
});

/**
 * Shoppers who browse a catalog in order: a session walks 40 products forwards from a random start,
 * a step or two at a time. What comes next is the next product along, which sequential rules read
 * and plain session-kNN (every product of a neighbour alike) does not.
 */
function walks(count: number, items: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    let at = rng.int(items);
    return Array.from({ length: 3 + rng.int(6) }, () => (at = (at + 1 + (rng.next() < 0.2 ? 1 : 0)) % items));
  });
}

describe('chooseNextView', () => {
  it('picks what the held-back sessions say, shows the table, and states why', async () => {
    const lines: string[] = [];
    const choice = await chooseNextView(walks(1500, 40, 1), 40, { seed: 1, model: 'off', log: (l) => lines.push(l) });
    // The rules (or session-kNN moved to weigh nearby views) beat V-SKNN's defaults.
    const vsknn = choice.table.find((r) => r.name === 'session-kNN (V-SKNN defaults)')!;
    const chosen = choice.table.find((r) => r.chosen)!;
    expect(chosen.score).toBeGreaterThan(vsknn.score + 0.1);
    expect(choice.validation!.score).toBe(chosen.score);
    expect(choice.validation!.queries).toBeGreaterThan(500);
    expect(choice.validation!.sessions).toBe(225);
    expect(choice.reason.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes('GRU: off'))).toBe(true);
    expect(choice.config.model).toBeUndefined();
    // What it chose, blended or not, scores the next product along first for most sessions.
    const ix = indexSessions(sessionLists(walks(1500, 40, 1)), 40);
    let first = 0;
    for (let x = 0; x < 40; x++) first += topIndices(nextViewScores(ix, [x, (x + 1) % 40], choice.config), 1, new Set([x, (x + 1) % 40]))[0]!.index === (x + 2) % 40 ? 1 : 0;
    expect(first).toBeGreaterThanOrEqual(36);
  });

  it('ships V-SKNN’s defaults, unvalidated, when there is too little to validate on', async () => {
    const choice = await chooseNextView(walks(40, 40, 2), 40, { seed: 1 });
    expect(choice.config).toEqual({ maxLength: 20, sknn: { k: 100, sample: 500, decay: 0, proximity: 0, before: 1, recency: 0, weight: 1 } });
    expect(choice.validation).toBeUndefined();
    expect(choice.reason).toMatch(/fewer than 30/);
  });

  it('trains the GRU with early stopping where the data feed it, and ships it only inside the chosen blend', async () => {
    const lines: string[] = [];
    const sessions = walks(2000, 30, 3);
    const part = await buildNextView(sessions, 30, { seed: 1, dims: 16, maxEpochs: 3, log: (l) => lines.push(l) });
    const gru = part.choice.table.find((r) => r.name.startsWith('GRU'));
    expect(gru).toBeDefined();
    expect(lines.filter((l) => /GRU epoch \d: loss/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => /GRU epoch \d: loss/.test(l)).length).toBeLessThanOrEqual(3);
    // Here the rules alone read these walks perfectly: a blend with the GRU gains nothing, so none ships.
    expect(part.choice.config.model).toBeUndefined();
    expect(part.model).toBeUndefined();
    // The sample holds every session here (each product's 500 most recent: all of them).
    expect(part.sample.sessions).toBe(2000);
  }, 60_000);

  it('ships a chosen blend with the GRU retrained on all sessions for the chosen epochs', async () => {
    const sessions = walks(2000, 30, 3);
    const lines: string[] = [];
    const choice = { config: { maxLength: 20, rules: { window: 1, depth: 1, sample: 500, weight: 1 }, model: { weight: 0.25 } }, metric: 'MRR@20:new' as const, table: [], reason: 'given', modelEpochs: 4 };
    const part = await shipNextView(sessions, 30, choice, { seed: 1, dims: 16, log: (l) => lines.push(l) });
    expect(lines.filter((l) => /GRU on all sessions, epoch \d of 4/.test(l))).toHaveLength(4);
    expect(part.model!.params).toBeGreaterThan(30 * 16);
    const model = NextViewModel.load(part.model!.header, part.model!.data.slice().buffer, 30);
    const ix = indexSessions(decodeSessions(part.sessions, 30, 's'), 30);
    const s = nextViewScores(ix, [4, 5], choice.config, modelProbabilities(await model.scores([4, 5])));
    expect(topIndices(s, 1, new Set([4, 5]))[0]!.index).toBe(6);
    model.dispose();
  }, 60_000);

  it('does not train the GRU on a log too thin to feed it', async () => {
    const lines: string[] = [];
    await chooseNextView(walks(300, 400, 4), 400, { seed: 1, log: (l) => lines.push(l) });
    expect(lines.some((l) => /GRU: not trained — \d+ training views for \d+ products/.test(l))).toBe(true);
  });
});

describe('sampleSessions', () => {
  it('keeps each product’s most recent sessions, in time order', () => {
    const all = sessionLists([[0, 1], [0, 2], [1, 2], [0, 3]]);
    const kept = sampleSessions(all, 4, 1);
    // Newest first: [0, 3] keeps 0 and 3; [1, 2] keeps 1 and 2; [0, 2] and [0, 1] add nothing new.
    expect(Array.from(kept.items)).toEqual([1, 2, 0, 3]);
    expect(Array.from(kept.offsets)).toEqual([0, 2, 4]);
  });
});
