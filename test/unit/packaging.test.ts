import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The two packages this repo makes (issue 15, point 10):
 * - `vitrine` (the root package.json), the widget a store installs: `dist/` is prebuilt with Lit,
 *   comlink, idb and TF.js bundled in, so it depends on nothing. Packed and installed into an empty
 *   project offline, it must add one package, stay under 5 MB on disk, and carry its element
 *   manifest and self-contained types.
 * - `vitrine-builder` (bin/package.json, an npm workspace), the `vitrine` command: it holds what
 *   only the builder needs (TF.js for Node, sharp, DuckDB, the image model).
 * Reads the production build (`npm test` builds it first).
 */
const run = promisify(execFile);
const INSTALL_BUDGET = 5_000_000;

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  files?: string[];
  types?: string;
  exports?: Record<string, unknown>;
  customElements?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  bundleDependencies?: string[];
}
const manifest = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** npm without the settings of the `npm test` that started us: `npm_config_local_prefix` alone would make it install into this repo. */
function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return run('npm', args, { cwd, env, maxBuffer: 1 << 24 });
}

/** Bytes a folder takes: on disk (allocated blocks) and apparent; and its file count. */
function footprint(dir: string): { disk: number; bytes: number; files: number } {
  const sum = { disk: 0, bytes: 0, files: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const st = lstatSync(join(e.parentPath, e.name));
    sum.disk += st.blocks * 512;
    if (e.isFile()) (sum.bytes += st.size), sum.files++;
  }
  return sum;
}

/** The packages a declaration file imports, and the files it imports relative to itself (as `.d.ts`). */
function importsOf(file: string): { packages: string[]; files: string[] } {
  const found = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
  return {
    packages: found.filter((f) => !f.startsWith('.')),
    files: found.filter((f) => f.startsWith('.')).map((f) => resolve(dirname(file), f.replace(/\.js$/, '.d.ts'))),
  };
}

let tmp: string;
let app: string;
let installed: string;
let tarball: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

beforeAll(async () => {
  for (const f of ['dist/vitrine.js', 'lib/index.d.ts', 'lib/lit.d.ts']) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'vitrine-packaging-'));
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], process.cwd());
  tarball = (JSON.parse(packed.stdout) as (typeof tarball)[])[0]!;
  app = join(tmp, 'store');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'store', private: true, type: 'module' }));
  // --offline: nothing may come from a registry, since nothing is needed.
  await npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', join(tmp, 'cache'), '--prefix', app, join(tmp, tarball.filename)], app);
  installed = join(app, 'node_modules', 'vitrine');
}, 120_000);
afterAll(() => void (tmp && rmSync(tmp, { recursive: true, force: true })));

