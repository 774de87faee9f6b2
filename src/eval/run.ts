/**
 * `npm run eval`: every row's method next to the seeds' baselines on the real datasets in
 * ../shared/data, one run, same splits, same metrics. Writes JSON, a markdown table and an SVG
 * chart per task. Deterministic under `--seed` (every split, sample and model is seeded).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { VALIDATION_SHARE } from '../build/choose-next.js';
import { EVENT_COLUMNS } from '../build/events.js';
import { DatasetMissingError } from '../build/fashion-mnist.js';
import { initNodeTf } from '../build/node-tf.js';
import { UserError } from '../build/problems.js';
import { parseColumnSpec, type ColumnSpec } from '../build/table.js';
import { basketQueries, cooccurrencePairs, evaluatePairs, pairModelPairs, popularityPairs, trainSplitPair, vitrinePairs } from './complementary.js';
import { DataMissingError, loadAmazon, loadBakery, loadBasketLog, loadDiginetica, loadEventLog, loadGroceries, loadMovielens, loadPolyvore, type BasketSplit, type SessionSplit } from './datasets.js';
import type { GoesWithChoice } from '../build/choose-goes-with.js';
import type { NextViewChoice } from '../build/choose-next.js';
import { BASKET_COLUMNS } from '../build/baskets.js';
import { evaluateNext, itemKnnMethod, nextQueries, oneHotMethod, popularityMethod, sessionPopularityMethod, vitrineNextMethod, vsknnMethod, type NextMethod } from './next-view.js';
import { CHART_METRICS, markdownTable, rerankTable, summaryTable, svgChart, type TaskResult } from './report.js';
import type { VisualOptions, VisualResult } from './visual.js';
import { RERANK } from '../recommend/rerank.js';
import { chooseDiscount, choiceNotes as rerankChoiceNotes, DISCOUNT_MAX_LOSS, DISCOUNTS, discountResults, replayImpressions, replaySessions, validationReplay, ROW, CANDIDATES, type Replay } from './rerank.js';

export interface EvalOptions {
  data: string;
  out?: string;
  json?: string;
  seed: number;
  tasks: Set<TaskResult['task']>;
  /** Only these datasets (diginetica, amazon, movielens, groceries, bakery, polyvore, fashion-mnist); all when undefined. */
  datasets?: Set<string>;
  events?: string;
  eventsColumns?: ColumnSpec;
  baskets?: string;
  basketsColumns?: ColumnSpec;
  test?: string;
  /** Most test queries per dataset (taken evenly). */
  maxQueries: number;
  /** The seed §1 network is trained only up to this many parameters. */
  oneHotMaxParams: number;
  fmnistPerClass: number;
  fmnistDir?: string;
  /** GRU epochs at most (early stopping on held-back sessions usually ends sooner). */
  epochs?: number;
  cacheDir: string;
  progress: boolean;
  log: (line: string) => void;
}

/** What the builder chose for a dataset's training data, for the report. */
function choiceNotes(choice: NextViewChoice | GoesWithChoice): string[] {
  const v = choice.validation;
  return [
    `the builder chose: ${choice.reason}${v ? ` — validation ${choice.metric} ${v.score.toFixed(4)} [${v.lo.toFixed(4)}, ${v.hi.toFixed(4)}] on ${v.queries} held-back queries` : ''}`,
    ...choice.table.map((r) => `  validation: ${r.name}: ${r.score.toFixed(4)} [${r.lo.toFixed(4)}, ${r.hi.toFixed(4)}]${r.chosen ? ' ← chosen' : ''}${r.note ? ` (${r.note})` : ''}`),
  ];
}

/**
 * Each next-view dataset's replays of impression discounting, every setting: the validation
 * replay (`replay`) for the choice over all datasets, the test replay reported for the chosen setting.
 */
type Validations = { dataset: string; replay: Replay; test: Replay; notes: string[] }[];

/**
 * Next view on one dataset: the baselines and Vitrine (task `next-view`), and impression
 * discounting's replays (pushed onto `validations`; reported by `discountTasks` once all datasets
 * are in), both with the same Vitrine build.
 */
