/**
 * A test server that misbehaves on purpose: per request it may answer with an error status, drop
 * the connection mid-file, stall, trickle, lie about the length or stream without end. Anything the
 * route does not answer falls through to the demo store (scripts/serve.ts). It counts requests and
 * bytes sent per path, so tests can assert that retries happened and were bounded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { handler } from '../../scripts/serve.js';

/** How a reply's bytes are delivered. */
export type Delivery =
  /** All of it, with a true Content-Length. */
  | { how: 'whole' }
  /** `after` bytes of a true Content-Length, then the socket is destroyed. */
  | { how: 'drop'; after: number }
  /** `after` bytes, then nothing, never finishing. */
  | { how: 'stall'; after: number }
  /** The body in `chunks` pieces, `everyMs` apart. */
  | { how: 'slow'; chunks: number; everyMs: number }
  /** A chunked body (no Content-Length) that never ends: the body repeated forever. */
  | { how: 'endless' }
  /** Claims `length` bytes in Content-Length, then trickles the body forever. */
  | { how: 'lying-length'; length: number };

export interface Reply {
  status?: number;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  delivery?: Delivery;
}

/** Answers a request, or returns undefined to let the demo store serve it. `hit` counts from 1 per path. */
export type Route = (path: string, hit: number, req: IncomingMessage) => Reply | undefined;

export interface FaultServer {
  url: string;
  /** Requests seen for a path (query ignored). */
  hits(path: string): number;
  /** Body bytes written for a path. */
  sent(path: string): number;
  route: Route;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.html': 'text/html; charset=utf-8', '.js': 'text/javascript' };

export async function startFaultServer(route: Route): Promise<FaultServer> {
  const hits = new Map<string, number>();
  const sent = new Map<string, number>();
  const fallback = handler({});
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => (timers.delete(t), f()), ms);
    timers.add(t);
  };
  const server: FaultServer = {
    url: '',
    hits: (p) => hits.get(p) ?? 0,
    sent: (p) => sent.get(p) ?? 0,
    route,
    close: () =>
      new Promise<void>((done) => {
        timers.forEach(clearTimeout);
        http.closeAllConnections();
        http.close(() => done());
      }),
  };
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    const reply = req.method === 'GET' ? server.route(path, hit, req) : undefined;
    if (!reply) return fallback(req, res);
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body ?? '');
    const status = reply.status ?? 200;
    const headers: Record<string, string> = {
      'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      ...reply.headers,
    };
    const write = (b: Buffer) => {
      sent.set(path, (sent.get(path) ?? 0) + b.length);
      return res.write(b);
    };
    const d = reply.delivery ?? { how: 'whole' };
    res.on('error', () => {});
    if (d.how === 'whole' || d.how === 'drop' || d.how === 'stall' || d.how === 'slow') {
      res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    } else {
      res.writeHead(status, d.how === 'lying-length' ? { ...headers, 'Content-Length': String(d.length) } : headers);
    }
    res.flushHeaders();
    switch (d.how) {
      case 'whole':
        write(body);
        return res.end();
      case 'drop':
        write(body.subarray(0, d.after));
        return later(50, () => res.destroy());
      case 'stall':
        write(body.subarray(0, d.after));
        return;
      case 'slow': {
        const size = Math.ceil(body.length / d.chunks);
        const next = (at: number) => {
          if (res.destroyed) return;
          write(body.subarray(at, at + size));
          if (at + size >= body.length) res.end();
          else later(d.everyMs, () => next(at + size));
        };
        return next(0);
      }
      case 'endless':
      case 'lying-length': {
        // As fast as the client reads (backpressure), until it hangs up.
        const piece = body.length ? body : Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && write(piece));
          if (!res.destroyed) res.once('drain', pump);
        };
        return d.how === 'endless' ? pump() : later(0, pump);
      }
    }
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  return server;
}
