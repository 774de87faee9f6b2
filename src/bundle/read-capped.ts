/**
 * Reads a body stream to its end, never holding more than `max` bytes: an endless or lying stream is
 * cancelled as soon as it passes the limit, before anything of its size is allocated (undefined
 * then). `onChunk` is called as each chunk arrives (a stall timer, say). Page and worker both use it.
 */
export async function readCapped(body: ReadableStream<Uint8Array>, max: number, onChunk?: () => void): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    onChunk?.();
    total += value.byteLength;
    if (total > max) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.byteLength);
  return out;
}
