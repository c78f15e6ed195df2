/**
 * The curated views: they parse as Trino SQL, load in dependency order, and give the answers
 * worked out by hand from the events in test/support/hand-lake.ts when run on the local engine.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClicklakeError } from '../src/errors.js';
import { applyViewsLocally, openLocalEngine, type LocalEngine } from '../src/query/local-engine.js';
import { loadViews, type ViewDefinition } from '../src/query/views.js';
import { CLICK_EVENTS_TABLE, writeHandLake } from './support/hand-lake.js';

const REQUIRED_VIEWS = ['item_views_daily', 'menu_section_funnel', 'session_summary', 'scroll_depth_distribution', 'item_conversion'];

let views: ViewDefinition[];
let workDir: string;
let engine: LocalEngine;

beforeAll(async () => {
  views = await loadViews();
  workDir = await mkdtemp(join(tmpdir(), 'clicklake-views-'));
  await writeHandLake(join(workDir, 'lake'));
  engine = await openLocalEngine({ lakeDir: join(workDir, 'lake'), tables: [CLICK_EVENTS_TABLE], threads: 1 });
  await applyViewsLocally(engine, views);
});

afterAll(async () => {
  await engine?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<unknown[][]> {
  return (await engine.query(sql)).rows;
}

const utc = (iso: string) => new Date(`${iso}Z`);

describe('sql/views files', () => {
  it('has every required view, each file starting with a header comment', async () => {
    expect(views.map((v) => v.name)).toEqual(expect.arrayContaining(REQUIRED_VIEWS));
    for (const view of views) {
      const text = await readFile(view.file, 'utf8');
      expect(text.startsWith('-- '), view.file).toBe(true);
      expect(view.sql.startsWith(`CREATE OR REPLACE VIEW ${view.name} AS`), view.file).toBe(true);
      expect(view.sql, view.file).not.toMatch(/click_events_raw/);
    }
  });

  it('every view parses with the Trino grammar (dt-sql-parser TrinoSQL) with zero errors', async () => {
    const parser = new TrinoSQL();
    for (const view of views) {
      expect(parser.validate(await readFile(view.file, 'utf8')), view.file).toEqual([]);
    }
    // The check can fail: a Trino syntax error is reported.
    expect(parser.validate('CREATE OR REPLACE VIEW x AS SELEC 1').length).toBeGreaterThan(0);
  });

  it('orders views after the views they read', () => {
    const order = views.map((v) => v.name);
    const conversion = views.find((v) => v.name === 'item_conversion')!;
    expect(conversion.dependsOn).toEqual(['item_views_daily']);
    expect(order.indexOf('item_views_daily')).toBeLessThan(order.indexOf('item_conversion'));
    for (const view of views) for (const dep of view.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(view.name));
  });
});

describe('loadViews', () => {
  async function viewsDir(files: Record<string, string>): Promise<string> {
    const dir = join(workDir, `views-${Object.keys(files).join('-')}`);
    await mkdir(dir, { recursive: true });
    for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
    return dir;
  }

  it('finds dependencies from identifiers, not from comments or strings, and sorts topologically', async () => {
    const dir = await viewsDir({
      // d only in a comment, b only in a string literal: not references; "c" quoted: a reference
      'a.sql': "-- header: built before d\nCREATE OR REPLACE VIEW a AS SELECT 'b' AS x FROM \"c\"",
      'b.sql': 'CREATE OR REPLACE VIEW b AS SELECT * FROM a /* and not d */;\n-- trailing comment\n',
      'c.sql': 'CREATE OR REPLACE VIEW c AS SELECT 1 AS one',
      'd.sql': 'CREATE OR REPLACE VIEW d AS SELECT * FROM b JOIN c ON true',
    });
    const loaded = await loadViews(dir);
    expect(loaded.map((v) => [v.name, v.dependsOn])).toEqual([
      ['c', []],
      ['a', ['c']],
      ['b', ['a']],
      ['d', ['b', 'c']],
    ]);
    expect(loaded.find((v) => v.name === 'b')!.sql).toBe('CREATE OR REPLACE VIEW b AS SELECT * FROM a /* and not d */');
    expect(loaded.find((v) => v.name === 'a')!.sql.startsWith('CREATE OR REPLACE VIEW a')).toBe(true);
  });

  it('rejects a file whose view name differs from its file name, naming the file', async () => {
    const dir = await viewsDir({ 'wrong_name.sql': 'CREATE OR REPLACE VIEW right_name AS SELECT 1' });
    const err = await loadViews(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClicklakeError);
    expect((err as ClicklakeError).code).toBe('view_name_mismatch');
    expect((err as ClicklakeError).meta['file']).toBe(join(dir, 'wrong_name.sql'));
  });

  it('rejects a dependency cycle, naming the files', async () => {
    const dir = await viewsDir({
      'p.sql': 'CREATE OR REPLACE VIEW p AS SELECT * FROM q',
      'q.sql': 'CREATE OR REPLACE VIEW q AS SELECT * FROM p',
      'r.sql': 'CREATE OR REPLACE VIEW r AS SELECT 1 AS x',
    });
    const err = await loadViews(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClicklakeError);
    expect((err as ClicklakeError).code).toBe('view_dependency_cycle');
    expect((err as ClicklakeError).meta['files']).toEqual([join(dir, 'p.sql'), join(dir, 'q.sql')]);
  });

  it('rejects a file that is not one CREATE OR REPLACE VIEW', async () => {
    const dir = await viewsDir({ 'v.sql': 'CREATE VIEW v AS SELECT 1' });
    await expect(loadViews(dir)).rejects.toMatchObject({ code: 'view_file_invalid' });
    const two = await viewsDir({ 'w.sql': 'CREATE OR REPLACE VIEW w AS SELECT 1; DROP TABLE x' });
    await expect(loadViews(two)).rejects.toMatchObject({ code: 'view_file_invalid' });
  });
});

