import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { expect, items, test, watchErrors } from './fixtures.js';

/**
 * Storage faults, in Chromium with the real worker and the real IndexedDB: storage blocked or
 * broken, storage full, the database upgraded or deleted by another tab, and tabs writing at once.
 * History must keep working for the page, say so once when it falls back to memory, never drop
 * the newest event, and never lose one silently.
 */

/** A store page with nothing but the widget's script: the history API is all these tests use. */
const pages = mkdtempSync(join(tmpdir(), 'vitrine-storage-'));
writeFileSync(join(pages, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="/dist/vitrine.js"></script></head><body></body></html>');
const ROOTS = { '/': pages, '/dist/': 'dist', '/models/': 'models' };

type Event = { productId: string; kind: string; at: number };

const record = (page: Page, ids: string[]) =>
  page.evaluate(async (ids) => {
    const { recordEvent } = await import('/dist/vitrine.js' as string);
    await Promise.all(ids.map((id: string) => recordEvent(id, 'view')));
  }, ids);

const history = (page: Page): Promise<string[]> =>
  page.evaluate(async () => ((await (await import('/dist/vitrine.js' as string)).getHistory()) as Event[]).map((e) => e.productId));

/** The events in the widget's database, read directly (oldest first), or null when there is no database. */
const stored = (page: Page): Promise<string[] | null> =>
  page.evaluate(async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === 'vitrine-history')) return null;
    return new Promise<string[] | null>((resolve, reject) => {
      const req = indexedDB.open('vitrine-history');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('events')) return resolve((db.close(), null));
        const events = db.transaction('events').objectStore('events');
        const all = (events.indexNames.contains('at') ? events.index('at') : events).getAll();
        all.onsuccess = () => (resolve((all.result as { productId: string }[]).map((e) => e.productId)), db.close());
      };
    });
  });

/** What a store would see from here on: uncaught errors, and the widget's console messages (the worker's are reported on the page too). */
function watched(page: Page): { errors: string[]; messages: string[] } {
  const messages: string[] = [];
  page.on('console', (m) => m.text().startsWith('[vitrine]') && messages.push(m.text()));
  return { errors: watchErrors(page), messages };
}

/** Runs `code` in the worker before the widget's own code: breaks IndexedDB in the worker's scope only. */
const breakWorkerIdb = (context: BrowserContext, code: string) =>
  context.route('**/dist/vitrine-worker.js', async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, body: `${code}\n${await res.text()}` });
  });

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

/** After a fallback: one message saying so, history works for the page, in order, and is not in IndexedDB. */
async function expectMemoryFallback(page: Page, messages: string[], errors: string[], dbAfter: string[] | null = null) {
  await record(page, ['M1', 'M2']);
  await record(page, ['M3']);
  expect(await history(page)).toEqual(['M1', 'M2', 'M3']);
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatch(/^\[vitrine\] browse history is kept in memory for this page only/);
  expect(await stored(page)).toEqual(dbAfter);
  expect(errors).toEqual([]);
}

test.describe('IndexedDB unavailable: history falls back to memory for the page, said once', () => {
  test('storage blocked in Chromium’s settings (cookies and site data blocked)', async ({ playwright, store }) => {
    // A real profile whose settings block site data: IndexedDB is denied everywhere, as a shopper
    // who blocks cookies has it.
    const profile = mkdtempSync(join(tmpdir(), 'vitrine-profile-'));
    mkdirSync(join(profile, 'Default'));
    writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { default_content_setting_values: { cookies: 2 } } }));
    const context = await playwright.chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const { errors, messages } = watched(page);
      await page.goto(`${store.url}product.html?id=VT0001`);
      const denied = () => new Promise((resolve) => Object.assign(indexedDB.open('probe'), { onsuccess: () => resolve('allowed'), onerror: () => resolve('denied') }));
      expect(await page.evaluate(denied)).toBe('denied');
      // The widget still shows its rows and records the view, in memory.
      await expect(page.locator(items('similar')).first()).toBeVisible();
      await expect.poll(() => history(page)).toEqual(['VT0001']);
      await expect(page.locator(items('next')).first()).toBeVisible();
      await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).clearHistory());
      expect(await history(page)).toEqual([]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('kept in memory for this page only');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  const broken: [string, string][] = [
    ['indexedDB is missing from the worker', 'Object.defineProperty(self, "indexedDB", { value: undefined });'],
    ['indexedDB.open throws (storage denied)', 'IDBFactory.prototype.open = () => { throw new DOMException("denied", "SecurityError"); };'],
    // Some browsers' private modes leave an open request unanswered forever.
    ['indexedDB.open never answers', 'IDBFactory.prototype.open = () => Object.setPrototypeOf(new EventTarget(), IDBOpenDBRequest.prototype);'],
  ];
  for (const [name, code] of broken) {
    test(name, async ({ page, context, startServer }) => {
      const server = await startServer({ roots: ROOTS });
      const { errors, messages } = watched(page);
      await breakWorkerIdb(context, code);
      await page.goto(server.url);
      await expectMemoryFallback(page, messages, errors);
    });
  }

  test('the database already has a newer schema (another tab upgraded it): VersionError', async ({ page, startServer }) => {
    const server = await startServer({ roots: ROOTS });
    const { errors, messages } = watched(page);
    await page.goto(server.url);
    await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const req = indexedDB.open('vitrine-history', 7);
          req.onupgradeneeded = () => req.result.createObjectStore('events').put({ productId: 'NEWER', kind: 'view', at: 1 }, 1);
          req.onsuccess = () => resolve(req.result.close());
          req.onerror = () => reject(req.error);
        }),
    );
    // The newer schema's data is left alone.
    await expectMemoryFallback(page, messages, errors, ['NEWER']);
    expect(messages[0]).toMatch(/version/i);
  });
});

