/**
 * The two rules the page and the worker both apply to a manifest, in a module small enough for the
 * page's script (which must not carry the manifest checks of format.ts).
 */

/** A manifest longer than this is refused (1 MiB). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * A file path a manifest may name: relative, no scheme, no backslash, under 512 characters. `../`
 * is allowed: a bundle may share the image model beside it (`../mobilenet_v2/model.json`).
 */
export const isBundlePath = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 512 && !/^[a-z][a-z0-9+.-]*:|^\/|\\/i.test(v);
