/**
 * The ingestion API of `clicklake serve` over real HTTP: every answer of the contract, CORS,
 * both content types, the limits, the rate limit; and what it delivers: Firehose-named objects
 * under the raw arrival hour, the request bodies byte for byte with a newline after each, which
 * compaction turns into exactly the events that were accepted.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/ingest/serve.js';
import { MAX_BODY_BYTES } from '../src/ingest/request-model.js';
import { deliverRecords } from '../src/ingest/delivery.js';
import { DEFAULT_LAYOUT } from '../src/partitions/layout.js';
import { openStore } from '../src/storage/open.js';
import { loadTable } from '../src/schema/load.js';
import { clickstream, type ClickEvent } from '../src/synth/clickstream.js';
import { runCli } from './support/cli.js';
import { curatedRows } from './support/serve-child.js';

const FIREHOSE_NAME = /^raw\/click_events\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/clicklake-click_events-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\.gz)?$/;

let dirs: string[] = [];
let servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  servers = [];
  dirs = [];
});

async function serve(overrides: Partial<ServeOptions> = {}): Promise<{ server: RunningServer; lakeDir: string }> {
  const lakeDir = await mkdtemp(path.join(tmpdir(), 'clicklake-serve-'));
  dirs.push(lakeDir);
  const server = await startServer({
    lake: pathToFileURL(lakeDir).href,
    spec: await loadTable('click_events'),
    settings: resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    hints: { sizeBytes: 5 << 20, intervalMs: 60_000 },
    gzip: false,
    stream: 'clicklake-click_events',
    allowedOrigins: ['https://menu.example.com'],
    compactGraceMs: 60_000,
    log: () => undefined,
    ...overrides,
  });
  servers.push(server);
  return { server, lakeDir };
}

function recentEvents(count: number, seed = 11): ClickEvent[] {
  return [...clickstream({ seed, events: count, startMs: Date.now() - 3_600_000, spanMs: 1_800_000 })];
}

async function post(url: string, body: string | Buffer, contentType = 'application/json', headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

async function rawObjects(lakeDir: string): Promise<Array<{ key: string; body: Buffer }>> {
  const root = path.join(lakeDir, 'raw');
  // Skip the local store's temp files (.name.tmp-*): renamed into place while we list.
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.'));
  return Promise.all(files.map(async (f) => {
    const full = path.join(f.parentPath, f.name);
    return { key: path.relative(lakeDir, full).split(path.sep).join('/'), body: await readFile(full) };
  }));
}

describe('clicklake serve: the answers of the ingestion contract', () => {
  it('200 {"accepted": N} for one event and for a batch, as application/json and as text/plain (sendBeacon)', async () => {
    const { server } = await serve();
    const [one, ...batch] = recentEvents(26);
    expect(await post(server.url, JSON.stringify(one))).toMatchObject({ status: 200, json: { accepted: 1 } });
    expect(await post(server.url, JSON.stringify(batch), 'text/plain;charset=UTF-8')).toMatchObject({ status: 200, json: { accepted: 25 } });
    expect(await post(server.url, JSON.stringify(batch.slice(0, 3)), 'application/json; charset=utf-8')).toMatchObject({ status: 200, json: { accepted: 3 } });
  });

  it('400 for a body that is not JSON, not UTF-8, empty, an empty batch, or outside the model, with the reasons', async () => {
    const { server } = await serve();
    const [event] = recentEvents(1);
    const notJson = await post(server.url, '{"event_id": "x",');
    expect(notJson.status).toBe(400);
    expect(String(notJson.json['message'])).toMatch(/not JSON/);
    const latin1 = Buffer.from(JSON.stringify({ ...event, item_name: 'Crème' }), 'latin1');
    expect((await post(server.url, latin1)).json).toEqual({ message: 'the body is not UTF-8' });
    expect((await post(server.url, '')).status).toBe(400);
    expect((await post(server.url, '[]')).status).toBe(400);
    const wrongType = await post(server.url, JSON.stringify({ ...event, event_type: 'menu_opened' }));
    expect(wrongType.status).toBe(400);
    expect((wrongType.json['errors'] as string[]).join('\n')).toMatch(/event_type/);
    const badInBatch = await post(server.url, JSON.stringify([event, { ...event, scroll_depth_pct: 'deep' }]));
    expect(badInBatch.status).toBe(400);
    expect((badInBatch.json['errors'] as string[]).join('\n')).toMatch(/\/1\/scroll_depth_pct/);
  });

  it('413 over 1,000 KiB or over 500 events; 1,000 KiB exactly and 500 events are accepted', async () => {
    const { server } = await serve();
    const events = recentEvents(501, 3);
    expect((await post(server.url, JSON.stringify(events))).status).toBe(413);
    expect(await post(server.url, JSON.stringify(events.slice(0, 500)))).toMatchObject({ status: 200, json: { accepted: 500 } });
    const [event] = recentEvents(1, 5);
    const exact = (bytes: number): string => {
      const base = JSON.stringify({ ...event, user_agent: '' });
      return JSON.stringify({ ...event, user_agent: 'x'.repeat(bytes - Buffer.byteLength(base)) });
    };
    expect(Buffer.byteLength(exact(MAX_BODY_BYTES))).toBe(MAX_BODY_BYTES);
    expect(await post(server.url, exact(MAX_BODY_BYTES))).toMatchObject({ status: 200, json: { accepted: 1 } });
    const over = await post(server.url, exact(MAX_BODY_BYTES + 1));
    expect(over.status).toBe(413);
    expect(String(over.json['message'])).toMatch(/1,000 KiB/);
  });

  it('415 for other media types', async () => {
    const { server } = await serve();
    const body = JSON.stringify(recentEvents(1)[0]);
    for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await post(server.url, body, type);
      expect(res.status, type).toBe(415);
      expect(String(res.json['message'])).toMatch(/application\/json or text\/plain/);
    }
  });

  it('429 above the configured rate, and 200 again once the bucket refills', async () => {
    const { server } = await serve({ rate: { perSecond: 2, burst: 3 } });
    const body = JSON.stringify(recentEvents(1)[0]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(server.url, body)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toContain(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await post(server.url, body)).status).toBe(200);
  });

  it('answers the CORS preflight for the configured origins only, and puts the origin on answers', async () => {
    const { server } = await serve();
    const preflight = (origin: string) => fetch(`${server.url}/events`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight('https://menu.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://menu.example.com');
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/content-type/);
    const other = await preflight('https://evil.example.net');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await post(server.url, JSON.stringify(recentEvents(1)[0]), 'text/plain', { origin: 'https://menu.example.com' });
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://menu.example.com');
  });

  it('serves the demo menu at / with the tracker, and the dashboard at /dashboard before any data', async () => {
    const { server } = await serve();
    const menu = await fetch(`${server.url}/`);
    expect(menu.headers.get('content-type')).toMatch(/text\/html/);
    expect(await menu.text()).toMatch(/<script src="tracker.js"/);
    expect((await fetch(`${server.url}/tracker.js`)).status).toBe(200);
    const dashboard = await fetch(`${server.url}/dashboard`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toMatch(/<html/i);
    expect((await fetch(`${server.url}/../package.json`)).status).toBe(404);
  });
});

describe('clicklake serve: Firehose-compatible delivery', () => {
  it('writes each accepted body byte for byte with a newline after it, in Firehose-named objects under the UTC arrival hour; refused bodies go nowhere', async () => {
    const { server, lakeDir } = await serve();
    const events = recentEvents(60, 21);
    const bodies = [JSON.stringify(events[0]), JSON.stringify(events.slice(1, 30), null, 2), JSON.stringify(events.slice(30))];
    const before = Date.now();
    for (const b of bodies) expect((await post(server.url, b, 'text/plain')).status).toBe(200);
    expect((await post(server.url, '{"broken"')).status).toBe(400);
    await server.close();
    const objects = await rawObjects(lakeDir);
    expect(objects).toHaveLength(1);
    const m = FIREHOSE_NAME.exec(objects[0]!.key);
    expect(m, objects[0]!.key).not.toBeNull();
    const hour = new Date(before).toISOString().slice(0, 13);
    expect(`${m![1]}-${m![2]}-${m![3]}T${m![4]}`).toBe(hour);
    expect(`${m![5]}-${m![6]}-${m![7]}T${m![8]}`).toBe(hour);
    expect(objects[0]!.body.toString('utf8')).toBe(bodies.map((b) => `${b}\n`).join(''));
    expect(await readdir(path.join(lakeDir, '_spool', 'click_events'))).toEqual([]);
  });

  it('delivers when the buffer reaches its size, and GZIPs with --gzip', async () => {
    const { server, lakeDir } = await serve({ hints: { sizeBytes: 4096, intervalMs: 600_000 }, gzip: true });
    const events = recentEvents(100, 4);
    const bodies: string[] = [];
    for (let i = 0; i < events.length; i += 10) bodies.push(JSON.stringify(events.slice(i, i + 10)));
    for (const b of bodies) expect((await post(server.url, b)).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while ((await rawObjects(lakeDir).catch(() => [])).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const early = await rawObjects(lakeDir);
    expect(early.length).toBeGreaterThanOrEqual(2);
    await server.close();
    const objects = (await rawObjects(lakeDir)).sort((a, b) => a.key.localeCompare(b.key));
    for (const o of objects) expect(o.key).toMatch(/\.gz$/);
    const text = objects.map((o) => gunzipSync(o.body).toString('utf8'));
    expect(text.join('').split('\n').filter(Boolean).sort()).toEqual([...bodies].sort());
  });

  it('delivers on the interval even when the buffer is small', async () => {
    const { server, lakeDir } = await serve({ hints: { sizeBytes: 5 << 20, intervalMs: 300 } });
    expect((await post(server.url, JSON.stringify(recentEvents(1)[0]))).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while ((await rawObjects(lakeDir).catch(() => [])).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await rawObjects(lakeDir)).toHaveLength(1);
  });

  it('every event the demo generator makes is accepted, and compaction turns the delivery into exactly those events', async () => {
    const { server, lakeDir } = await serve();
    const events = recentEvents(2000, 8);
    const answers = await Promise.all(
      Array.from({ length: Math.ceil(events.length / 25) }, (_, i) => post(server.url, JSON.stringify(events.slice(i * 25, i * 25 + 25)), i % 2 ? 'text/plain' : 'application/json')),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    expect(answers.reduce((n, a) => n + Number(a.json['accepted']), 0)).toBe(events.length);
    await server.close();
    const now = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const compact = await runCli(['compact', '--lake', lakeDir, '--all', '--now', now, '--json'], lakeDir);
    expect(compact.code, compact.stderr).toBe(0);
    const summary = JSON.parse(compact.stdout) as { totals: { recordsIn: number; written: number; rejected: number; duplicates: number } };
    expect(summary.totals).toMatchObject({ recordsIn: events.length, written: events.length, rejected: 0, duplicates: 0 });
    const rows = await curatedRows(lakeDir, 'click_events');
    expect(rows.map((r) => r['event_id']).sort()).toEqual(events.map((e) => e.event_id).sort());
  });

  it('with compact-every, compacts closed hours in the background', async () => {
    const lakeDir = await mkdtemp(path.join(tmpdir(), 'clicklake-serve-bg-'));
    dirs.push(lakeDir);
    const twoHoursAgo = Date.now() - 2 * 3_600_000;
    const events = [...clickstream({ seed: 12, events: 300, startMs: twoHoursAgo - 1_800_000, spanMs: 600_000 })];
    const store = openStore(pathToFileURL(lakeDir).href);
    await deliverRecords(
      { store, layout: DEFAULT_LAYOUT, table: 'click_events', stream: 'clicklake-click_events', gzip: false },
      { id: 'earlier' },
      events.map((e) => ({ arrivalMs: twoHoursAgo, payload: Buffer.from(JSON.stringify(e)) })),
    );
    const { server } = await serve({ lake: pathToFileURL(lakeDir).href, compactEveryMs: 200, compactGraceMs: 60_000 });
    const manifest = path.join(lakeDir, '_manifests', 'click_events', new Date(twoHoursAgo).toISOString().slice(0, 13).replace(/-/g, '/').replace('T', '/') + '.json');
    const deadline = Date.now() + 30_000;
    while (!(await readFile(manifest).then(() => true, () => false)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await server.close();
    const rows = await curatedRows(lakeDir, 'click_events');
    expect(rows.map((r) => r['event_id']).sort()).toEqual(events.map((e) => e.event_id).sort());
  });

  it('refuses a second server on the same spool, naming the fix', async () => {
    const { lakeDir } = await serve();
    await expect(serve({ lake: pathToFileURL(lakeDir).href })).rejects.toThrow(/another clicklake serve .*--spool/);
  });
});