test.describe('storage full', () => {
  test('a real quota (set through the DevTools protocol): the newest event is never lost — the oldest are evicted, or history moves to memory, said once', async ({ page, context, browser, startServer }) => {
    const server = await startServer({ roots: ROOTS });
    const origin = new URL(server.url).origin;
    const { errors, messages } = watched(page);
    // What an empty database and an event take differs between Chromium versions (and their
    // IndexedDB backends): measured first in a context of its own, the quota is then set, before the
    // database opens (Chromium reads an open database's quota once), to fill up after about 300 of
    // the 800 events — fewer than maxEvents (1000).
    const probe = await browser.newContext();
    const measure = await probe.newPage();
    await measure.goto(server.url);
    const usage = async () => (await (await probe.newCDPSession(measure)).send('Storage.getUsageAndQuota', { origin })).usage;
    await record(measure, ['first']);
    const empty = await usage();
    await record(measure, ids('P', 200));
    const perEvent = Math.max(1, ((await usage()) - empty) / 200);
    await probe.close();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: Math.round(empty + 300 * perEvent) });
    await page.goto(server.url);
    const sent = ids('Q', 800);
    for (let i = 0; i < sent.length; i += 100) await record(page, sent.slice(i, i + 100));
    const kept = await history(page);
    // Whatever the browser does, the newest event is there, and what is kept is an unbroken run up
    // to it: only the oldest were evicted, none lost silently.
    expect(kept.length).toBeGreaterThan(50);
    expect(kept).toEqual(sent.slice(-kept.length));
    if (messages.length) {
      // A browser that frees deleted space only later (Chromium 150's IndexedDB): evicting cannot make
      // room, so the history moves to memory for the page — with every event — and says so once.
      expect(messages).toEqual([expect.stringMatching(/^\[vitrine\] browse history is kept in memory for this page only: IndexedDB could not be used \(QuotaExceededError\)$/)]);
      expect(kept).toEqual(sent);
      // The database keeps what it had when it filled up, less what was evicted: an unbroken run.
      const inDb = (await stored(page)) ?? [];
      const from = sent.indexOf(inDb[0]!);
      expect(inDb.length).toBeGreaterThan(0);
      expect(inDb).toEqual(sent.slice(from, from + inDb.length));
      console.log(`storage full: this Chromium freed no space by evicting; history moved to memory with all ${kept.length} events (${inDb.length} left in IndexedDB)`);
    } else {
      // Storage did fill up (else this test proves nothing), and eviction made room: still in IndexedDB.
      expect(kept.length).toBeLessThan(sent.length);
      expect(await stored(page)).toEqual(kept);
      console.log(`storage full: the oldest ${sent.length - kept.length} of ${sent.length} events evicted, ${kept.length} kept in IndexedDB`);
    }
    expect(errors).toEqual([]);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  });

  test('no room can be made (every add refused): the events move to memory with the new one, nothing lost', async ({ page, context, startServer }) => {
    const server = await startServer({ roots: ROOTS });
    const { errors, messages } = watched(page);
    // A disk that is full whatever is deleted: after 20 events every add fails as Chromium's do.
    await breakWorkerIdb(
      context,
      `{ const add = IDBObjectStore.prototype.add; let n = 0;
         IDBObjectStore.prototype.add = function (...a) { if (++n > 20) throw new DOMException('', 'QuotaExceededError'); return add.apply(this, a); }; }`,
    );
    await page.goto(server.url);
    const before = ids('A', 20);
    await record(page, before);
    expect(await stored(page)).toEqual(before);
    const after = ids('B', 20);
    await record(page, after);
    expect(await history(page)).toEqual([...before, ...after]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/kept in memory for this page only.*QuotaExceededError/);
    // Making room evicted only the oldest from the database.
    const left = (await stored(page))!;
    expect(left).toEqual(before.slice(-left.length));
    expect(errors).toEqual([]);
  });
});

