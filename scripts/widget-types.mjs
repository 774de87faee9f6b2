#!/usr/bin/env node
/**
 * Makes the widget package's types self-contained; `npm run build` runs it after tsc.
 *
 * The package has no dependencies (Lit, comlink, idb and TF.js are bundled into dist/), but tsc's
 * declarations for the elements name Lit's types (`extends LitElement`, `CSSResult`, …): in a
 * store's project without `lit` they would not resolve. This points those imports at `lib/lit.d.ts`,
 * a stand-in declaring the part of Lit's API a page may use on the elements (`updateComplete`,
 * `requestUpdate`, the lifecycle callbacks). test/unit/packaging.test.ts compiles a page's code
 * against the installed package, strictly and without skipLibCheck.
 *
 * It rewrites the declarations the package ships (package.json `files`: lib/index.d.ts,
 * lib/protocol.d.ts, lib/ui/*.d.ts) and refuses any other package import in them.
 *
 *   node scripts/widget-types.mjs
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// TypeScript's import scanner skips comments (the JSDoc examples import from a CDN URL).
const ts = createRequire(import.meta.url)('typescript');

const LIB = 'lib';
const SHIPPED = ['index.d.ts', 'protocol.d.ts', ...readdirSync(join(LIB, 'ui')).filter((f) => f.endsWith('.d.ts')).map((f) => `ui/${f}`)];

const STAND_IN = `/**
 * Stand-ins for the Lit types the elements' declarations name (written by scripts/widget-types.mjs).
 * Vitrine bundles Lit into dist/, so \`lit\` is no dependency of the package; these declare the part of
 * \`LitElement\` a page may use on a Vitrine element.
 */
export declare class LitElement extends HTMLElement {
    /** Resolves once the element has rendered its current state; \`true\` when no further update is pending. */
    readonly updateComplete: Promise<boolean>;
    /** Asks for a render (properties set through their setters do this already). */
    requestUpdate(name?: PropertyKey, oldValue?: unknown): void;
    connectedCallback(): void;
    disconnectedCallback(): void;
    attributeChangedCallback(name: string, old: string | null, value: string | null): void;
    protected willUpdate(changed: PropertyValues): void;
    protected firstUpdated(changed: PropertyValues): void;
    protected updated(changed: PropertyValues): void;
    protected render(): unknown;
}
/** The properties that changed, with their previous values. */
export type PropertyValues<T = unknown> = Map<T extends object ? keyof T | PropertyKey : PropertyKey, unknown>;
/** What \`render()\` returns: Lit's template result, opaque to a page. */
export interface TemplateResult {
    readonly strings: TemplateStringsArray;
    readonly values: readonly unknown[];
}
/** An element's styles. */
export interface CSSResult {
    readonly cssText: string;
    readonly styleSheet: CSSStyleSheet | undefined;
}
`;

/** `from '…'`, `import('…')` and `import '…'` specifiers in a declaration file. */
const IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|^import\s*)(['"])([^'"]+)\2/gm;

const problems = [];
for (const file of SHIPPED) {
  const path = join(LIB, file);
  if (!existsSync(path)) continue; // lib/ui lists what exists; index and protocol always do after tsc
  const up = file.includes('/') ? '../' : './';
  const text = readFileSync(path, 'utf8');
  const out = text.replace(IMPORT, (all, before, quote, specifier) => (specifier === 'lit' ? `${before}${quote}${up}lit.js${quote}` : all));
  for (const { fileName } of ts.preProcessFile(out, true, true).importedFiles) {
    if (!fileName.startsWith('.')) problems.push(`${path} imports '${fileName}'`);
  }
  if (out !== text) writeFileSync(path, out);
}
if (problems.length) {
  console.error(`widget-types: the package's types must not import packages it does not ship:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
writeFileSync(join(LIB, 'lit.d.ts'), STAND_IN);