describe('the widget package (vitrine)', () => {
  it('depends on nothing: installed offline into an empty project, it adds itself only, under 5 MB on disk', () => {
    const pkg = manifest(join(installed, 'package.json'));
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) expect(pkg[field] ?? {}, field).toEqual({});
    expect(pkg.bundleDependencies ?? [], 'bundleDependencies').toEqual([]);
    expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['vitrine']);
    expect(existsSync(join(app, 'node_modules', '.bin')), 'the widget installs no command').toBe(false);
    const size = footprint(join(app, 'node_modules'));
    expect(size.disk, `node_modules takes ${size.disk} B on disk (${size.bytes} B in ${size.files} files)`).toBeLessThanOrEqual(INSTALL_BUDGET);
  });

  it('ships the prebuilt widget, its element manifest and nothing of the builder', () => {
    const paths = tarball.files.map((f) => f.path);
    for (const f of ['dist/vitrine.js', 'dist/vitrine-worker.js', 'dist/tfjs-backend-wasm.wasm', 'dist/tfjs-backend-wasm-simd.wasm', 'dist/tfjs-backend-wasm-threaded-simd.wasm']) {
      expect(existsSync(join(installed, f)), f).toBe(true);
    }
    const pkg = manifest(join(installed, 'package.json'));
    expect(pkg.customElements).toBe('dist/custom-elements.json');
    expect(existsSync(join(installed, pkg.customElements!))).toBe(true);
    expect(pkg.bin, 'the `vitrine` command is the builder package’s').toBeUndefined();
    expect(paths.filter((p) => /^(bin|models)\/|^lib\/.*\.js$|^lib\/(build|eval|worker|model|recommend|bundle|store)\//.test(p))).toEqual([]);
  });

  it('imports with nothing else installed: a bundler resolves the element and the worker', async () => {
    writeFileSync(join(app, 'page.js'), "import 'vitrine';\n");
    const out = await build({
      entryPoints: [join(app, 'page.js'), join(installed, 'dist/vitrine-worker.js')],
      absWorkingDir: app,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      outdir: join(app, 'out'),
      logLevel: 'silent',
    });
    expect(out.errors).toEqual([]);
  }, 30_000);

  it('has self-contained types: a page’s code compiles against them strictly, without skipLibCheck', () => {
    const pkg = manifest(join(installed, 'package.json'));
    expect(pkg.types).toBe('lib/index.d.ts');
    expect((pkg.exports?.['.'] as { types: string }).types).toBe('./lib/index.d.ts');
    // Every declaration the entry reaches is in the package, and none imports another package (Lit is bundled, not installed).
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      expect(existsSync(file), `${file} is imported by the package's types but not in the package`).toBe(true);
      seen.add(file);
      const { packages, files } = importsOf(file);
      expect(packages, `${file} imports packages`).toEqual([]);
      files.forEach(visit);
    };
    visit(join(installed, pkg.types!));
    writeFileSync(
      join(app, 'page.ts'),
      `import { clearHistory, defineVitrineElements, getHistory, type SelectDetail, type VitrineRecsElement } from 'vitrine';
const recs: VitrineRecsElement | null = document.querySelector('vitrine-recs');
if (recs) {
  recs.product = 'SKU-1';
  recs.limit = 4;
  await recs.updateComplete;
}
document.querySelector('vitrine-history')?.setAttribute('product', 'SKU-1');
document.querySelector('vitrine-search')?.focus();
document.addEventListener('vitrine-select', (e) => console.log((e as CustomEvent<SelectDetail>).detail.productId));
console.log((await getHistory()).length, recs?.activeBackend?.name);
await clearHistory();
defineVitrineElements();
`,
    );
    const program = ts.createProgram([join(app, 'page.ts')], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  }, 60_000); // the DOM's declarations alone take seconds to check
});

describe('the builder package (vitrine-builder, bin/)', () => {
  const builder = manifest('bin/package.json');

  it('is the workspace that declares the builder’s dependencies and the `vitrine` command, so `npx vitrine` runs it here', () => {
    expect(builder.name).toBe('vitrine-builder');
    expect(manifest('package.json').workspaces).toContain('bin');
    expect(builder.bin).toEqual({ vitrine: 'vitrine.js' });
    for (const dep of ['sharp', '@duckdb/node-api', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']) {
      expect(builder.dependencies, dep).toHaveProperty([dep]);
    }
    expect(builder.files).toEqual(expect.arrayContaining(['vitrine.js', 'lib', 'models/mobilenet_v2']));
    // `npm ci` links the workspace's bin, which `npx vitrine` finds.
    expect(realpathSync('node_modules/.bin/vitrine')).toBe(realpathSync('bin/vitrine.js'));
  });

  it('declares every package the compiled command imports (what prepack.mjs stages)', async () => {
    const { stdout } = await run(process.execPath, ['bin/prepack.mjs', '--list']);
    const { files, packages } = JSON.parse(stdout) as { files: string[]; packages: Record<string, string> };
    expect(files).toContain('build/cli.js');
    expect(files.filter((f) => /^(ui|worker|eval)\//.test(f)), 'the widget and the eval stay out').toEqual([]);
    const undeclared = Object.entries(packages).filter(([name]) => !(name in (builder.dependencies ?? {})));
    expect(undeclared, 'imported by the builder, missing from bin/package.json').toEqual([]);
  }, 30_000);
});