async function nextViewTasks(split: SessionSplit, opts: EvalOptions, validations: Validations): Promise<TaskResult[]> {
  const t0 = performance.now();
  const vitrine = await vitrineNextMethod(split, { seed: opts.seed, maxEpochs: opts.epochs, log: opts.log });
  opts.log(`next-view · ${split.dataset}: vitrine built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  try {
    const out: TaskResult[] = [];
    if (opts.tasks.has('next-view')) out.push(await nextViewTask(split, opts, vitrine));
    if (opts.tasks.has('rerank')) validations.push(await impressionReplays(split, opts, vitrine));
    return out;
  } finally {
    vitrine.dispose();
  }
}

/**
 * Impression discounting on one dataset, every setting (the scorer runs once per step for all):
 * the replay of the training split's validation sessions, and of its test sessions.
 */
async function impressionReplays(split: SessionSplit, opts: EvalOptions, vitrine: Awaited<ReturnType<typeof vitrineNextMethod>>): Promise<Validations[number]> {
  const t = performance.now();
  const v = validationReplay(split, vitrine.choice.config);
  const vSessions = replaySessions(v.sessions, opts.maxQueries);
  const replay = await replayImpressions(vSessions, v.top, DISCOUNTS);
  const sessions = replaySessions(split.test, opts.maxQueries);
  const test = await replayImpressions(sessions, vitrine.top, DISCOUNTS);
  const steps = test.rr[0]!.length;
  opts.log(`  impressions: ${replay.rr[0]!.length} validation and ${steps} test steps replayed (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  return {
    dataset: split.dataset, replay, test,
    notes: [
      `a replay of ${sessions.length} test sessions: at each step the next row (the shipped scorer's top ${ROW}, the session's products left out) re-ranked from its ${CANDIDATES} best by what it showed before; ${steps} scored steps, ${test.fresh.reduce((a, b) => a + b, 0)} of them new items (a re-view is never in the row: a miss for both)`,
      `validation: the same replay of ${vSessions.length} of the training split's latest ${Math.round(VALIDATION_SHARE * 100)}% of sessions (${replay.rr[0]!.length} steps), scored on the rest${vitrine.choice.config.model ? ', without the GRU (the validated GRU is not kept; the scorer shipped for one-view sessions)' : ''}`,
      'Δ: paired bootstrap 95% intervals over the same steps',
    ],
  };
}

/**
 * Impression discounting's choice over the datasets' validation replays, then each dataset's test
 * replay without discounting and with the chosen setting.
 */
function discountTasks(validations: Validations, seed: number, log: (line: string) => void): TaskResult[] {
  const { chosen, rows } = chooseDiscount(validations);
  const name = (d: { strength: number; free: number }) => (d.strength ? `strength ${d.strength}, free ${d.free}` : 'no discounting');
  for (const line of rerankChoiceNotes('impression discounting', rows, name(chosen), name(RERANK))) log(line.trim());
  const at = DISCOUNTS.findIndex((d) => d.strength === chosen.strength && d.free === chosen.free);
  const choice: TaskResult = {
    task: 'rerank', dataset: 'impression discounting: the choice on validation replays',
    results: rows.map((r) => ({ method: r.chosen ? `${r.name} ← chosen` : r.name, metrics: r.metrics, msPerQuery: 0 })),
    notes: [
      `the setting whose rows repeat passed-over products least (the largest mean relative drop in repeat@${ROW}: the row's products' impressions so far, on average) while HR@${ROW} drops by at most ${DISCOUNT_MAX_LOSS * 100}% on average over the validation replays of ${validations.map((v) => v.dataset).join(', ')}; changes relative to no discounting. The replay's shopper never saw these rows, so it measures what discounting costs, not what it gains`,
      ...rerankChoiceNotes('impression discounting', [], name(chosen), name(RERANK)),
    ],
  };
  return [
    choice,
    ...validations.map(({ dataset, test, notes }): TaskResult => ({
      task: 'rerank', dataset: `${dataset}: impression discounting`, notes,
      results: discountResults({ rr: [test.rr[0]!, test.rr[at]!], repeats: [test.repeats[0]!, test.repeats[at]!], fresh: test.fresh }, chosen, seed),
    })),
  ];
}

async function nextViewTask(split: SessionSplit, opts: EvalOptions, vitrine: Awaited<ReturnType<typeof vitrineNextMethod>>): Promise<TaskResult> {
  const queries = nextQueries(split, opts.maxQueries);
  opts.log(`next-view · ${split.dataset}: ${split.items} items, ${split.train.length} training sessions, ${queries.length} test queries`);
  const results = [];
  const methods: (() => NextMethod | Promise<NextMethod>)[] = [
    () => popularityMethod(split),
    () => sessionPopularityMethod(split),
    () => itemKnnMethod(split, 'count'),
    () => itemKnnMethod(split, 'jaccard'),
    () => itemKnnMethod(split, 'llr'),
    () => vsknnMethod(split),
    () => oneHotMethod(split, opts.oneHotMaxParams, opts.seed),
    () => vitrine,
  ];
  for (const make of methods) {
    const t = performance.now();
    const m = await make();
    const r = await evaluateNext(m, split, queries);
    results.push(r);
    opts.log(`  ${r.method.padEnd(12)} MRR@20 ${fmt(r.metrics['MRR@20'])}  MRR@20:new ${fmt(r.metrics['MRR@20:new'])}  HR@20:new ${fmt(r.metrics['HR@20:new'])}  ${((performance.now() - t) / 1000).toFixed(0)} s${r.note ? `  (${r.note})` : ''}`);
  }
  const n = queries.length;
  const fresh = queries.filter((q) => !q.prefix.includes(q.target)).length;
  return {
    task: 'next-view', dataset: split.dataset, results, choice: vitrine.choice,
    notes: [...split.notes, `${n} queries, ${fresh} of them new items (${((100 * (n - fresh)) / Math.max(1, n)).toFixed(0)}% re-views)`, ...choiceNotes(vitrine.choice)],
  };
}

async function complementaryTask(split: BasketSplit, opts: EvalOptions): Promise<TaskResult> {
  const queries = basketQueries(split, opts.seed, opts.maxQueries);
  opts.log(`complementary · ${split.dataset}: ${split.items} items, ${split.train.length} training lists, ${queries.length} test queries`);
  const { model, accept } = await trainSplitPair(split, opts.seed);
  const vitrine = vitrinePairs(split, model, accept, opts.seed, opts.log);
  const methods = [
    popularityPairs(split),
    cooccurrencePairs(split, 'count'),
    cooccurrencePairs(split, 'jaccard'),
    cooccurrencePairs(split, 'llr'),
    pairModelPairs(split, model),
    vitrine,
  ];
  const results = [];
  for (const m of methods) {
    const r = evaluatePairs(m, split, queries, opts.seed);
    results.push(r);
    opts.log(`  ${r.method.padEnd(12)} ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`);
  }
  model.dispose();
  return {
    task: 'complementary', dataset: split.dataset, results, choice: vitrine.choice,
    notes: [
      ...split.notes,
      `pair model (Vitrine's cold-start component, not a baseline): AUC ${model.auc.toFixed(3)} on the pairs of held-out training baskets (every tenth, whole) against pairs never bought together (the partner's popularity alone ranks the same pairs at ${model.popularityAuc.toFixed(3)})`,
      `vitrine's lists: ${vitrine.filled.neighbours} filled from their co-purchase neighbourhood, ${vitrine.filled.pairModel} by the pair model`,
      ...choiceNotes(vitrine.choice),
    ],
  };
}

const fmt = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : '—');

/** Runs the chosen tasks; returns every task's results (and writes the outputs asked for). */
export async function runEval(opts: EvalOptions): Promise<TaskResult[]> {
  const backend = await initNodeTf();
  opts.log(`TF.js ${backend} backend, seed ${opts.seed}`);
  const tasks: TaskResult[] = [];
  const skipped: string[] = [];
  const attempt = async (what: string, run: () => Promise<TaskResult | TaskResult[]>) => {
    const t = performance.now();
    try {
      const r = await run();
      tasks.push(...(Array.isArray(r) ? r : [r]));
      opts.log(`${what}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
    } catch (e) {
      if (!(e instanceof DataMissingError || e instanceof DatasetMissingError)) throw e;
      skipped.push(`${what}: skipped — ${e.message}`);
      opts.log(`${what}: skipped — ${e.message}`);
    }
  };
  const validations: Validations = [];
  const nextView = opts.tasks.has('next-view') || opts.tasks.has('rerank');
  const want = (name: string) => !opts.datasets || opts.datasets.has(name);
  if (opts.events || opts.baskets) {
    if (opts.events) await attempt(`next-view ${opts.events}`, async () => nextViewTasks(await loadEventLog(opts.events!, opts.eventsColumns, opts.events, undefined, opts.test), opts, validations));
    if (opts.baskets) await attempt(`complementary ${opts.baskets}`, async () => complementaryTask(await loadBasketLog(opts.baskets!, opts.basketsColumns, opts.test, opts.seed), opts));
  } else {
    // The visual task runs in a worker thread, on the second core, while the others run here.
    const visual = (opts.tasks.has('visual') || opts.tasks.has('rerank')) && want('fashion-mnist')
      ? visualInWorker({
          perClass: opts.fmnistPerClass, queries: Math.min(opts.maxQueries, 10_000), imageSize: 96, dims: 64, seed: opts.seed,
          cacheDir: opts.cacheDir, dir: opts.fmnistDir, progress: opts.progress, baselines: opts.tasks.has('visual'), mmr: opts.tasks.has('rerank'),
        }, opts.log)
      : undefined;
    visual?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const d = (name: string) => join(opts.data, name);
    if (nextView) {
      if (want('diginetica')) await attempt('next-view diginetica', async () => nextViewTasks(loadDiginetica(d('diginetica-sample')), opts, validations));
      if (want('amazon')) await attempt('next-view amazon', async () => nextViewTasks(loadAmazon(d('amazon-videogames-sasrec')), opts, validations));
      if (want('movielens')) await attempt('next-view movielens', async () => nextViewTasks(await loadMovielens(d('movielens-latest-small')), opts, validations));
    }
    if (opts.tasks.has('complementary')) {
      if (want('groceries')) await attempt('complementary groceries', async () => complementaryTask(loadGroceries(d('groceries-arules')), opts));
      if (want('bakery')) await attempt('complementary bakery', async () => complementaryTask(loadBakery(d('bakery-breadbasket')), opts));
      if (want('polyvore')) await attempt('complementary polyvore', async () => complementaryTask(loadPolyvore(d('polyvore-outfits-valid'), opts.seed), opts));
    }
    if (visual) {
      await attempt('visual fashion-mnist (in a worker thread since the start; this is the wait after the rest)', async () => {
        const v = await visual;
        return [
          ...(opts.tasks.has('visual') ? [{ task: 'visual' as const, dataset: 'fashion-mnist', results: v.results, notes: v.notes }] : []),
          ...(v.mmr ? [{ task: 'rerank' as const, dataset: 'fashion-mnist: mmr on the similar row', results: v.mmr.results, notes: v.mmr.notes }] : []),
        ];
      });
    }
  }
  if (validations.length) tasks.push(...discountTasks(validations, opts.seed, opts.log));
  const json = tasks.map(({ task, dataset, results, choice }) => ({ task, dataset, results, ...(choice ? { choice } : {}) }));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(json, null, 1) + '\n');
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    const md = [
      '# Vitrine evaluation results',
      '',
      `Written by \`npm run eval\` (seed ${opts.seed}; at most ${opts.maxQueries} test queries per dataset). Every method ranks the`,
      'whole catalog; best value per metric in **bold**; size is what the method ships (bytes), ms/query on this',
      'machine (shared, 2 cores: compare within a table only). `:new` = next views of items not yet seen in the',
      "session, with the session's items removed from every method's candidates; `MRR@20:first` = seed §2's protocol",
      "(a session's first item → its later items).",
      '',
      ...summaryTable(tasks),
      ...rerankTable(tasks),
      ...tasks.map((t) => `${markdownTable(t)}\n![${t.task} ${t.dataset}](${chartName(t)})\n`),
      ...(skipped.length ? ['## Skipped', '', ...skipped.map((s) => `- ${s}`), ''] : []),
    ].join('\n');
    writeFileSync(join(opts.out, 'RESULTS.md'), md);
    writeFileSync(join(opts.out, 'results.json'), JSON.stringify(json, null, 1) + '\n');
    for (const t of tasks) writeFileSync(join(opts.out, chartName(t)), svgChart(t, CHART_METRICS[t.task]));
  }
  return tasks;
}

/** Runs `evaluateVisual` in a worker thread; its log lines come through `log`. */
function visualInWorker(options: Omit<VisualOptions, 'log'>, log: (line: string) => void): Promise<VisualResult> {
  return new Promise((resolve, reject) => {
    const ext = extname(fileURLToPath(import.meta.url));
    const url = new URL(`./visual-worker${ext}`, import.meta.url);
    // From TypeScript sources (npm run eval runs them with tsx) the worker loads its module through
    // tsx's API; compiled JavaScript loads directly.
    const worker = ext === '.ts'
      ? new Worker(`import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`, { eval: true, workerData: options })
      : new Worker(url, { workerData: options });
    worker.on('message', (m: { log?: string; done?: VisualResult; missing?: string; error?: string }) => {
      if (m.log) log(m.log);
      else if (m.done) resolve(m.done);
      else if (m.missing) reject(new DataMissingError(m.missing));
      else if (m.error) reject(new Error(`visual task: ${m.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`visual task: the worker exited (${code}) without a result`)));
  });
}

const chartName = (t: TaskResult) => `${t.task}-${t.dataset.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.svg`;

const DATASETS = ['diginetica', 'amazon', 'movielens', 'groceries', 'bakery', 'polyvore', 'fashion-mnist'];

const USAGE = `usage: npm run eval -- [options]
  --data DIR              the datasets (default ../shared/data)
  --out DIR               RESULTS.md, results.json and charts (default test/eval; --out '' for none)
  --json FILE             the results as JSON
  --seed N                default 1
  --tasks LIST            next-view,complementary,visual,rerank (default all; with --events or
                          --baskets: next-view,complementary). rerank: MMR on Fashion-MNIST's
                          similar row, impression discounting replayed on the next-view datasets
  --datasets LIST         only these: diginetica,amazon,movielens,groceries,bakery,polyvore,fashion-mnist
  --events FILE           evaluate next view on this session log only (CSV/TSV, as the builder reads it)
  --events-columns SPEC   its column names: session=…,user=…,item=…,time=…
  --baskets FILE          evaluate goes-with on this purchase log only (CSV/TSV: order, product[, time])
  --baskets-columns SPEC  its column names: order=…,item=…,time=…
  --test FILE             the test sessions or baskets (default: the latest 20% by time; baskets
                          without a time column: a seeded 20%)
  --max-queries N         test queries per dataset, taken evenly (default 5000)
  --fmnist-per-class N    Fashion-MNIST train images per class for the head (default 2000)
  --epochs N              GRU epochs at most (default: the builder's, 20; early stopping ends sooner)
  --onehot-max-params N   train seed §1's network only up to this size (default 20000000)
  --no-progress`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' }, out: { type: 'string' }, json: { type: 'string' }, seed: { type: 'string' }, tasks: { type: 'string' }, datasets: { type: 'string' },
        events: { type: 'string' }, 'events-columns': { type: 'string' }, baskets: { type: 'string' }, 'baskets-columns': { type: 'string' },
        test: { type: 'string' }, 'max-queries': { type: 'string' },
        'fmnist-per-class': { type: 'string' }, epochs: { type: 'string' }, 'onehot-max-params': { type: 'string' }, 'no-progress': { type: 'boolean' },
        'fmnist-dir': { type: 'string' }, help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const int = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new UserError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  try {
    const own = values.events || values.baskets;
    const tasks = new Set((values.tasks ?? (own ? 'next-view,complementary' : 'next-view,complementary,visual,rerank')).split(',').map((s) => s.trim()) as TaskResult['task'][]);
    for (const t of tasks) if (!['next-view', 'complementary', 'visual', 'rerank'].includes(t)) throw new UserError(`--tasks: unknown task ${JSON.stringify(t)}`);
    const datasets = values.datasets === undefined ? undefined : new Set(values.datasets.split(',').map((s) => s.trim()));
    for (const d of datasets ?? []) if (!DATASETS.includes(d)) throw new UserError(`--datasets: unknown dataset ${JSON.stringify(d)} (one of ${DATASETS.join(', ')})`);
    const t0 = performance.now();
    await runEval({
      data: values.data ?? '../shared/data',
      out: values.out === '' ? undefined : (values.out ?? (values.events || values.baskets ? undefined : 'test/eval')),
      json: values.json, seed: int('seed', values.seed, 1), tasks, datasets,
      events: values.events,
      eventsColumns: values['events-columns'] ? parseColumnSpec(values['events-columns'], Object.keys(EVENT_COLUMNS), '--events-columns') : undefined,
      baskets: values.baskets,
      basketsColumns: values['baskets-columns'] ? parseColumnSpec(values['baskets-columns'], Object.keys(BASKET_COLUMNS), '--baskets-columns') : undefined,
      test: values.test,
      maxQueries: int('max-queries', values['max-queries'], 5000),
      oneHotMaxParams: int('onehot-max-params', values['onehot-max-params'], 20_000_000),
      fmnistPerClass: int('fmnist-per-class', values['fmnist-per-class'], 2000),
      fmnistDir: values['fmnist-dir'],
      epochs: values.epochs ? int('epochs', values.epochs, 6) : undefined,
      cacheDir: '.cache',
      progress: !values['no-progress'],
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stderr.write(`evaluation finished in ${((performance.now() - t0) / 60000).toFixed(1)} min\n`);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`vitrine eval: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
