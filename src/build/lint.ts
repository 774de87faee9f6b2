import { trainProjectionHead } from './train-head.js';

/** A product whose labelled category the images disagree with. */
export interface LintRow {
  id: string;
  title: string;
  category: string;
  predicted: string;
  /** Probability of the predicted category, from a model that never saw this product's label. */
  confidence: number;
}

export interface LintOptions {
  folds?: number;
  dims: number;
  seed?: number;
  /** Rows with a confidence below this are not listed (default 0.9: a list a merchandiser can work through). */
  minConfidence?: number;
}

/**
 * Catalog lint (seed §3: "the new predictions find and fix catalog errors"): predicts each
 * product's category from its image with heads trained on the *other* folds of the catalog — a
 * head that saw a product's own label would only echo it — and lists the products whose label the
 * prediction contradicts, most confident first.
 */
export async function lintCategories(
  items: readonly { id: string; title: string; category?: string }[],
  features: readonly Float32Array[],
  categories: readonly string[],
  opts: LintOptions,
): Promise<LintRow[]> {
  const folds = opts.folds ?? 5;
  const labelOf = new Map(categories.map((c, i) => [c, i]));
  const labelled = items.map((it, i) => [i, it.category === undefined ? undefined : labelOf.get(it.category)] as const).filter(([, l]) => l !== undefined) as [number, number][];
  const rows: LintRow[] = [];
  for (let f = 0; f < folds; f++) {
    const train = labelled.filter((_, k) => k % folds !== f);
    const test = labelled.filter((_, k) => k % folds === f);
    if (!test.length || new Set(train.map(([, l]) => l)).size < 2) continue;
    const head = await trainProjectionHead(train.map(([i]) => features[i]!), train.map(([, l]) => l), { dims: opts.dims, seed: (opts.seed ?? 1) + f, epochs: 30 });
    const probs = head.classify(test.map(([i]) => features[i]!));
    const C = probs.length / test.length;
    test.forEach(([i, label], k) => {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[k * C + c]! > probs[k * C + best]!) best = c;
      const confidence = probs[k * C + best]!;
      if (best !== label && confidence >= (opts.minConfidence ?? 0.9)) {
        rows.push({ id: items[i]!.id, title: items[i]!.title, category: items[i]!.category!, predicted: categories[best]!, confidence });
      }
    });
    head.dispose();
    head.head.dispose();
  }
  return rows.sort((a, b) => b.confidence - a.confidence || (a.id < b.id ? -1 : 1));
}

/** The lint as CSV (RFC 4180 quoting), for a spreadsheet. */
export function lintCsv(rows: readonly LintRow[]): string {
  const q = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return ['id,title,category,predicted,confidence', ...rows.map((r) => [q(r.id), q(r.title), q(r.category), q(r.predicted), r.confidence.toFixed(3)].join(','))].join('\n') + '\n';
}
