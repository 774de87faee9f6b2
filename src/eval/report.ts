/** The evaluation's outputs: JSON records, a markdown table per task, an SVG bar chart per task. */
import type { GoesWithChoice } from '../build/choose-goes-with.js';
import type { NextViewChoice } from '../build/choose-next.js';
import type { MethodResult } from './next-view.js';

export interface TaskResult {
  /** `rerank`: a re-ranking rule against the same rows without it (or the choice of its setting). */
  task: 'next-view' | 'complementary' | 'visual' | 'rerank';
  dataset: string;
  results: MethodResult[];
  notes?: string[];
  /** What the builder chose for Vitrine's method on this dataset's training data. */
  choice?: NextViewChoice | GoesWithChoice;
}

/** The metric each task's row is judged by (Polyvore's goes-with: fill in the blank). */
export function rowMetric(t: TaskResult): string {
  if (t.task === 'next-view') return 'MRR@20:new';
  if (t.task === 'visual') return 'P@10';
  return t.results.some((r) => typeof r.metrics.FITB === 'number') ? 'FITB' : 'HR@10';
}

/** Methods that are Vitrine's own (the shipped one and its parts), not baselines. */
const isOwn = (method: string) => method.startsWith('vitrine') || method === 'pair-model';

/**
 * One line per task: the shipped method against the best baseline on the row's metric, with
 * intervals and the ratio; then how many tasks meet the targets (at least the best baseline on
 * each, at least 1.05× on half of them).
 */
export function summaryTable(tasks: readonly TaskResult[]): string[] {
  const lines = ['## Summary: the shipped method against the best baseline', '', '| row | dataset | metric | vitrine | best baseline | ratio | builder chose |', '| --- | --- | --- | --- | --- | --- | --- |'];
  let atLeast = 0;
  let ahead = 0;
  let counted = 0;
  for (const t of tasks) {
    if (t.task === 'rerank') continue;
    const metric = rowMetric(t);
    const value = (r?: MethodResult) => (r && typeof r.metrics[metric] === 'number' ? (r.metrics[metric] as number) : undefined);
    const vitrine = t.results.find((r) => r.method === 'vitrine');
    const baselines = t.results.filter((r) => !isOwn(r.method) && value(r) !== undefined);
    if (!vitrine || !baselines.length) continue;
    const best = baselines.reduce((a, b) => (value(b)! > value(a)! ? b : a));
    const ratio = value(vitrine)! / Math.max(1e-12, value(best)!);
    counted++;
    if (ratio >= 1) atLeast++;
    if (ratio >= 1.05) ahead++;
    const chose = t.choice ? t.choice.reason.replace(/\|/g, '/') : '';
    lines.push(`| ${t.task} | ${t.dataset} | ${metric} | ${cell(vitrine, metric)} | ${best.method} ${cell(best, metric)} | ${ratio.toFixed(3)} | ${chose} |`);
  }
  if (!counted) return [];
  lines.push('', `At least the best baseline on ${atLeast} of ${counted}; at least 1.05× on ${ahead} of ${counted}. Intervals: bootstrap 95% over the test queries.`, '');
  return lines;
}

/**
 * One line per re-ranking rule, dataset and metric: the rows without the rule, with it, and the
 * paired difference with its interval (the `Δ …` metrics of the task's second result).
 */
export function rerankTable(tasks: readonly TaskResult[]): string[] {
  const lines: string[] = [];
  for (const t of tasks) {
    const [without, withRule] = t.results;
    if (t.task !== 'rerank' || !without || !withRule) continue;
    for (const [name, d] of Object.entries(withRule.metrics)) {
      if (!name.startsWith('Δ ') || typeof d !== 'number') continue;
      const metric = name.slice(2);
      lines.push(`| ${withRule.method.replace(/^vitrine \+ /, '')} | ${t.dataset.replace(/:.*/, '')} | ${metric} | ${cell(without, metric)} | ${cell(withRule, metric)} | ${cell(withRule, name)} |`);
    }
  }
  if (!lines.length) return [];
  return [
    '## Re-ranking: each rule against the same rows without it',
    '',
    '| rule | dataset | metric | without | with | Δ |',
    '| --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
    'Δ: paired bootstrap 95% intervals over the same queries. Each rule at the setting chosen on validation splits (tables below), which `RERANK` in src/recommend/rerank.ts ships.',
    '',
  ];
}

