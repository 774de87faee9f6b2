/**
 * The next row: what this shopper will likely view next, from their current session (the browse
 * history in IndexedDB), by the method the builder chose on the store's own data.
 */
import { once } from '../../bundle/once.js';
import { needsModel } from '../../recommend/next-view-config.js';
import type { SessionIndex } from '../../recommend/next-view.js';
import { currentSession } from '../../recommend/sessions.js';
import type { NextViewModel } from '../../model/runtime.js';
import type { BackendInfo, RowQuery, RowResult } from '../../protocol.js';
import { loading, wanted, type OpenBundle, type RowContext } from '../context.js';
import { pagedNext } from '../paged.js';

export async function nextRow(ctx: RowContext, q: RowQuery, b: OpenBundle): Promise<RowResult> {
  const n = b.bundle.manifest.nextView;
  if (!n) return { row: 'next', basis: 'often-next', items: [] };
  const views = (await (await ctx.history).list()).filter((e) => e.kind === 'view');
  const paged = b.bundle.manifest.paged;
  if (paged) {
    const ids: string[] = [];
    for (const e of [...currentSession(views, Date.now()), { productId: q.product }]) if (e.productId && ids[ids.length - 1] !== e.productId) ids.push(e.productId);
    await b.firstRows.get(q.product);
    const listed = await pagedNext(b.bundle, ids, paged.nextDepth, wanted(q));
    return { row: 'next', basis: ids.length > 1 ? 'session' : 'often-next', items: await ctx.toItems(b, listed.hits, q, listed.item) };
  }
  // The shopper's current session, as bundle indices, repeats of the same product collapsed;
  // the page's product is its latest view (also when history is off and nothing was recorded).
  const session: number[] = [];
  for (const e of currentSession(views, Date.now())) {
    const i = b.index.get(e.productId);
    if (i !== undefined && session[session.length - 1] !== i) session.push(i);
  }
  const self = b.index.get(q.product);
  if (self !== undefined && session[session.length - 1] !== self) session.push(self);
  if (!session.length) return { row: 'next', basis: 'often-next', items: [] };
  // The scorer is its own chunk: the first row never waits for it.
  const scorer = await import('../../recommend/next-view.js');
  const sessionsFile = n.sessions;
  if (!sessionsFile) return { row: 'next', basis: 'often-next', items: [] };
  const ix = await once<SessionIndex>(b.models, 'sessions', async () => {
    await b.primary;
    return scorer.indexSessions(await b.bundle.sessions(sessionsFile), b.items.length);
  });
  let model: Float64Array | undefined;
  let backend: BackendInfo | undefined;
  if (n.model && needsModel(session, n.method)) {
    const ref = n.model;
    const loaded = await ctx.tf(q.backend);
    backend = loaded.backend;
    const nv = await once<NextViewModel>(b.models, 'next', async () => {
      const { header, weights } = await b.bundle.tensors(ref);
      return loading(ref.model, () => loaded.rt.NextViewModel.load(header, weights, b.items.length, ref.model));
    });
    model = scorer.modelProbabilities(await nv.scores(session));
  }
  const hits = scorer.nextViewTop(ix, session, n.method, wanted(q), new Set(session), model);
  // One view: "often viewed after this"; more: read from this shopper's session.
  return { row: 'next', basis: session.length > 1 ? 'session' : 'often-next', items: await ctx.toItems(b, hits, q), ...(backend ? { backend } : {}) };
}
