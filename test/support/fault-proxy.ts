/**
 * An HTTP proxy between the AWS SDK and an S3 server that breaks requests on purpose: 503
 * SlowDown and 500 InternalError answers, connections reset before an answer, answers cut off
 * mid-body (reset), bodies truncated with a normal close, and answers that stall mid-body for
 * `stallMs` (past the client's idle timeout) before going on. `decide` picks the fault per
 * request; every request and what was done to it is recorded.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'slowdown' | 'internal' | 'reset' | 'reset-mid-body' | 'truncate' | 'stall';

export interface ProxiedRequest {
  method: string;
  path: string;
  fault?: Fault;
}

export interface FaultProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  /** Replaces the fault policy (e.g. `() => undefined` to stop the faults). */
  decide: (r: { method: string; path: string; n: number }) => Fault | undefined;
  /**
   * Called once the server has carried out a request and before its answer is sent: e.g. to
   * SIGKILL the client right after a write took effect. Returning true drops the answer.
   */
  afterForward: (r: ProxiedRequest, status: number) => Promise<boolean> | boolean;
  close(): Promise<void>;
}

const S3_ERRORS: Record<'slowdown' | 'internal', { status: number; code: string; message: string }> = {
  slowdown: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  internal: { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (res) => {
      readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

export async function startFaultProxy(target: string, decide: FaultProxy['decide'] = () => undefined, stallMs = 3000): Promise<FaultProxy> {
  const to = new URL(target);
  const requests: ProxiedRequest[] = [];
  const proxy: FaultProxy = { endpoint: '', requests, decide, afterForward: () => false, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const record: ProxiedRequest = { method: req.method ?? '', path: req.url ?? '' };
      requests.push(record);
      const fault = proxy.decide({ method: record.method, path: record.path, n: requests.length });
      if (fault) record.fault = fault;
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === 'slowdown' || fault === 'internal') {
        const e = S3_ERRORS[fault];
        res.writeHead(e.status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message><RequestId>fault-${requests.length}</RequestId></Error>`);
        return;
      }
      const answer = await forward(to, req, body);
      if (await proxy.afterForward(record, answer.status)) {
        req.socket.destroy();
        return;
      }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answer.body.length);
      if ((fault === 'reset-mid-body' || fault === 'truncate') && answer.body.length > 1) {
        res.writeHead(answer.status, headers);
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        // Reset: the socket dies. Truncate: a clean close, short of the content-length.
        if (fault === 'reset-mid-body') setImmediate(() => req.socket.destroy());
        else setImmediate(() => req.socket.end());
        return;
      }
      if (fault === 'stall') {
        res.writeHead(answer.status, headers);
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        await new Promise((r) => setTimeout(r, stallMs));
        if (!res.destroyed) res.end(answer.body.subarray(Math.floor(answer.body.length / 2)));
        return;
      }
      res.writeHead(answer.status, headers).end(answer.body);
    })().catch(() => req.socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
  return proxy;
}
