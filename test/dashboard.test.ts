/**
 * The dashboard on a small compacted lake (demo generator + `clicklake compact`): its tables
 * hold the curated views' numbers, its CSV links the same rows, the filters reach the SQL, the
 * page needs nothing from the network, and Chromium shows it.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboardHtml } from '../src/dashboard/build.js';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { applyViewsLocally, openLocalEngine, type LocalEngine } from '../src/query/local-engine.js';
import { loadViews } from '../src/query/views.js';
import { loadSchemas } from '../src/schema/load.js';
import { duckdbType } from '../src/schema/render-types.js';
import { openStore } from '../src/storage/open.js';
import { chromiumSkipReason, launchChromium } from './support/chromium.js';
import { runCli } from './support/cli.js';
import { panelCsv, panelRows } from './support/dashboard-html.js';

const ARTIFACTS = path.resolve('test-artifacts');
const skipBrowser = chromiumSkipReason();
if (skipBrowser) console.warn(`skipping the dashboard's browser check: ${skipBrowser}`);

let work: string;
let lake: string;
let engine: LocalEngine;
let html: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-dashboard-'));
  lake = path.join(work, 'lake');
  const raw = await writeSyntheticLake({ store: openStore(lake), table: 'click_events', seed: 5, events: 1500, startDate: '2024-05-06', days: 2, restaurants: 3 });
  const now = new Date(raw.lastArrivalMs + 3 * 3_600_000).toISOString();
  const compacted = await runCli(['compact', '--lake', lake, '--all', '--now', now, '--parallel', '2', '--json'], work);
  if (compacted.code !== 0) throw new Error(compacted.stderr);
  const built = await runCli(['dashboard', '--lake', lake, '--out', 'report.html'], work);
  if (built.code !== 0) throw new Error(built.stderr);
  expect(built.stdout).toMatch(/^wrote .*report\.html \(\d+ bytes\)\n$/);
  html = await readFile(path.join(work, 'report.html'), 'utf8');
  const tables = (await loadSchemas()).map((s) => ({ name: s.name, columns: s.columns.map((c) => ({ name: c.name, duckdbType: duckdbType(c.type) })) }));
  engine = await openLocalEngine({ lakeDir: lake, tables });
  await applyViewsLocally(engine, await loadViews());
});
afterAll(async () => {
  await engine?.close();
  await rm(work, { recursive: true, force: true });
});

async function rows(sql: string): Promise<unknown[][]> {
  return (await engine.query(sql)).rows;
}

describe('clicklake dashboard', () => {
  it("shows each dish's views, taps and orders as item_views_daily sums them, the 15 most viewed first", async () => {
    const shown = panelRows(html, 'most_viewed_dishes');
    expect(shown).toHaveLength(15);
    const all = await rows('SELECT item_id, sum(views), sum(clicks), sum(order_clicks) FROM item_views_daily GROUP BY item_id');
    const byId = new Map(all.map(([id, ...n]) => [id, n]));
    for (const r of shown) expect([r['item_id'], r['views'], r['clicks'], r['order_clicks']]).toEqual([r['item_id'], ...byId.get(r['item_id'])!]);
    const views = shown.map((r) => r['views'] as number);
    expect(views).toEqual([...views].sort((a, b) => b - a));
    const notShown = all.filter(([id]) => !shown.some((r) => r['item_id'] === id)).map(([, v]) => v as number);
    expect(Math.max(...notShown)).toBeLessThanOrEqual(views.at(-1)!);
  });

  it('shows the section funnel, scroll depth and visits per day exactly as their views give them', async () => {
    const funnel = panelRows(html, 'section_funnel').map((r) => [r['section_index'], r['sessions_reached'], r['sessions_stopped_here']]);
    expect(funnel).toEqual(await rows('SELECT section_index, sum(sessions_reached), sum(sessions_stopped_here) FROM menu_section_funnel GROUP BY 1 ORDER BY 1'));
    expect(funnel.length).toBeGreaterThan(2);
    const scroll = panelRows(html, 'scroll_depth').map((r) => [r['depth_range'], r['sessions']]);
    expect(scroll).toEqual(await rows('SELECT depth_range, sum(sessions) FROM scroll_depth_distribution GROUP BY depth_bucket, depth_range ORDER BY depth_bucket'));
    const days = panelRows(html, 'visits_per_day').map((r) => [r['dt'], r['sessions'], r['ordering_sessions']]);
    expect(days).toEqual(await rows('SELECT dt, count(*), count_if(ordered) FROM session_summary GROUP BY dt ORDER BY dt'));
    expect(days.map((d) => d[0])).toEqual(['2024-05-06', '2024-05-07']);
    const [[visits]] = (await rows('SELECT count(*) FROM session_summary')) as [[number]];
    expect(html).toContain(`<div class="kpi" data-kpi="visits"><div class="label">Menu visits</div><div class="value">${visits.toLocaleString('en-US')}</div>`);
  });

  it('shows view -> order conversion recomputed from the sums of item_conversion', async () => {
    const shown = panelRows(html, 'view_to_order');
    expect(shown.length).toBeGreaterThan(0);
    for (const r of shown) {
      const [[views, orders]] = (await rows(`SELECT sum(views), sum(order_clicks) FROM item_conversion WHERE item_id = '${String(r['item_id'])}'`)) as [[number, number]];
      expect([r['views'], r['order_clicks']]).toEqual([views, orders]);
      expect(r['conversion_rate']).toBeCloseTo(orders / views, 12);
    }
    expect(shown.some((r) => (r['conversion_rate'] as number) > 0)).toBe(true);
  });

  it("gives each table's rows as a CSV download, with the exact values", () => {
    for (const panel of ['most_viewed_dishes', 'section_funnel', 'scroll_depth', 'view_to_order', 'visits_per_day']) {
      const [header, ...lines] = panelCsv(html, panel).trimEnd().split('\r\n');
      const table = panelRows(html, panel);
      const columns = header!.split(',');
      expect(columns).toEqual(Object.keys(table[0]!));
      expect(lines).toHaveLength(table.length);
      // Names here have no comma or quote, so a plain split reads them back.
      expect(lines.map((l) => l.split(','))).toEqual(table.map((r) => columns.map((c) => (r[c] === null ? '' : String(r[c])))));
    }
  });

  it('is one self-contained page: inline charts, no script, nothing fetched from anywhere', () => {
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\((?!#)/i); // url(#clip) is a chart's own clip path
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  });

  it('pushes --restaurant and --from/--to into the queries, and renders the same numbers from Athena-style text rows', async () => {
    const [[restaurant]] = (await rows('SELECT restaurant_id FROM session_summary GROUP BY 1 ORDER BY count(*) DESC LIMIT 1')) as [[string]];
    const filter = { restaurant, from: '2024-05-07', to: '2024-05-07' };
    const now = () => new Date('2024-05-08T09:00:00Z');
    const local = await buildDashboardHtml({ source: { kind: 'local', lakeDir: `file://${lake}` }, ...filter, now });
    expect(local).toContain(`restaurant ${restaurant}, 2024-05-07`);
    expect(panelRows(local, 'visits_per_day').map((r) => [r['dt'], r['sessions']])).toEqual(await rows(`SELECT dt, count(*) FROM session_summary WHERE restaurant_id = '${restaurant}' AND dt = '2024-05-07' GROUP BY dt`));
    const funnel = panelRows(local, 'section_funnel').map((r) => [r['section_index'], r['sessions_reached']]);
    expect(funnel).toEqual(await rows(`SELECT section_index, sessions_reached FROM menu_section_funnel WHERE restaurant_id = '${restaurant}' AND dt = '2024-05-07' ORDER BY 1`));
    expect(await buildDashboardHtml({ source: { kind: 'local', lakeDir: lake }, ...filter, now })).toBe(local); // deterministic

    // Athena returns every value as text: the page must come out the same.
    const seen: string[] = [];
    const run = async (sql: string) => {
      seen.push(sql);
      const r = await engine.query(sql);
      return { columns: r.columns, rows: r.rows.map((row) => row.map((v) => (v === null ? null : String(v)))) };
    };
    const athena = await buildDashboardHtml({ source: { kind: 'athena', run, label: `the lake ${lake}` }, ...filter, now });
    expect(athena).toBe(local);
    expect(seen).toHaveLength(5);
    for (const sql of seen) expect(sql).toContain(`WHERE dt BETWEEN '2024-05-07' AND '2024-05-07' AND restaurant_id = '${restaurant}'`);
  });

  it('says what to do for a bad date, a missing lake, an empty lake and a filter that matches nothing', async () => {
    const bad = await runCli(['dashboard', '--lake', lake, '--from', '2024-02-30', '--out', 'x.html'], work);
    expect([bad.code, bad.stderr]).toEqual([1, 'error: --from must be a date YYYY-MM-DD (UTC event date), got "2024-02-30"\n']);
    const reversed = await runCli(['dashboard', '--lake', lake, '--from', '2024-05-07', '--to', '2024-05-06', '--out', 'x.html'], work);
    expect([reversed.code, reversed.stderr]).toEqual([1, 'error: --from 2024-05-07 is after --to 2024-05-06: swap them\n']);
    const missing = await runCli(['dashboard', '--lake', path.join(work, 'nowhere'), '--out', 'x.html'], work);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no lake at .*nowhere: run `clicklake demo` or `clicklake compact` first, or pass --lake\n$/);
    await mkdir(path.join(work, 'empty', 'curated'), { recursive: true });
    const empty = await runCli(['dashboard', '--lake', path.join(work, 'empty'), '--out', 'x.html'], work);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^error: no curated click events in the lake .*empty: run `clicklake compact` \(or `clicklake demo`\) first\n$/);
    const none = await runCli(['dashboard', '--lake', lake, '--restaurant', 'no-such-place', '--out', 'x.html'], work);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no curated click events for restaurant no-such-place, all dates in the lake .*, which holds 3 restaurant\(s\) from 2024-05-06 to 2024-05-07: change --restaurant \/ --from \/ --to\n$/);
    const page = await buildDashboardHtml({ source: { kind: 'local', lakeDir: path.join(work, 'empty') }, allowEmpty: true });
    expect(page.match(/No data for this period/g)).toHaveLength(5);
  });

  it.skipIf(skipBrowser)('opens in Chromium, offline, showing the numbers and the charts', async () => {
    const browser = await launchChromium({ width: 1280, height: 900 });
    try {
      const page = await browser.context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${path.join(work, 'report.html')}`);
      const [[visits]] = (await rows('SELECT count(*) FROM session_summary')) as [[number]];
      expect(await page.locator('[data-kpi="visits"] .value').textContent()).toBe(visits.toLocaleString('en-US'));
      const top = panelRows(html, 'most_viewed_dishes')[0]!;
      const firstRow = page.locator('table[data-panel="most_viewed_dishes"] tbody tr').first();
      expect(await firstRow.locator('td[data-column="item_id"]').textContent()).toBe(top['item_id']);
      expect(await firstRow.locator('td[data-column="views"]').textContent()).toBe(String(top['views']));
      const charts = page.locator('figure.chart svg');
      expect(await charts.count()).toBe(5);
      for (const box of await Promise.all((await charts.all()).map((c) => c.boundingBox()))) expect(box!.width * box!.height).toBeGreaterThan(10_000);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
