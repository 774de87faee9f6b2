/**
 * The promise for `key` in `cache`, started by `load()` on first use and shared after. A rejected
 * load is forgotten, so a later call tries again (a network blip must not poison the page).
 */
export function once<T>(cache: Map<string, Promise<unknown>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    cache.set(key, p);
    p.catch(() => {
      if (cache.get(key) === p) cache.delete(key);
    });
  }
  return p;
}
