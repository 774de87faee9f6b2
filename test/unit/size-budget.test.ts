import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticGraph } from '../../scripts/js-graph.js';

/**
 * The widget's own JavaScript — what every product page downloads before any row needs TF.js — stays
 * small: the entry, the worker, and the chunks they import statically. TF.js and its backends are
 * imported dynamically (lazily) and are not counted here; `npm run bench` reports them.
 * Reads the production build: `npm test` builds it first.
 */
const DIST = 'dist';
const BUDGET_GZIP = 30 * 1024;

describe('size budget', () => {
  it(`the widget's own JS (entry + worker + their static imports) is at most ${BUDGET_GZIP / 1024} KB gzip`, () => {
    const entries = [join(DIST, 'vitrine.js'), join(DIST, 'vitrine-worker.js')];
    for (const e of entries) expect(existsSync(e), `${e} is missing: run \`npm run build\` first`).toBe(true);
    const files = new Set([...entries.flatMap((e) => [...staticGraph(e)])]);
    const sizes = [...files].map((f) => ({ f, gzip: gzipSync(readFileSync(f), { level: 9 }).length }));
    const total = sizes.reduce((a, s) => a + s.gzip, 0);
    // TF.js must not be in the static graph (it alone is hundreds of KB).
    for (const { f, gzip } of sizes) expect(gzip, `${f} is statically imported and ${gzip} bytes gzip`).toBeLessThan(BUDGET_GZIP);
    expect(total, sizes.map((s) => `${s.f}: ${s.gzip} B`).join(', ')).toBeLessThanOrEqual(BUDGET_GZIP);
    // TF.js core (its flag registry's message is in every build of it) is in no static file, and it is in the build: a lazy chunk.
    const tfCore = 'no evaluation function found';
    for (const f of files) expect(readFileSync(f, 'utf8').includes(tfCore), `${f} holds TF.js core`).toBe(false);
    const lazy = readdirSync(join(DIST, 'chunks')).map((c) => join(DIST, 'chunks', c)).filter((c) => !files.has(c));
    expect(lazy.some((c) => readFileSync(c, 'utf8').includes(tfCore)), 'a lazy chunk holds TF.js core').toBe(true);
  });

  it('the page loads one file before the element is defined: vitrine.js imports no chunk statically', () => {
    // A static import is one more round trip (≈ 150 ms on a phone) before the widget can start its worker.
    expect([...staticGraph(join(DIST, 'vitrine.js'))]).toEqual([join(DIST, 'vitrine.js')]);
  });
});
