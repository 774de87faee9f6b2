#!/usr/bin/env -S npx tsx
/**
 * A small static server for the demo store and the end-to-end tests. Serves
 *   /          public/   (the demo store's pages)
 *   /dist/     dist/     (the built widget: what a store hosts, on its origin or a CDN)
 *   /models/   models/   (the demo bundle and the shared image model)
 *
 *   PORT=8080 HOST=0.0.0.0 npx tsx scripts/serve.ts     (defaults: 4173, localhost)
 *   ISOLATE=0 …   turns off cross-origin isolation (COOP/COEP) of the pages
 *
 * Widget and bundle files are sent with CORS and `Cross-Origin-Resource-Policy: cross-origin`, so
 * a page on another origin — cross-origin isolated or not — can load them, as from a CDN.
 * Files carry an ETag and `Cache-Control: no-cache` (a warm cache revalidates with a 304), except
 * the widget's content-hashed chunks (`dist/chunks/*-<hash>.js`), which never change under their
 * name and are cached for a year: the worker then imports the chunks the page already loaded without
 * a round trip. A store's CDN should do the same (see the README's hosting notes).
 * Text, JSON and wasm are sent compressed (brotli or gzip, as the browser accepts), as every CDN
 * does: the demo bundle's items.json is 175 KB, 17 KB gzipped — on a phone's link the difference
 * between a row in 2 s and one in under 1 s.
 */
import { createReadStream, readFileSync, statSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ServeOptions {
  port?: number;
  host?: string;
  /** URL prefix → directory. Longest prefix wins. Default: the demo store's three roots. */
  roots?: Record<string, string>;
  /** Send COOP/COEP on HTML pages (cross-origin isolation: SharedArrayBuffer, wasm threads). Default true. */
  isolate?: boolean;
  /** Send text, JSON and wasm compressed when the browser accepts it. Default true. */
  compress?: boolean;
  /** Extra headers for every response (a test's Content-Security-Policy, say). */
  headers?: Record<string, string>;
  /** Called for every request (tests record them). */
  onRequest?: (req: IncomingMessage) => void;
}

export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEMO_ROOTS: Record<string, string> = {
  '/': join(ROOT, 'public'),
  '/dist/': join(ROOT, 'dist'),
  '/models/': join(ROOT, 'models'),
};

/** Types worth compressing: text, JSON, wasm (images and int8 embeddings barely shrink). */
const COMPRESSIBLE = /^(text\/|application\/(json|wasm|javascript)|image\/svg)/;
/** Larger files are streamed as they are. */
const MAX_COMPRESSED = 64 * 1024 * 1024;
const compressed = new Map<string, Buffer>();

/** The encoding to send: brotli or gzip if the request accepts it (q=0 refuses), else none. */
function encodingFor(req: IncomingMessage, type: string, size: number): 'br' | 'gzip' | undefined {
  if (!COMPRESSIBLE.test(type) || size < 1024 || size > MAX_COMPRESSED) return undefined;
  const accepted = new Set(
    String(req.headers['accept-encoding'] ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => !q || !/^\s*q=0(\.0*)?\s*$/.test(q))
      .map(([name]) => name!.trim().toLowerCase()),
  );
  return accepted.has('br') ? 'br' : accepted.has('gzip') ? 'gzip' : undefined;
}

/** The file compressed, kept per version (path, size, mtime) while the server runs. */
function compress(file: string, stat: Stats, encoding: 'br' | 'gzip'): Buffer {
  const key = `${encoding}:${file}:${stat.size}:${stat.mtimeMs}`;
  let body = compressed.get(key);
  if (!body) {
    const raw = readFileSync(file);
    body = encoding === 'br' ? brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }) : gzipSync(raw, { level: 9 });
    compressed.set(key, body);
  }
  return body;
}

function locate(pathname: string, roots: Record<string, string>): string | undefined {
  const prefix = Object.keys(roots)
    .filter((p) => pathname.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return undefined;
  const dir = resolve(roots[prefix]!);
  const file = resolve(dir, normalize('./' + pathname.slice(prefix.length)));
  // No escaping the root with `..` or encoded separators.
  return file === dir || file.startsWith(dir + sep) ? file : undefined;
}

function statFile(path: string): Stats | undefined {
  try {
    const s = statSync(path);
    if (s.isDirectory()) return statFile(join(path, 'index.html'));
    return s.isFile() ? s : undefined;
  } catch {
    return undefined;
  }
}

export function handler(opts: ServeOptions) {
  const roots = opts.roots ?? DEMO_ROOTS;
  const isolate = opts.isolate ?? true;
  const compressing = opts.compress ?? true;
  return (req: IncomingMessage, res: ServerResponse) => {
    opts.onRequest?.(req);
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers, ...opts.headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method === 'OPTIONS') {
      return send(204, '', { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Max-Age': '600' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed', { Allow: 'GET, HEAD' });
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad request');
    }
    let file = pathname.includes('\0') ? undefined : locate(pathname, roots);
    let stat = file ? statFile(file) : undefined;
    if (file && stat && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !stat) return send(404, `not found: ${pathname}`);
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const encoding = compressing ? encodingFor(req, type, stat.size) : undefined;
    const etag = `"${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}${encoding ? `-${encoding}` : ''}"`;
    const headers: Record<string, string> = {
      'Content-Type': type,
      ETag: etag,
      'Cache-Control': /^\/dist\/chunks\/[^/]+-[\w-]{8}\.js$/.test(pathname) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      Vary: 'Accept-Encoding',
    };
    if (isolate && type.startsWith('text/html')) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    Object.assign(headers, opts.headers);
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    if (encoding) {
      const body = compress(file, stat, encoding);
      res.writeHead(200, { ...headers, 'Content-Encoding': encoding, 'Content-Length': String(body.length) });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(stat.size) });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };
}

/** Starts a server; port 0 picks a free one. */
export function serve(opts: ServeOptions = {}): Promise<Served> {
  const server = createServer(handler(opts));
  const host = opts.host ?? 'localhost';
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4173, host, () => {
      const { port } = server.address() as AddressInfo;
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      resolvePromise({
        url: `http://${shown}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const port = Number(process.env.PORT ?? 4173);
  const host = process.env.HOST || 'localhost';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT=${process.env.PORT} is not a port number (0–65535)`);
    process.exit(2);
  }
  if (!statFile(join(ROOT, 'dist', 'vitrine.js'))) {
    console.error('dist/vitrine.js is missing: run `npm run build` first (`npm run demo` does both).');
    process.exit(1);
  }
  serve({ port, host, isolate: process.env.ISOLATE !== '0' }).then(
    (s) => {
      console.log(`Vitrine demo store: ${s.url}`);
      console.log('(shoppers in the demo bundle are simulated; product images: Fashion-MNIST by Zalando Research, MIT). Ctrl-C stops.');
    },
    (e: NodeJS.ErrnoException) => {
      console.error(e.code === 'EADDRINUSE' ? `port ${port} on ${host} is in use: set PORT to another (PORT=8080 npm run demo)` : `cannot listen on ${host}:${port}: ${e.message}`);
      process.exit(1);
    },
  );
}