/*
 * Expected answers, worked out by hand from HAND_EVENTS (r1 sections: 0 Appetizers, 1 Mains,
 * 2 Desserts; r2: 0 Starters, 1 Mains). s5 starts 2024-05-01 23:59:00 and ends 2024-05-02 00:01:30.
 */
describe('views on the hand-made lake', () => {
  it('item_views_daily counts views, clicks, order clicks and sessions per item and day', async () => {
    // r1 05-01 i1: viewed by s1, s2, s3; clicked by s2. i2: viewed by s1, s4; s1 clicked and ordered.
    // i3: s3 viewed and ordered. 05-02: s7 viewed+ordered i1, s5 (after midnight) viewed+ordered i2.
    // r2 05-01: s6 viewed j1 once and j2 twice. 05-02: s8 ordered j1 without a view.
    expect(await rows('SELECT * FROM item_views_daily ORDER BY restaurant_id, dt, item_id')).toEqual([
      ['r1', '2024-05-01', 'i1', 'Bruschetta', 3, 1, 0, 3],
      ['r1', '2024-05-01', 'i2', 'Carbonara', 2, 1, 1, 2],
      ['r1', '2024-05-01', 'i3', 'Tiramisù', 1, 0, 1, 1],
      ['r1', '2024-05-02', 'i1', 'Bruschetta', 1, 0, 1, 1],
      ['r1', '2024-05-02', 'i2', 'Carbonara', 1, 0, 1, 1],
      ['r2', '2024-05-01', 'j1', 'Soup', 1, 0, 0, 1],
      ['r2', '2024-05-01', 'j2', 'Steak', 2, 0, 0, 1],
      ['r2', '2024-05-02', 'j1', 'Soup', 0, 0, 1, 1],
    ]);
    const { columns } = await engine.query('SELECT * FROM item_views_daily LIMIT 0');
    expect(columns.map((c) => c.name)).toEqual(['restaurant_id', 'dt', 'item_id', 'item_name', 'views', 'clicks', 'order_clicks', 'unique_sessions']);
  });

  it('item_conversion divides order clicks by views, NULL without views', async () => {
    // i1 0/3, i2 1/2, i3 1/1; 05-02 i1 1/1, i2 1/1; j1 0/1, j2 0/2; 05-02 j1 ordered with 0 views.
    expect(await rows('SELECT restaurant_id, dt, item_id, views, order_clicks, conversion_rate FROM item_conversion ORDER BY restaurant_id, dt, item_id')).toEqual([
      ['r1', '2024-05-01', 'i1', 3, 0, 0],
      ['r1', '2024-05-01', 'i2', 2, 1, 0.5],
      ['r1', '2024-05-01', 'i3', 1, 1, 1],
      ['r1', '2024-05-02', 'i1', 1, 1, 1],
      ['r1', '2024-05-02', 'i2', 1, 1, 1],
      ['r2', '2024-05-01', 'j1', 1, 0, 0],
      ['r2', '2024-05-01', 'j2', 2, 0, 0],
      ['r2', '2024-05-02', 'j1', 0, 1, null],
    ]);
    // Over a range the rate is recomputed from the sums: r1 i2 over both days = (1 + 1) / (2 + 1).
    expect(
      await rows("SELECT CAST(sum(order_clicks) AS double) / sum(views) FROM item_conversion WHERE restaurant_id = 'r1' AND item_id = 'i2'"),
    ).toEqual([[2 / 3]]);
  });

  it('menu_section_funnel shows how many sessions reached and stopped at each section', async () => {
    // r1 05-01 deepest section per session: s1 1, s2 0, s3 2, s5 0 (its Mains view is on 05-02), s4 none.
    //   index 0: reached 4, stopped 2 (s2, s5) -> 0.5 — half stop after the appetizers
    //   index 1: reached 2 (s1, s3), stopped 1 (s1) -> 0.5; index 2: reached 1, stopped 1 -> 1
    // r1 05-02: s5 deepest 1, s7 deepest 0 -> index 0: 2 reached, 1 stopped; index 1: 1 reached, 1 stopped
    // r2 05-01: s6 deepest 1 -> index 0: 1 reached, 0 stopped; index 1: 1/1. r2 05-02: s8 deepest 0.
    expect(await rows('SELECT * FROM menu_section_funnel ORDER BY restaurant_id, dt, section_index')).toEqual([
      ['r1', '2024-05-01', 0, 'Appetizers', 4, 2, 0.5],
      ['r1', '2024-05-01', 1, 'Mains', 2, 1, 0.5],
      ['r1', '2024-05-01', 2, 'Desserts', 1, 1, 1],
      ['r1', '2024-05-02', 0, 'Appetizers', 2, 1, 0.5],
      ['r1', '2024-05-02', 1, 'Mains', 1, 1, 1],
      ['r2', '2024-05-01', 0, 'Starters', 1, 0, 0],
      ['r2', '2024-05-01', 1, 'Mains', 1, 1, 1],
      ['r2', '2024-05-02', 0, 'Starters', 1, 1, 1],
    ]);
  });

  it('session_summary has one row per session on its start date, including the one spanning midnight', async () => {
    // Durations: s1 12:00:00-12:01:10 = 70 s; s2 ends 13:00:08.250 = 8.25 s; s3 15 s; s4 20 s;
    // s5 23:59:00 -> 00:01:30 next day = 150 s with 3 + 4 events; s6 30 s; s7 40 s; s8 10 s.
    expect(await rows('SELECT * FROM session_summary ORDER BY session_id')).toEqual([
      ['s1', 'r1', 'a1', '2024-05-01', utc('2024-05-01T12:00:00'), utc('2024-05-01T12:01:10'), 70, 9, 1, 60, true],
      ['s2', 'r1', 'a2', '2024-05-01', utc('2024-05-01T13:00:00'), utc('2024-05-01T13:00:08.250'), 8.25, 5, 0, 10, false],
      ['s3', 'r1', 'a3', '2024-05-01', utc('2024-05-01T14:00:00'), utc('2024-05-01T14:00:15'), 15, 8, 2, 100, true],
      ['s4', 'r1', 'a4', '2024-05-01', utc('2024-05-01T15:00:00'), utc('2024-05-01T15:00:20'), 20, 2, null, null, false],
      ['s5', 'r1', 'a1', '2024-05-01', utc('2024-05-01T23:59:00'), utc('2024-05-02T00:01:30'), 150, 7, 1, 80, true],
      ['s6', 'r2', 'b1', '2024-05-01', utc('2024-05-01T10:00:00'), utc('2024-05-01T10:00:30'), 30, 7, 1, 55, false],
      ['s7', 'r1', 'a5', '2024-05-02', utc('2024-05-02T09:00:00'), utc('2024-05-02T09:00:40'), 40, 5, 0, 25, true],
      ['s8', 'r2', 'b2', '2024-05-02', utc('2024-05-02T20:00:00'), utc('2024-05-02T20:00:10'), 10, 4, 0, 0, true],
    ]);
  });

  it('scroll_depth_distribution buckets sessions by max scroll depth per day, no scroll counting as 0', async () => {
    // r1 05-01: s1 60 -> 50, s2 10 -> 0, s3 100 -> 75, s4 no scroll -> 0, s5 40 (before midnight) -> 25
    // r1 05-02: s5 80 -> 75, s7 25 -> 25. r2 05-01: s6 55 -> 50. r2 05-02: s8 0 -> 0.
    expect(await rows('SELECT restaurant_id, dt, depth_bucket, depth_range, sessions FROM scroll_depth_distribution ORDER BY restaurant_id, dt, depth_bucket')).toEqual([
      ['r1', '2024-05-01', 0, '0-24', 2],
      ['r1', '2024-05-01', 25, '25-49', 1],
      ['r1', '2024-05-01', 50, '50-74', 1],
      ['r1', '2024-05-01', 75, '75-100', 1],
      ['r1', '2024-05-02', 0, '0-24', 0],
      ['r1', '2024-05-02', 25, '25-49', 1],
      ['r1', '2024-05-02', 50, '50-74', 0],
      ['r1', '2024-05-02', 75, '75-100', 1],
      ['r2', '2024-05-01', 0, '0-24', 0],
      ['r2', '2024-05-01', 25, '25-49', 0],
      ['r2', '2024-05-01', 50, '50-74', 1],
      ['r2', '2024-05-01', 75, '75-100', 0],
      ['r2', '2024-05-02', 0, '0-24', 1],
      ['r2', '2024-05-02', 25, '25-49', 0],
      ['r2', '2024-05-02', 50, '50-74', 0],
      ['r2', '2024-05-02', 75, '75-100', 0],
    ]);
  });

  it("WHERE dt = 'x' on each view returns only that dt", async () => {
    for (const name of REQUIRED_VIEWS) {
      const result = await rows(`SELECT DISTINCT dt FROM ${name} WHERE dt = '2024-05-02'`);
      expect(result, name).toEqual([['2024-05-02']]);
    }
    // The session that crossed midnight stays whole when its start day is selected alone...
    expect(await rows("SELECT session_id, events, duration_seconds FROM session_summary WHERE dt = '2024-05-01' AND session_id = 's5'")).toEqual([['s5', 7, 150]]);
    // ...and does not appear on the next day.
    expect(await rows("SELECT session_id FROM session_summary WHERE dt = '2024-05-02' ORDER BY 1")).toEqual([['s7'], ['s8']]);
  });

  it("WHERE dt = 'x' reads only that dt's files (hive partition pruning through the views)", async () => {
    // The hand lake has 9 files: 6 under dt=2024-05-01, 3 under dt=2024-05-02.
    for (const name of ['click_events', 'item_views_daily', 'item_conversion', 'menu_section_funnel', 'scroll_depth_distribution']) {
      const plan = String((await rows(`EXPLAIN ANALYZE SELECT * FROM ${name} WHERE dt = '2024-05-02'`))[0]![1]);
      const scans = [...plan.matchAll(/Scanning Files: (\d+)\/(\d+)/g)].map((m) => Number(m[1]));
      expect(scans.length, name).toBeGreaterThan(0);
      for (const files of scans) expect(files, name).toBe(3);
    }
  });
});

