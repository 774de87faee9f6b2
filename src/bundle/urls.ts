/**
 * An http(s) URL resolved against `base`, or undefined. Bundle data decides where the page's links
 * and images point, so nothing but http(s) — no `javascript:`, `data:` or `blob:` — gets through.
 *
 * ```ts
 * safeHttpUrl('/p/1', 'https://shop.example/models/m/manifest.json'); // 'https://shop.example/p/1'
 * safeHttpUrl('javascript:alert(1)', base); // undefined
 * ```
 */
export function safeHttpUrl(raw: string | undefined, base: string): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
