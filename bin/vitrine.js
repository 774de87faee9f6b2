#!/usr/bin/env node
// The `vitrine` command (`npx vitrine bundle …`). Runs the compiled builder in lib/, which
// `npm run build` writes and the published package ships.
import { existsSync } from 'node:fs';

const cli = new URL('../lib/build/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('vitrine: lib/ is missing — run `npm run build` in the vitrine folder first');
  process.exit(1);
}
const { run } = await import(cli.href);
await run();
