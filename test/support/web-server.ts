/**
 * A tiny HTTP server on 127.0.0.1 for the browser tests: serves web/ the way `clicklake serve`
 * must (GET / -> web/menu.html, GET /<file> -> web/<file>), records every POST /events body with
 * the status it got, answers 503 to the first `failFirst` of them, and answers POST /order 200.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export interface EventsRequest {
  status: number;
  contentType: string;
  /** `no-cors` for navigator.sendBeacon, `cors` for the tracker's fetch (Sec-Fetch-Mode). */
  fetchMode: string;
  events: Array<Record<string, unknown> & { event_id: string; event_type: string }>;
}

export interface WebServer {
  base: string;
  requests: EventsRequest[];
  orders: unknown[];
  /** While true, every POST /events is answered 503. */
  failing: boolean;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebServer(options: { failFirst?: number } = {}): Promise<WebServer> {
  const requests: EventsRequest[] = [];
  const orders: unknown[] = [];
  let posts = 0;
  const state = { failing: false };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'POST' && url.pathname === '/events') {
        const body = JSON.parse(await bodyOf(req)) as EventsRequest['events'] | EventsRequest['events'][number];
        const status = posts++ < (options.failFirst ?? 0) || state.failing ? 503 : 200;
        const events = Array.isArray(body) ? body : [body];
        requests.push({ status, contentType: req.headers['content-type'] ?? '', fetchMode: String(req.headers['sec-fetch-mode'] ?? ''), events });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? JSON.stringify({ accepted: events.length }) : '{"message":"unavailable"}');
        return;
      }
      if (req.method === 'POST' && url.pathname === '/order') {
        orders.push(JSON.parse(await bodyOf(req)));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      }
      const file = url.pathname === '/' ? 'menu.html' : url.pathname.slice(1);
      if (req.method !== 'GET' || file.includes('/') || !TYPES[path.extname(file)]) {
        res.writeHead(404).end();
        return;
      }
      try {
        const content = await readFile(path.join(WEB_DIR, file));
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)]! }).end(content);
      } catch {
        res.writeHead(404).end();
      }
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    orders,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
