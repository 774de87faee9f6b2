#!/usr/bin/env -S npx tsx
/** `npm run eval`: see src/eval/run.ts, or `npm run eval -- --help`. */
import { main } from '../src/eval/run.js';

process.exitCode = await main(process.argv.slice(2));