/** A value with its interval, as every table prints it. */
function cell(r: MethodResult, metric: string): string {
  const v = r.metrics[metric];
  const ci = r.intervals?.[metric];
  return `${fmt(v)}${ci && typeof v === 'number' ? ` [${ci[0].toFixed(3)}, ${ci[1].toFixed(3)}]` : ''}`;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(4));
const bytesText = (b?: number) => (b === undefined ? '' : b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} KB` : `${b} B`);
/** Metrics where lower is better (none bolded as best otherwise). */
const lowerIsBetter = (metric: string) => metric.includes('loss') || metric.includes('repeat');

/** One markdown table: method × metric, the best value per metric in bold, size and ms per query alongside. */
export function markdownTable(t: TaskResult): string {
  const metrics = [...new Set(t.results.flatMap((r) => Object.keys(r.metrics)))];
  const best = new Map<string, number>();
  for (const m of metrics) {
    const vals = t.results.map((r) => r.metrics[m]).filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
    if (vals.length > 1) best.set(m, lowerIsBetter(m) ? Math.min(...vals) : Math.max(...vals));
  }
  const head = `| method | ${metrics.join(' | ')} | size | params | ms/query |`;
  const rule = `|${' --- |'.repeat(metrics.length + 4)}`;
  const rows = t.results.map((r) => {
    const cells = metrics.map((m) => {
      const v = r.metrics[m];
      const text = cell(r, m);
      return typeof v === 'number' && best.get(m) === v ? `**${text}**` : text;
    });
    const name = r.method === 'vitrine' ? '**vitrine**' : r.method;
    return `| ${name} | ${cells.join(' | ')} | ${bytesText(r.bytes)} | ${r.params?.toLocaleString('en') ?? ''} | ${r.msPerQuery ? r.msPerQuery.toFixed(2) : ''} |`;
  });
  const notes = [...(t.notes ?? []), ...t.results.filter((r) => r.note).map((r) => `${r.method}: ${r.note}`)];
  return [`### ${t.task}: ${t.dataset}`, '', head, rule, ...rows, '', ...notes.map((n) => `- ${n}`), ''].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A grouped horizontal bar chart of the chosen metrics, one group per metric, one bar per method. */
export function svgChart(t: TaskResult, metrics: string[]): string {
  const shown = metrics.filter((m) => t.results.some((r) => typeof r.metrics[m] === 'number'));
  const methods = t.results.filter((r) => shown.some((m) => typeof r.metrics[m] === 'number'));
  const bar = 14;
  const label = 150;
  const width = 640;
  const groupH = methods.length * bar + 28;
  const height = 40 + shown.length * groupH;
  const max = Math.max(1e-9, ...shown.flatMap((m) => methods.map((r) => (typeof r.metrics[m] === 'number' ? (r.metrics[m] as number) : 0))));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="600">${esc(`${t.task} · ${t.dataset}`)}</text>`,
  ];
  shown.forEach((m, g) => {
    const y0 = 40 + g * groupH;
    parts.push(`<text x="10" y="${y0 + 10}" font-weight="600">${esc(m)}</text>`);
    methods.forEach((r, k) => {
      const v = r.metrics[m];
      const y = y0 + 16 + k * bar;
      const w = typeof v === 'number' ? Math.max(0, (v / max) * (width - label - 70)) : 0;
      const color = r.method === 'vitrine' ? '#d9480f' : '#868e96';
      parts.push(`<text x="${label - 6}" y="${y + 10}" text-anchor="end">${esc(r.method)}</text>`);
      parts.push(`<rect x="${label}" y="${y + 1}" width="${w.toFixed(1)}" height="${bar - 3}" fill="${color}"/>`);
      parts.push(`<text x="${label + w + 4}" y="${y + 10}">${typeof v === 'number' ? v.toFixed(3) : 'not run'}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The metrics each task's chart shows. */
export const CHART_METRICS: Record<TaskResult['task'], string[]> = {
  'next-view': ['MRR@20:new', 'HR@20:new', 'MRR@20'],
  complementary: ['HR@10', 'MRR@10', 'AUC', 'FITB'],
  visual: ['P@10'],
  rerank: ['HR@8:new', 'MRR@8:new', 'repeat@8', 'P@10', 'ILD@10'],
};
