/**
 * The HTTP side of `clicklake serve`: the ingestion API of DESIGN.md ("Ingestion API") on fastify,
 * the demo menu at `/`, the dashboard at `/dashboard` and a stub order API.
 *
 *   POST /events  one event or an array of 1..500, application/json or text/plain, <= 1,000 KiB
 *     200 {"accepted": N}   once the body is durable (the record is the body, byte for byte)
 *     400 invalid UTF-8 / JSON / model, with the reasons
 *     413 over 1,000 KiB or over 500 events;  415 another media type;  429 over the rate
 *     500 the spool could not take it (clients retry)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES } from './request-model.js';
import type { RequestCheck } from './request-validator.js';
import type { TokenBucket } from './rate-limit.js';

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** The demo site: `/` is the menu; nothing else under web/ is served. */
const WEB_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'menu.html', type: 'text/html; charset=utf-8' },
  '/menu.html': { file: 'menu.html', type: 'text/html; charset=utf-8' },
  '/tracker.js': { file: 'tracker.js', type: 'text/javascript; charset=utf-8' },
  '/menu.js': { file: 'menu.js', type: 'text/javascript; charset=utf-8' },
  '/menu.css': { file: 'menu.css', type: 'text/css; charset=utf-8' },
};

export interface IngestAppOptions {
  /** The draft-4 request model, compiled. */
  check: (body: unknown) => RequestCheck;
  /** Makes the record durable; the 200 waits for it. */
  accept: (record: Buffer, arrivalMs: number) => Promise<void>;
  /** Origins allowed to post from a browser (`*` for any); none: same-origin only. */
  allowedOrigins: string[];
  /** Stage throttling; undefined: no limit. */
  throttle?: TokenBucket;
  /** The dashboard page (built on each request); undefined answers 404 with the reason. */
  dashboard?: () => Promise<string>;
  /** Why there is no dashboard, when `dashboard` is undefined. */
  noDashboard?: string;
  /** Called with each stub order (the demo's kitchen). */
  onOrder?: (order: unknown) => void;
  /** Extra fields for GET /health. */
  health?: () => Record<string, unknown>;
  /** fastify's logger; default off. */
  logger?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function refuse(reply: FastifyReply, status: number, message: string, errors?: string[]): FastifyReply {
  return reply.code(status).type('application/json').send(errors ? { message, errors } : { message });
}

export async function buildIngestApp(options: IngestAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: MAX_BODY_BYTES });
  // Keep the body's bytes: the Firehose record is the request body exactly as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  if (options.allowedOrigins.length > 0) {
    const any = options.allowedOrigins.includes('*');
    await app.register(cors, {
      origin: any ? '*' : options.allowedOrigins,
      methods: ['POST', 'OPTIONS'],
      allowedHeaders: ['Content-Type'],
      maxAge: 600,
    });
  }

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 413, `the body is over ${MAX_BODY_BYTES} bytes (1,000 KiB, Firehose's record limit): send fewer events per request`);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return refuse(reply, 415, 'send the events as application/json or text/plain');
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return refuse(reply, status, status >= 500 ? 'internal error: retry the request' : err.message);
  });

  const throttle = options.throttle;
  // Throttled before the body is read, like API Gateway's stage limit.
  const onRequest = throttle
    ? async (_req: unknown, reply: FastifyReply) => {
        if (!throttle.take()) return refuse(reply.header('retry-after', '1'), 429, 'Too Many Requests');
        return undefined;
      }
    : undefined;

  app.post('/events', { ...(onRequest ? { onRequest } : {}) }, async (req, reply) => {
    const arrivalMs = Date.now();
    const raw = req.body;
    if (!Buffer.isBuffer(raw)) return refuse(reply, 415, 'send the events as application/json or text/plain');
    if (raw.length === 0) return refuse(reply, 400, 'the body is empty: send one event or an array of events');
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(raw));
    } catch (err) {
      const reason = err instanceof SyntaxError ? `not JSON: ${err.message}` : 'not UTF-8';
      return refuse(reply, 400, `the body is ${reason}`);
    }
    if (Array.isArray(body) && body.length > MAX_BATCH_EVENTS) {
      return refuse(reply, 413, `${body.length} events in one request: at most ${MAX_BATCH_EVENTS}; split the batch`);
    }
    const verdict = options.check(body);
    if (!verdict.ok) return refuse(reply, 400, 'the body does not match the request model', verdict.errors);
    try {
      await options.accept(raw, arrivalMs);
    } catch (err) {
      req.log.error(err);
      return refuse(reply, 500, 'the events could not be stored: retry the request');
    }
    return reply.code(200).send({ accepted: Array.isArray(body) ? body.length : 1 });
  });

  app.post('/order', async (req, reply) => {
    let order: unknown;
    try {
      order = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : 'null');
    } catch {
      return refuse(reply, 400, 'the order is not JSON');
    }
    options.onOrder?.(order);
    return reply.send({ ok: true, note: 'demo order stub: nothing is cooked' });
  });

  for (const [route, { file, type }] of Object.entries(WEB_FILES)) {
    app.get(route, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(await readFile(path.join(WEB_DIR, file))));
  }

  app.get('/dashboard', async (_req, reply) => {
    if (!options.dashboard) return refuse(reply, 404, options.noDashboard ?? 'no dashboard on this server');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await options.dashboard());
  });

  app.get('/health', async () => ({ ok: true, ...(options.health?.() ?? {}) }));
  return app;
}
