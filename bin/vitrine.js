#!/usr/bin/env node
// The `vitrine` command (`npx vitrine bundle …`), the bin of the builder package `vitrine-builder`
// (this folder's package.json). Runs the compiled builder: in this repo from ../lib, which
// `npm run build` writes; in the packed package from ./lib, which prepack.mjs copies in.
import { existsSync } from 'node:fs';

const cli = ['./lib/build/cli.js', '../lib/build/cli.js'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u));
if (!cli) {
  console.error('vitrine: lib/ is missing — run `npm run build` in the vitrine folder first');
  process.exit(1);
}
const { run } = await import(cli.href);
await run();
