/**
 * Image queries on a paged bundle with a search index (its own chunk: a catalog product's rows
 * never load it).
 */
import type { Bundle } from '../bundle/reader.js';
import { rowScore, type Neighbour } from '../recommend/knn.js';

/**
 * The `k` catalog products nearest `vector` (an image's embedding) in a paged bundle with a search
 * index: the index's head ranks the cells, and only the `nprobe` cells a search scans are fetched,
 * with their codes and the int8 rows the best candidates are rescored against — hundreds of
 * kilobytes for a query instead of the whole index and embeddings.
 */
export async function pagedNearest(bundle: Bundle, vector: Float32Array, k: number): Promise<Neighbour[]> {
  // The index code is its own chunk, as in an unpaged bundle: only image queries load it.
  const [head, tail, { nearestCells, searchIvf }] = await Promise.all([bundle.ivfHead(), bundle.ivfTail(), import('../recommend/ivf.js')]);
  const { dims, rowBytes } = head;
  const cells = nearestCells(head, vector, head.nprobe);
  const parts = await Promise.all(cells.map((c) => bundle.cell(c)));
  // The fetched cells as one small index, their products renumbered in cell order.
  const offsets = new Uint32Array(cells.length + 1);
  cells.forEach((c, i) => (offsets[i + 1] = offsets[i]! + head.offsets[c + 1]! - head.offsets[c]!));
  const n = offsets[cells.length]!;
  const centroids = new Float32Array(cells.length * dims);
  const [codes, rows, scales, global] = [new Uint8Array(n * rowBytes), new Int8Array(n * dims), new Float32Array(n), new Uint32Array(n)];
  cells.forEach((c, i) => {
    const at = offsets[i]!;
    const part = parts[i]!;
    centroids.set(head.centroids.subarray(c * dims, (c + 1) * dims), i * dims);
    codes.set(part.codes, at * rowBytes);
    rows.set(part.rows, at * dims);
    scales.set(part.scales, at);
    for (let j = 0; j < part.scales.length; j++) global[at + j] = head.offsets[c]! + j;
  });
  const matrix = { codes: rows, scales, count: n, dims };
  const hits = searchIvf({ ...head, count: n, nlist: cells.length, nprobe: cells.length, centroids, offsets, codes }, vector, k, { rescore: (p) => rowScore(matrix, vector, p) }).map((h) => ({ index: global[h.index]!, score: h.score }));
  // Products an update added past the cells: scanned, as in an unpaged bundle.
  if (tail) {
    const rest = { codes: tail.rows, scales: tail.scales, count: tail.scales.length, dims };
    for (let p = 0; p < rest.count; p++) hits.push({ index: tail.from + p, score: rowScore(rest, vector, p) });
  }
  return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}
