/**
 * A small hand-made curated lake: eight sessions in two restaurants over two days (one session
 * runs past midnight), written as Parquet with DuckDB in the layout compaction writes
 * (`<lake>/curated/click_events/dt=YYYY-MM-DD/<YYYYMMDDHH>.parquet`, one file per event hour).
 * The expected view answers in test/views.test.ts are worked out by hand from HAND_EVENTS.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withDuckDB } from '../../src/base/duckdb.js';
import { quotedIdentifier, quotedString } from '../../src/base/sql.js';
import type { LocalTable } from '../../src/query/local-engine.js';

/** click_events columns with the DuckDB types compaction writes (no `dt`: it is the directory). */
export const CLICK_EVENTS_TABLE: LocalTable = {
  name: 'click_events',
  columns: [
    { name: 'event_id', duckdbType: 'VARCHAR' },
    { name: 'event_type', duckdbType: 'VARCHAR' },
    { name: 'event_time', duckdbType: 'TIMESTAMP_MS' },
    { name: 'session_id', duckdbType: 'VARCHAR' },
    { name: 'anonymous_id', duckdbType: 'VARCHAR' },
    { name: 'restaurant_id', duckdbType: 'VARCHAR' },
    { name: 'menu_id', duckdbType: 'VARCHAR' },
    { name: 'section', duckdbType: 'VARCHAR' },
    { name: 'section_index', duckdbType: 'INTEGER' },
    { name: 'item_id', duckdbType: 'VARCHAR' },
    { name: 'item_name', duckdbType: 'VARCHAR' },
    { name: 'price_cents', duckdbType: 'BIGINT' },
    { name: 'position', duckdbType: 'INTEGER' },
    { name: 'scroll_depth_pct', duckdbType: 'INTEGER' },
    { name: 'viewport', duckdbType: 'STRUCT(width INTEGER, height INTEGER)' },
    { name: 'user_agent', duckdbType: 'VARCHAR' },
    { name: 'page_url', duckdbType: 'VARCHAR' },
    { name: 'referrer', duckdbType: 'VARCHAR' },
    { name: 'locale', duckdbType: 'VARCHAR' },
    { name: 'app_version', duckdbType: 'VARCHAR' },
    { name: 'attributes', duckdbType: 'MAP(VARCHAR, VARCHAR)' },
  ],
};

/** Who each session is: restaurant, visitor, menu. */
const SESSIONS: Record<string, { restaurant: string; anonymous: string; menu: string }> = {
  s1: { restaurant: 'r1', anonymous: 'a1', menu: 'm1' },
  s2: { restaurant: 'r1', anonymous: 'a2', menu: 'm1' },
  s3: { restaurant: 'r1', anonymous: 'a3', menu: 'm1' },
  s4: { restaurant: 'r1', anonymous: 'a4', menu: 'm1' },
  s5: { restaurant: 'r1', anonymous: 'a1', menu: 'm1' },
  s6: { restaurant: 'r2', anonymous: 'b1', menu: 'm2' },
  s7: { restaurant: 'r1', anonymous: 'a5', menu: 'm1' },
  s8: { restaurant: 'r2', anonymous: 'b2', menu: 'm2' },
};

const SECTIONS: Record<string, string[]> = { r1: ['Appetizers', 'Mains', 'Desserts'], r2: ['Starters', 'Mains'] };
const ITEMS: Record<string, { name: string; price: number; position: number }> = {
  i1: { name: 'Bruschetta', price: 850, position: 0 },
  i2: { name: 'Carbonara', price: 1450, position: 0 },
  i3: { name: 'Tiramisù', price: 700, position: 0 },
  j1: { name: 'Soup', price: 600, position: 0 },
  j2: { name: 'Steak', price: 2600, position: 1 },
};

export interface HandEvent {
  event_id: string;
  event_type: 'menu_view' | 'section_view' | 'item_view' | 'item_click' | 'order_click' | 'scroll';
  /** UTC, 'YYYY-MM-DD HH:MM:SS[.mmm]'. */
  time: string;
  session: string;
  section_index?: number;
  item?: string;
  scroll?: number;
}