describe('local engine tables', () => {
  it('registers a table with no files yet as an empty view with its declared columns', async () => {
    const empty = await openLocalEngine({ lakeDir: join(workDir, 'empty-lake'), tables: [CLICK_EVENTS_TABLE], threads: 1 });
    try {
      const result = await empty.query('SELECT * FROM click_events');
      expect(result.rows).toEqual([]);
      expect(result.columns.map((c) => `${c.name} ${c.type.replaceAll('"', '')}`)).toEqual([
        ...CLICK_EVENTS_TABLE.columns.map((c) => `${c.name} ${c.duckdbType}`),
        'dt VARCHAR',
      ]);
      // The views still apply and return nothing.
      await applyViewsLocally(empty, views);
      expect((await empty.query('SELECT * FROM session_summary')).rows).toEqual([]);
    } finally {
      await empty.close();
    }
  });

  it('reads a declared column that no file has yet as NULL, and types columns as declared', async () => {
    const table = { name: 'click_events', columns: [...CLICK_EVENTS_TABLE.columns, { name: 'table_number', duckdbType: 'INTEGER' }] };
    const wider = await openLocalEngine({ lakeDir: join(workDir, 'lake'), tables: [table], threads: 1 });
    try {
      const result = await wider.query("SELECT count(*), count(table_number), typeof(max(event_time)), typeof(max(viewport)) FROM click_events WHERE dt = '2024-05-01'");
      // 05-01 events: s1 9 + s2 5 + s3 8 + s4 2 + s5 3 + s6 7 = 34
      expect(result.rows).toEqual([[34, 0, 'TIMESTAMP_MS', 'STRUCT(width INTEGER, height INTEGER)']]);
    } finally {
      await wider.close();
    }
  });

  it('fails with the table name when a table cannot be registered', async () => {
    const bad = { name: 'click_events', columns: [{ name: 'event_id', duckdbType: 'NOT_A_TYPE' }] };
    await expect(openLocalEngine({ lakeDir: join(workDir, 'lake'), tables: [bad], threads: 1 })).rejects.toMatchObject({
      code: 'local_table_failed',
      meta: { table: 'click_events' },
    });
  });

  it('names the view file when a view fails on the local engine', async () => {
    const broken: ViewDefinition = { name: 'broken', file: '/x/broken.sql', sql: 'CREATE OR REPLACE VIEW broken AS SELECT nope FROM click_events', dependsOn: [] };
    const err = await applyViewsLocally(engine, [broken]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClicklakeError);
    expect((err as ClicklakeError).code).toBe('local_view_failed');
    expect((err as ClicklakeError).meta['file']).toBe('/x/broken.sql');
  });
});
