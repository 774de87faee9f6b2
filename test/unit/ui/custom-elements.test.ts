import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * dist/custom-elements.json is generated from the element's source by `npm run build` (which
 * `npm test` runs first). It must describe what the element has and the README documents.
 */
describe('custom-elements.json', () => {
  it('is where package.json says, and lists <vitrine-recs> with the attributes the README documents, its events, slots and parts', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { customElements: string; files: string[] };
    expect(existsSync(pkg.customElements), `${pkg.customElements} is missing: run \`npm run build\``).toBe(true);
    expect(pkg.files.some((f) => pkg.customElements.startsWith(f))).toBe(true);
    type Decl = { customElement?: boolean; tagName?: string; attributes?: { name: string }[]; events?: { name: string }[]; slots?: { name: string }[]; cssParts?: { name: string }[] };
    const manifest = JSON.parse(readFileSync(pkg.customElements, 'utf8')) as { modules: { declarations?: Decl[] }[] };
    const el = manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.customElement)!;
    expect(el.tagName).toBe('vitrine-recs');
    // The README's attribute table: | `name` | … | (and `image`, `product-title` share a row).
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('| attribute | meaning |'), readme.indexOf('- **Events**'));
    const documented = [...table.matchAll(/^\| ((?:`[a-z-]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!));
    expect(el.attributes!.map((a) => a.name).sort()).toEqual(documented.sort());
    expect(el.events!.map((e) => e.name).sort()).toEqual(['vitrine-impression', 'vitrine-select']);
    expect(el.slots!.map((s) => s.name)).toEqual(['title-similar', 'title-complementary', 'title-next']);
    expect(el.cssParts!.map((p) => p.name)).toEqual(expect.arrayContaining(['row', 'row-title', 'item', 'image', 'price']));
  });
});
