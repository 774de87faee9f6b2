// `npm pack -w vitrine-builder` (and publish) runs this first: the builder package (this folder)
// ships what lives elsewhere in the repo — the compiled builder from ../lib (`npm run build`) and
// the default image model from ../models — so they are copied in, and removed again after
// (`--clean`, the postpack script). `--list` prints what would be staged, as JSON.
// - Only the modules the command reaches are copied: followed from lib/build/cli.js through their
//   imports, so the widget's code (lib/ui, lib/worker) and the eval stay out.
// - Staging refuses a compiled module that imports a package package.json does not declare: the
//   package would install and then fail at the first run.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const ENTRY = join(repo, 'lib/build/cli.js');
const MODEL = 'models/mobilenet_v2';

/** The package an import names (`@scope/name/sub` → `@scope/name`); null for a file or a Node builtin. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  return builtinModules.includes(name) ? null : name;
}

/** The compiled modules the command imports (paths under lib/) and the packages they import. */
export function closure() {
  // TypeScript's import scanner ignores comments and strings, which a regular expression would not.
  const ts = createRequire(join(repo, 'package.json'))('typescript');
  const files = new Set();
  const packages = new Map();
  const visit = (file) => {
    if (files.has(file)) return;
    if (!existsSync(file)) throw new Error(`${relative(repo, file)} is missing: run \`npm run build\` in ${repo}`);
    files.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName));
      else if (packageOf(fileName)) packages.set(packageOf(fileName), relative(repo, file));
    }
  };
  visit(ENTRY);
  return { files: [...files].map((f) => relative(join(repo, 'lib'), f)).sort(), packages: Object.fromEntries([...packages].sort()) };
}

function clean() {
  rmSync(join(here, 'lib'), { recursive: true, force: true });
  rmSync(join(here, 'models'), { recursive: true, force: true });
}

function stage() {
  const { files, packages } = closure();
  const declared = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies ?? {};
  const undeclared = Object.entries(packages).filter(([name]) => !(name in declared));
  if (undeclared.length) {
    throw new Error(`vitrine-builder: imported but not in bin/package.json dependencies: ${undeclared.map(([n, by]) => `${n} (by ${by})`).join(', ')}`);
  }
  clean();
  for (const f of files) {
    mkdirSync(dirname(join(here, 'lib', f)), { recursive: true });
    cpSync(join(repo, 'lib', f), join(here, 'lib', f));
  }
  cpSync(join(repo, MODEL), join(here, MODEL), { recursive: true });
  console.error(`vitrine-builder: staged ${files.length} modules from lib/ and ${MODEL}/`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--list') console.log(JSON.stringify(closure(), null, 2));
  else if (arg === '--clean') clean();
  else stage();
}
