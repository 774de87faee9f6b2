import { test as base, expect, type Page, type Request } from '@playwright/test';
import { serve, type Served, type ServeOptions } from '../../scripts/serve.js';

export { expect };

/** The rows' shadow-DOM selectors, the element's theming contract. */
export const row = (kind: string) => `vitrine-recs >> [part~="row"][data-row="${kind}"]`;
export const items = (kind: string) => `${row(kind)} >> [part~="item"]`;

/** Ids of a row's items, in order. */
export async function rowIds(page: Page, kind: string, host = 'vitrine-recs'): Promise<string[]> {
  const sel = `${host} >> [part~="row"][data-row="${kind}"] >> [part~="item"]`;
  await page.locator(sel).first().waitFor();
  return page.locator(sel).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.productId!));
}

/** Fails a test on any uncaught exception or unhandled rejection in the page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export interface Fixtures {
  /** Every request the page (and its workers) made. */
  requests: Request[];
}

export interface WorkerFixtures {
  /** The demo store: public/, dist/, models/ on one origin. */
  store: Served;
  /** Starts another server (a CDN, a store with other headers); closed after the test file. */
  startServer: (opts: ServeOptions) => Promise<Served>;
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  store: [
    async ({}, use) => {
      const s = await serve({ port: 0, host: '127.0.0.1' });
      await use(s);
      await s.close();
    },
    { scope: 'worker' },
  ],
  startServer: [
    async ({}, use) => {
      const started: Served[] = [];
      await use(async (opts) => {
        const s = await serve({ port: 0, host: '127.0.0.1', ...opts });
        started.push(s);
        return s;
      });
      await Promise.all(started.map((s) => s.close()));
    },
    { scope: 'worker' },
  ],
  requests: async ({ context }, use) => {
    const seen: Request[] = [];
    context.on('request', (r) => seen.push(r));
    await use(seen);
  },
});