let seq = 0;
function ev(session: string, time: string, event_type: HandEvent['event_type'], extra: Partial<HandEvent> = {}): HandEvent {
  seq += 1;
  return { event_id: `e${String(seq).padStart(3, '0')}`, event_type, time, session, ...extra };
}

/** Every event of the hand-made lake, by session. */
export const HAND_EVENTS: HandEvent[] = [
  // r1, 2024-05-01
  ev('s1', '2024-05-01 12:00:00', 'menu_view'),
  ev('s1', '2024-05-01 12:00:05', 'section_view', { section_index: 0 }),
  ev('s1', '2024-05-01 12:00:10', 'item_view', { item: 'i1' }),
  ev('s1', '2024-05-01 12:00:20', 'scroll', { scroll: 30 }),
  ev('s1', '2024-05-01 12:00:30', 'section_view', { section_index: 1 }),
  ev('s1', '2024-05-01 12:00:40', 'item_view', { item: 'i2' }),
  ev('s1', '2024-05-01 12:00:50', 'item_click', { item: 'i2' }),
  ev('s1', '2024-05-01 12:01:00', 'order_click', { item: 'i2' }),
  ev('s1', '2024-05-01 12:01:10', 'scroll', { scroll: 60 }),

  ev('s2', '2024-05-01 13:00:00', 'menu_view'),
  ev('s2', '2024-05-01 13:00:02', 'section_view', { section_index: 0 }),
  ev('s2', '2024-05-01 13:00:04', 'item_view', { item: 'i1' }),
  ev('s2', '2024-05-01 13:00:06.500', 'item_click', { item: 'i1' }),
  ev('s2', '2024-05-01 13:00:08.250', 'scroll', { scroll: 10 }),

  ev('s3', '2024-05-01 14:00:00', 'menu_view'),
  ev('s3', '2024-05-01 14:00:01', 'section_view', { section_index: 0 }),
  ev('s3', '2024-05-01 14:00:03', 'section_view', { section_index: 1 }),
  ev('s3', '2024-05-01 14:00:05', 'section_view', { section_index: 2 }),
  ev('s3', '2024-05-01 14:00:07', 'item_view', { item: 'i3' }),
  ev('s3', '2024-05-01 14:00:09', 'item_view', { item: 'i1' }),
  ev('s3', '2024-05-01 14:00:12', 'order_click', { item: 'i3' }),
  ev('s3', '2024-05-01 14:00:15', 'scroll', { scroll: 100 }),

  // no section view, no scroll
  ev('s4', '2024-05-01 15:00:00', 'menu_view'),
  ev('s4', '2024-05-01 15:00:20', 'item_view', { item: 'i2' }),

  // runs past midnight
  ev('s5', '2024-05-01 23:59:00', 'menu_view'),
  ev('s5', '2024-05-01 23:59:30', 'section_view', { section_index: 0 }),
  ev('s5', '2024-05-01 23:59:50', 'scroll', { scroll: 40 }),
  ev('s5', '2024-05-02 00:00:20', 'section_view', { section_index: 1 }),
  ev('s5', '2024-05-02 00:00:40', 'item_view', { item: 'i2' }),
  ev('s5', '2024-05-02 00:01:00', 'order_click', { item: 'i2' }),
  ev('s5', '2024-05-02 00:01:30', 'scroll', { scroll: 80 }),

  // r2, 2024-05-01
  ev('s6', '2024-05-01 10:00:00', 'menu_view'),
  ev('s6', '2024-05-01 10:00:05', 'section_view', { section_index: 0 }),
  ev('s6', '2024-05-01 10:00:10', 'item_view', { item: 'j1' }),
  ev('s6', '2024-05-01 10:00:15', 'section_view', { section_index: 1 }),
  ev('s6', '2024-05-01 10:00:20', 'item_view', { item: 'j2' }),
  ev('s6', '2024-05-01 10:00:25', 'item_view', { item: 'j2' }),
  ev('s6', '2024-05-01 10:00:30', 'scroll', { scroll: 55 }),

  // r1, 2024-05-02
  ev('s7', '2024-05-02 09:00:00', 'menu_view'),
  ev('s7', '2024-05-02 09:00:10', 'section_view', { section_index: 0 }),
  ev('s7', '2024-05-02 09:00:20', 'item_view', { item: 'i1' }),
  ev('s7', '2024-05-02 09:00:30', 'order_click', { item: 'i1' }),
  ev('s7', '2024-05-02 09:00:40', 'scroll', { scroll: 25 }),

  // r2, 2024-05-02: orders j1 without viewing it
  ev('s8', '2024-05-02 20:00:00', 'menu_view'),
  ev('s8', '2024-05-02 20:00:05', 'section_view', { section_index: 0 }),
  ev('s8', '2024-05-02 20:00:08', 'order_click', { item: 'j1' }),
  ev('s8', '2024-05-02 20:00:10', 'scroll', { scroll: 0 }),
];

