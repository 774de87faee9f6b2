/**
 * The elements beside `<vitrine-recs>` load their code only on pages that use them: the script
 * every product page runs stays small. An element is defined (its chunk imported) as soon as one
 * is in the document — at load, or added later (a single-page app) — or when
 * `defineVitrineElements()` is called (for an element inside another component's shadow root,
 * which the document does not see).
 */
type Loader = () => Promise<CustomElementConstructor>;

const loaders = new Map<string, Loader>();

function define(tag: string): Promise<void> {
  const load = loaders.get(tag);
  if (!load) return Promise.resolve();
  loaders.delete(tag);
  return load().then(
    (cls) => void (customElements.get(tag) || customElements.define(tag, cls)),
    (e: Error) => console.error(`[vitrine] <${tag}> could not load: ${e.message}`),
  );
}

export function defineWhenUsed(elements: Record<string, Loader>): void {
  for (const [tag, load] of Object.entries(elements)) if (!customElements.get(tag)) loaders.set(tag, load);
  const check = () => {
    for (const tag of [...loaders.keys()]) if (document.getElementsByTagName(tag).length) void define(tag);
    if (!loaders.size) observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
  check();
}

/** Loads and defines every Vitrine element now (`<vitrine-search>`, `<vitrine-history>`). */
export async function defineVitrineElements(): Promise<void> {
  await Promise.all([...loaders.keys()].map(define));
}
