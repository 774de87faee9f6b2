/** The evaluation's outputs: JSON records, a markdown table per task, an SVG bar chart per task. */
import type { MethodResult } from './next-view.js';

export interface TaskResult {
  task: 'next-view' | 'complementary' | 'visual';
  dataset: string;
  results: MethodResult[];
  notes?: string[];
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(4));
const bytesText = (b?: number) => (b === undefined ? '' : b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} KB` : `${b} B`);
/** Metrics where lower is better (none bolded as best otherwise). */
const lowerIsBetter = (metric: string) => metric.includes('loss');

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
      return typeof v === 'number' && best.get(m) === v ? `**${fmt(v)}**` : fmt(v);
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
};
