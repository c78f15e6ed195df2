/**
 * The whole local path in real headless Chromium: the demo menu opened from `clicklake serve`, a
 * guest's visit (scroll through every section, tap a dish, order one, leave), delivery into the
 * raw zone, compaction, and the curated table holding exactly the events the page made, none
 * twice; the same with the first requests answered 503 (a proxy in front of the server); then the
 * dashboard at /dashboard showing those numbers, with a screenshot kept in test-artifacts/.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../src/config/settings.js';
import { startServer, type RunningServer } from '../src/ingest/serve.js';
import { loadTable } from '../src/schema/load.js';
import { chromiumSkipReason, launchChromium, type Browser } from './support/chromium.js';
import { runCli } from './support/cli.js';
import { panelRows } from './support/dashboard-html.js';
import type { Page } from 'playwright-core';
import { expectVisitEvents, ORDERED_ITEM, TAPPED_ITEM, trackerHasSent, visitMenu, type MenuVisit } from './support/menu-visit.js';
import { curatedRows } from './support/serve-child.js';

const ARTIFACTS = path.resolve('test-artifacts');
const skip = chromiumSkipReason();
if (skip) console.warn(`skipping the end-to-end browser tests of clicklake serve: ${skip}`);

let browser: Browser;
const dirs: string[] = [];
beforeAll(async () => {
  if (!skip) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function serveLake(lakeDir: string): Promise<RunningServer> {
  return startServer({
    lake: pathToFileURL(lakeDir).href,
    spec: await loadTable('click_events'),
    settings: resolveSettings({}),
    host: '127.0.0.1',
    port: 0,
    hints: { sizeBytes: 5 << 20, intervalMs: 200 },
    gzip: false,
    stream: 'clicklake-click_events',
    allowedOrigins: [],
    compactGraceMs: 60_000,
    log: () => undefined,
  });
}

/** Events in the raw zone so far (each id once). */
async function rawEventIds(lakeDir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const root = path.join(lakeDir, 'raw');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries.filter((x) => x.isFile() && !x.name.startsWith('.'))) {
    for (const line of (await readFile(path.join(e.parentPath, e.name), 'utf8')).split('\n').filter(Boolean)) {
      const body = JSON.parse(line) as { event_id: string } | Array<{ event_id: string }>;
      for (const ev of Array.isArray(body) ? body : [body]) ids.add(ev.event_id);
    }
  }
  return ids;
}

/** A proxy in front of `target` that answers 503 to the first `failFirst` POST /events. */
async function flakyProxy(target: string, failFirst: number): Promise<{ base: string; refused: number; forwarded: number; close(): Promise<void> }> {
  const state = { refused: 0, forwarded: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.method === 'POST' && req.url === '/events' && state.refused < failFirst) {
        state.refused++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
        return;
      }
      if (req.method === 'POST' && req.url === '/events') state.forwarded++;
      const headers: Record<string, string> = {};
      if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
      const answer = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' }).end(Buffer.from(await answer.arrayBuffer()));
    })().catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return state.refused;
    },
    get forwarded() {
      return state.forwarded;
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A visit through `base` (the server or a proxy to it), then delivery and compaction. The tracker
 * sends no beacon while it backs off, so a test with refusals waits (`beforeLeave`) for a retry.
 */
async function visitAndCompact(lakeDir: string, server: RunningServer, base: string, beforeLeave?: (page: Page) => Promise<void>): Promise<{ visit: MenuVisit; rows: Array<Record<string, unknown>> }> {
  const visit = await visitMenu(browser.context, `${base}/`, beforeLeave);
  await waitFor(async () => (await rawEventIds(lakeDir)).size >= visit.made, `${visit.made} events in the raw zone`);
  await server.close();
  const now = new Date(Date.now() + 2 * 3_600_000).toISOString();
  const compact = await runCli(['compact', '--lake', lakeDir, '--all', '--now', now], lakeDir);
  expect(compact.code, compact.stderr).toBe(0);
  return { visit, rows: await curatedRows(lakeDir, 'click_events') };
}

describe.skipIf(skip)('clicklake serve end to end in Chromium', () => {
  it('a visit to the menu from clicklake serve ends in the curated table exactly, and the dashboard shows it', async () => {
    const lakeDir = await mkdtemp(path.join(tmpdir(), 'clicklake-e2e-'));
    dirs.push(lakeDir);
    const server = await serveLake(lakeDir);
    const { visit, rows } = await visitAndCompact(lakeDir, server, server.url);
    expectVisitEvents(rows, visit);

    const again = await serveLake(lakeDir);
    try {
      const html = await (await fetch(`${again.url}/dashboard`)).text();
      // Every dish was viewed once and one was tapped: the tapped one leads the most viewed.
      const dishes = panelRows(html, 'most_viewed_dishes');
      expect(dishes.length).toBe(Math.min(15, visit.itemIds.length));
      expect(dishes.every((d) => d['views'] === 1)).toBe(true);
      expect(dishes.filter((d) => d['clicks'] === 1).map((d) => d['item_id'])).toEqual(dishes.some((d) => d['item_id'] === TAPPED_ITEM) ? [TAPPED_ITEM] : []);
      const conversion = panelRows(html, 'view_to_order').find((r) => r['item_id'] === ORDERED_ITEM);
      expect(conversion).toMatchObject({ views: 1, order_clicks: 1 });
      expect(panelRows(html, 'section_funnel').map((r) => [r['section_index'], r['sessions_reached']])).toEqual(visit.sections.map((s) => [s.index, 1]));
      expect(panelRows(html, 'visits_per_day').map((r) => r['sessions'])).toEqual([1]);

      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${again.url}/dashboard`);
      expect(await page.locator('[data-kpi="visits"] .value').textContent()).toBe('1');
      expect(await page.locator('[data-kpi="ordering_visits"] .value').textContent()).toBe('1');
      const ordered = page.locator('table[data-panel="view_to_order"] tbody tr').filter({ has: page.locator('td[data-column="item_id"]', { hasText: ORDERED_ITEM }) });
      expect(await ordered.locator('td[data-column="order_clicks"]').textContent({ timeout: 5_000 })).toBe('1');
      expect(await page.locator('figure.chart svg').count()).toBe(5);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'serve-dashboard.png'), fullPage: true });
      await page.close();
    } finally {
      await again.close();
    }
  });

  it('with 503 to the first requests, the curated table ends with the same events, none twice', async () => {
    const lakeDir = await mkdtemp(path.join(tmpdir(), 'clicklake-e2e-503-'));
    dirs.push(lakeDir);
    const server = await serveLake(lakeDir);
    const proxy = await flakyProxy(server.url, 3);
    try {
      const { visit, rows } = await visitAndCompact(lakeDir, server, proxy.base, async (page) => {
        await waitFor(async () => proxy.refused >= 3 && proxy.forwarded > 0, 'a retry past the three 503s');
        await trackerHasSent(page);
      });
      expect(proxy.refused).toBe(3);
      expectVisitEvents(rows, visit);
    } finally {
      await proxy.close();
    }
  });
});