function sqlValue(value: string | number | undefined): string {
  if (value === undefined) return 'NULL';
  return typeof value === 'number' ? String(value) : quotedString(value);
}

/** One VALUES row in CLICK_EVENTS_TABLE column order. */
function valuesRow(e: HandEvent): string {
  const s = SESSIONS[e.session]!;
  const item = e.item === undefined ? undefined : ITEMS[e.item]!;
  const section = e.section_index === undefined ? undefined : SECTIONS[s.restaurant]![e.section_index];
  const attributes = e.event_type === 'menu_view' ? `MAP {'qr': 'table-7'}` : 'MAP {}';
  return `(${[
    sqlValue(e.event_id),
    sqlValue(e.event_type),
    `TIMESTAMP ${quotedString(e.time)}`,
    sqlValue(e.session),
    sqlValue(s.anonymous),
    sqlValue(s.restaurant),
    sqlValue(s.menu),
    sqlValue(section),
    sqlValue(e.section_index),
    sqlValue(e.item),
    sqlValue(item?.name),
    sqlValue(item?.price),
    sqlValue(item?.position),
    sqlValue(e.scroll),
    `{'width': 390, 'height': 844}`,
    sqlValue('Mozilla/5.0 (iPhone)'),
    sqlValue(`https://menu.example/${s.restaurant}`),
    'NULL',
    sqlValue('en-US'),
    sqlValue('1.4.0'),
    attributes,
  ].join(', ')})`;
}

/**
 * Writes the hand-made lake under `lakeDir` and returns the files written (one per dt and event
 * hour, named like compaction's unit files).
 */
export async function writeHandLake(lakeDir: string): Promise<string[]> {
  const tableDir = join(lakeDir, 'curated', CLICK_EVENTS_TABLE.name);
  const columns = CLICK_EVENTS_TABLE.columns;
  return withDuckDB(async (conn) => {
    const create = columns.map((c) => `${quotedIdentifier(c.name)} ${c.duckdbType}`).join(', ');
    await conn.run(`CREATE TABLE events (${create})`);
    await conn.run(`INSERT INTO events VALUES ${HAND_EVENTS.map(valuesRow).join(',\n')}`);
    const units = (
      await conn.runAndReadAll(
        `SELECT DISTINCT strftime(event_time, '%Y-%m-%d') AS dt, strftime(event_time, '%Y%m%d%H') AS unit FROM events ORDER BY 1, 2`,
      )
    ).getRowObjectsJS() as Array<{ dt: string; unit: string }>;
    const files: string[] = [];
    for (const { dt, unit } of units) {
      const dir = join(tableDir, `dt=${dt}`);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${unit}.parquet`);
      await conn.run(
        `COPY (SELECT * FROM events WHERE strftime(event_time, '%Y%m%d%H') = ${quotedString(unit)} ORDER BY restaurant_id, event_time) ` +
          `TO ${quotedString(file)} (FORMAT parquet)`,
      );
      files.push(file);
    }
    return files;
  });
}