test('another tab upgrades the database: it is not blocked, and this page keeps its history in memory', async ({ page, context, startServer }) => {
  const server = await startServer({ roots: ROOTS });
  const { errors, messages } = watched(page);
  await page.goto(server.url);
  await record(page, ['OLD1', 'OLD2']);
  // The widget's worker holds the database open now.
  const other = await context.newPage();
  await other.goto(server.url);
  const outcome = await other.evaluate(
    () =>
      new Promise<{ blocked: boolean; version: number; events: number }>((resolve, reject) => {
        let blocked = false;
        const req = indexedDB.open('vitrine-history', 3); // a newer release than this one's v2
        req.onblocked = () => (blocked = true);
        req.onupgradeneeded = () => req.result.createObjectStore('v3');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const count = db.transaction('events').objectStore('events').count();
          count.onsuccess = () => resolve({ blocked, version: db.version, events: count.result });
          // Kept open, as the newer tab would.
        };
        setTimeout(() => reject(new Error('the upgrade is still blocked after 20 s')), 20_000);
      }),
  );
  expect(outcome).toEqual({ blocked: false, version: 3, events: 2 });
  await expectMemoryFallback(page, messages, errors, ['OLD1', 'OLD2']);
  expect(messages[0]).toMatch(/version/i);
});

test.describe('the database is deleted underneath: history goes on in IndexedDB', () => {
  test('by indexedDB.deleteDatabase() on the page (not blocked by the widget)', async ({ page, startServer }) => {
    const server = await startServer({ roots: ROOTS });
    const { errors, messages } = watched(page);
    await page.goto(server.url);
    await record(page, ['GONE1', 'GONE2']);
    const deleted = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const req = indexedDB.deleteDatabase('vitrine-history');
          req.onblocked = () => resolve('blocked');
          req.onsuccess = () => resolve('deleted');
          req.onerror = () => resolve(String(req.error));
        }),
    );
    expect(deleted).toBe('deleted');
    await record(page, ['AFTER']);
    expect(await history(page)).toEqual(['AFTER']);
    expect(await stored(page)).toEqual(['AFTER']);
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('by the browser clearing the site’s storage (connection closed underneath)', async ({ page, context, startServer }) => {
    const server = await startServer({ roots: ROOTS });
    const { errors, messages } = watched(page);
    await page.goto(server.url);
    await record(page, ['GONE1', 'GONE2']);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', { origin: new URL(server.url).origin, storageTypes: 'indexeddb' });
    await expect.poll(() => stored(page)).toEqual(null);
    await record(page, ['AFTER']);
    expect(await history(page)).toEqual(['AFTER']);
    expect(await stored(page)).toEqual(['AFTER']);
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });
});

test('four tabs recording 250 views each at once lose none; count eviction at the limit drops only the oldest', async ({ context, startServer }) => {
  test.setTimeout(120_000);
  const server = await startServer({ roots: ROOTS });
  const tabs = await Promise.all([0, 1, 2, 3].map(() => context.newPage()));
  const errors = tabs.flatMap((tab) => watchErrors(tab));
  for (const tab of tabs) {
    await tab.goto(server.url);
    // Each tab's worker has started and holds its own connection.
    expect(await history(tab)).toEqual([]);
  }
  const byTab = (all: string[], phase: string, t: number) => all.filter((id) => id.startsWith(`${phase}${t}-`));
  const sent = (phase: string, t: number) => ids(`${phase}${t}-`, 250);

  // Phase 1: 4 × 250 = 1000 events, exactly maxEvents: none may be evicted.
  await Promise.all(tabs.map((tab, t) => record(tab, sent('P', t))));
  let all = (await stored(tabs[0]!))!;
  expect(all).toHaveLength(1000);
  for (let t = 0; t < 4; t++) expect(byTab(all, 'P', t)).toEqual(sent('P', t));

  // Phase 2: 1000 more at once. Each add evicts exactly one: the 1000 newest are all of phase 2.
  await Promise.all(tabs.map((tab, t) => record(tab, sent('R', t))));
  all = (await stored(tabs[0]!))!;
  expect(all.filter((id) => id.startsWith('P'))).toEqual([]);
  expect(all).toHaveLength(1000);
  for (let t = 0; t < 4; t++) expect(byTab(all, 'R', t)).toEqual(sent('R', t));
  for (const tab of tabs) expect(await history(tab)).toEqual(all);

  // Phase 3: at the limit, the four tabs add one event each at the same moment, 25 times. Evicting
  // on a count read outside the add's transaction would drop more than four here, losing some of
  // the newest 1000 for good; after every round exactly 1000 must remain, the newest ones.
  let expected = all;
  for (let round = 0; round < 25; round++) {
    const added = [0, 1, 2, 3].map((t) => `S${t}-${String(round).padStart(4, '0')}`);
    await Promise.all(tabs.map((tab, t) => record(tab, [added[t]!])));
    all = (await stored(tabs[0]!))!;
    expected = [...expected.slice(4), ...all.slice(-4)];
    expect(all.slice(-4).sort()).toEqual(added);
    expect(all).toEqual(expected);
  }
  console.log('concurrent tabs: 2100 events recorded by 4 tabs; 1000 kept after phase 1 (of 1000), the newest 1000 after phase 2 and after each of 25 rounds of phase 3');
  expect(errors).toEqual([]);
});
