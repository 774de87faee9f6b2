// `npm run build` writes dist/custom-elements.json from the element's source (tools and IDEs read it
// through package.json's `customElements`); test/unit/ui/custom-elements.test.ts checks it against
// the element.
export default {
  globs: ['src/ui/vitrine-recs.ts'],
  outdir: 'dist',
  litelement: true,
  packagejson: false,
  plugins: [
    {
      // Lit's internal reactive state (`states: { state: true }` in static properties) is no
      // attribute and no API, but the analyzer reads it as both.
      name: 'no-internal-state',
      packageLinkPhase({ customElementsManifest }) {
        const internal = new Set(['states']);
        for (const mod of customElementsManifest.modules) {
          for (const d of mod.declarations ?? []) {
            if (!d.customElement) continue;
            d.attributes = (d.attributes ?? []).filter((a) => !internal.has(a.fieldName ?? a.name));
            d.members = (d.members ?? []).filter((m) => !internal.has(m.name));
          }
        }
      },
    },
  ],
};
