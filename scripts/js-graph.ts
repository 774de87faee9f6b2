import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * A built file and every chunk it imports statically (`import … from "./x.js"`, `import "./x.js"`),
 * transitively. Dynamic `import()` — how TF.js is loaded — is not followed: it is what stays lazy.
 */
export function staticGraph(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const code = readFileSync(entry, 'utf8');
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g)) staticGraph(normalize(join(dirname(entry), m[1]!)), seen);
  return seen;
}
