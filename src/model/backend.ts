import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo, BackendName, BackendPreference } from '../protocol.js';

/** Tried in this order; each falls to the next when it cannot start. */
export const BACKEND_CHAIN: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

export interface BackendOptions {
  /** Directory URL (ending in `/`) that holds the `tfjs-backend-wasm*.wasm` files. */
  wasmBase: string;
  /**
   * How long a backend may take to start before the next one is tried. A broken wasm build
   * (a minifier that renamed a variable the thread workers copy) never resolves `setBackend`.
   */
  startTimeoutMs?: number;
}

/** The subset of WebGPU's adapter API read here (the DOM lib has no WebGPU types yet). */
interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

/** What the WebGPU adapter is: a real GPU, or a software rasteriser such as SwiftShader. */
export interface AdapterKind {
  hardware: boolean;
  description: string;
}

/**
 * Asks for the WebGPU adapter TF.js would get. `null` when there is none (no `navigator.gpu`,
 * a blocklisted GPU, or a page where the browser does not expose WebGPU).
 */
export async function probeWebGpu(): Promise<AdapterKind | null> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return null;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  // `isFallbackAdapter` moved from the adapter to `adapter.info` (Chromium 136); read both, and
  // treat SwiftShader as software whatever the flag says.
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return { hardware: !fallback && !/swiftshader/i.test(description), description };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

let wasmPathsSet = false;

/** Registers (lazily imports) and initialises one backend; resolves with a note on its features. */
async function activate(name: BackendName, opts: BackendOptions): Promise<string> {
  if (name === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      wasm.setWasmPaths(opts.wasmBase);
      wasmPathsSet = true;
    }
  }
  // Every backend module registers itself on import; `cpu` is imported by the runtime entry.
  if (!(await tf.setBackend(name))) {
    const hint = name === 'wasm' ? `: are the .wasm files served from ${opts.wasmBase}, and does the page's Content-Security-Policy allow 'wasm-unsafe-eval'?` : '';
    throw new Error(`tf.setBackend('${name}') failed${hint}`);
  }
  await tf.ready();
  // A first op compiles kernels (WebGPU's shaders): a backend that cannot run fails here, where the
  // next one can take over, rather than in the middle of a row.
  // Large enough that WebGPU runs it on the GPU rather than handing it to the CPU.
  const probe = tf.tidy(() => tf.add(tf.ones([4096]), 1));
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
  if (name === 'wasm') {
    const [simd, threads] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
    const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
    return `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? `${getThreadsCount()} thread(s)` : 'single-threaded (page not cross-origin isolated)'}`;
  }
  return '';
}

/**
 * Chooses and starts the TF.js backend, by speed rather than by presence. Measured in headless
 * Chromium on a 2-core machine without a GPU, MobileNetV2 per image: wasm (SIMD) ≈42 ms,
 * cpu ≈1,100 ms, WebGPU on the SwiftShader software adapter ≈2,600 ms. So WebGPU is used only
 * on a hardware adapter, else wasm, else cpu. A forced backend is tried first and still falls
 * back down the chain if it cannot start; the reason says so.
 */
export async function selectBackend(preference: BackendPreference, opts: BackendOptions): Promise<BackendInfo> {
  const skipped: string[] = [];
  /** Whether a backend was tried and did not start (not merely passed over). */
  let failed = false;
  const order = preference === 'auto' ? BACKEND_CHAIN : [preference, ...BACKEND_CHAIN.filter((b) => b !== preference)];
  for (const name of order) {
    const forced = name === preference;
    let adapterNote = '';
    if (name === 'webgpu') {
      const adapter = await probeWebGpu();
      if (!adapter) {
        skipped.push('no WebGPU adapter');
        continue;
      }
      adapterNote = `${adapter.hardware ? 'hardware' : 'software'} adapter: ${adapter.description}`;
      if (!adapter.hardware && !forced) {
        skipped.push(`the WebGPU adapter is a software fallback (${adapter.description}), slower than wasm`);
        continue;
      }
    }
    let features: string;
    try {
      features = await withTimeout(activate(name, opts), opts.startTimeoutMs ?? 20_000, `the ${name} backend`);
    } catch (e) {
      // TF.js rejects with plain objects too (`{message}`), and keeps a backend whose start never
      // settles as pending: every later `tf.ready()` would wait on it. Removing it clears that.
      failed = true;
      skipped.push(`${name} failed to start (${(e as { message?: string })?.message ?? e})`);
      try {
        tf.removeBackend(name);
      } catch {
        // Never registered (its module did not load): nothing to clear.
      }
      continue;
    }
    const what = [features, adapterNote].filter(Boolean).join('; ');
    const why = forced ? `forced by backend="${name}"` : skipped.length ? skipped.join('; ') : 'fastest available';
    const reason = what ? `${why} (${what})` : why;
    // A backend that should have run and did not is worth one line in the console (once per
    // worker: the choice is made once); a software WebGPU adapter passed over by `auto` is not.
    const unavailable = preference !== 'auto' && !forced;
    if (failed || unavailable) console.warn(`[vitrine] TF.js runs on the ${name} backend${unavailable ? ` (backend="${preference}" is unavailable)` : ''}: ${reason}`);
    return { name, reason };
  }
  throw new Error(`no TF.js backend could start: ${skipped.join('; ')}`);
}
