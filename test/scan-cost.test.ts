/**
 * Scan cost: the bytes Athena would scan for a query on the local engine, checked against a real
 * lake written with DuckDB the way compaction writes it (ZSTD, sorted by restaurant_id,
 * event_time, several row groups per file) and against sums computed here, independently, from
 * parquet_metadata(); raw-zone bytes against files written under arrival-hour prefixes.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClicklakeError } from '../src/errors.js';
import { withDuckDB } from '../src/base/duckdb.js';
import { applyViewsLocally, openLocalEngine, type LocalEngine } from '../src/query/local-engine.js';
import {
  athenaCost,
  BYTES_PER_MB,
  BYTES_PER_TB,
  estimateScanCost,
  formatBytes,
  formatUsd,
  measureScanBytes,
  rawScanBytes,
  type ScanEstimate,
} from '../src/query/scan-cost.js';
import { quotedIdentifier, quotedString } from '../src/base/sql.js';
import { loadViews } from '../src/query/views.js';
import { CLICK_EVENTS_TABLE } from './support/hand-lake.js';

/** Rows per restaurant per file = rows per row group, so each row group holds one restaurant. */
const ROW_GROUP_ROWS = 2048;
const RESTAURANTS = ['r0', 'r1', 'r2', 'r3', 'r4'];
/** The unit files: dt and the unit hour (YYYYMMDDHH). */
const UNITS = [
  { dt: '2024-05-01', unit: '2024050110' },
  { dt: '2024-05-01', unit: '2024050111' },
  { dt: '2024-05-02', unit: '2024050209' },
  { dt: '2024-05-03', unit: '2024050312' },
];

interface Chunk {
  file: string;
  rowGroup: number;
  path: string;
  bytes: number;
  min: string | null;
  max: string | null;
}

let workDir: string;
let lakeDir: string;
let engine: LocalEngine;
let chunks: Chunk[];

/** Writes one unit file: ROW_GROUP_ROWS events per restaurant in its hour, sorted like compaction. */
async function writeLake(dir: string): Promise<void> {
  const types = new Map(CLICK_EVENTS_TABLE.columns.map((c) => [c.name, c.duckdbType]));
  const cast = (expr: string, column: string) => `CAST(${expr} AS ${types.get(column)}) AS ${quotedIdentifier(column)}`;
  await withDuckDB(
    async (conn) => {
      for (const { dt, unit } of UNITS) {
        const hour = `${dt} ${unit.slice(8)}:00:00`;
        const rows = ROW_GROUP_ROWS * RESTAURANTS.length;
        const select = [
          cast(`md5(${quotedString(unit)} || i)`, 'event_id'),
          cast(`(['menu_view', 'section_view', 'item_view', 'item_click', 'order_click', 'scroll'])[1 + i % 6]`, 'event_type'),
          cast(`TIMESTAMP ${quotedString(hour)} + to_milliseconds((i % ${ROW_GROUP_ROWS}) * 1700)`, 'event_time'),
          cast(`'s' || (i // 20)`, 'session_id'),
          cast(`'a' || (i // 40)`, 'anonymous_id'),
          cast(`'r' || (i // ${ROW_GROUP_ROWS})`, 'restaurant_id'),
          cast(`'m' || (i // ${ROW_GROUP_ROWS})`, 'menu_id'),
          cast(`CASE WHEN i % 6 = 1 THEN (['Appetizers', 'Mains', 'Desserts'])[1 + i % 3] END`, 'section'),
          cast(`CASE WHEN i % 6 = 1 THEN i % 3 END`, 'section_index'),
          cast(`CASE WHEN i % 6 IN (2, 3, 4) THEN 'i' || (i % 37) END`, 'item_id'),
          cast(`CASE WHEN i % 6 IN (2, 3, 4) THEN 'Dish number ' || (i % 37) END`, 'item_name'),
          cast(`CASE WHEN i % 6 IN (2, 3, 4) THEN 500 + (i % 37) * 25 END`, 'price_cents'),
          cast(`CASE WHEN i % 6 IN (2, 3, 4) THEN i % 9 END`, 'position'),
          cast(`CASE WHEN i % 6 = 5 THEN i % 101 END`, 'scroll_depth_pct'),
          cast(`{'width': 360 + i % 50, 'height': 700 + i % 200}`, 'viewport'),
          cast(`'Mozilla/5.0 (device ' || (i % 13) || ')'`, 'user_agent'),
          cast(`'https://menu.example/r' || (i // ${ROW_GROUP_ROWS}) || '?t=' || (i % 17)`, 'page_url'),
          cast(`CASE WHEN i % 4 = 0 THEN 'https://search.example/' || (i % 7) END`, 'referrer'),
          cast(`(['en-US', 'it-IT', 'fr-FR'])[1 + i % 3]`, 'locale'),
          cast(`'1.' || (i % 5) || '.0'`, 'app_version'),
          cast(`MAP {'qr': 'table-' || (i % 11), 'src': 'poster'}`, 'attributes'),
        ];
        const file = join(dir, 'curated', CLICK_EVENTS_TABLE.name, `dt=${dt}`, `${unit}.parquet`);
        await mkdir(join(file, '..'), { recursive: true });
        await conn.run(
          `COPY (SELECT ${select.join(', ')} FROM range(${rows}) AS t(i) ORDER BY restaurant_id, event_time) TO ${quotedString(file)} ` +
            `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
        );
      }
    },
    { threads: 1 },
  );
}

/** Every column chunk of the lake, straight from parquet_metadata(). */
async function readChunks(conn: LocalEngine['conn']): Promise<Chunk[]> {
  const glob = join(lakeDir, 'curated', CLICK_EVENTS_TABLE.name, '*', '*.parquet');
  const rows = (
    await conn.runAndReadAll(
      `SELECT file_name, row_group_id, path_in_schema, total_compressed_size, stats_min_value, stats_max_value FROM parquet_metadata(${quotedString(glob)})`,
    )
  ).getRowObjectsJS();
  return rows.map((r) => ({
    file: String(r['file_name']),
    rowGroup: Number(r['row_group_id']),
    path: String(r['path_in_schema']),
    bytes: Number(r['total_compressed_size']),
    min: r['stats_min_value'] === null ? null : String(r['stats_min_value']),
    max: r['stats_max_value'] === null ? null : String(r['stats_max_value']),
  }));
}

/** Sum of the chunks of `columns` (every leaf of each), in the row groups `keep` accepts. */
function chunkBytes(columns: string[], keep: (c: Chunk) => boolean = () => true): number {
  const groups = new Set(chunks.filter(keep).map((c) => `${c.file}#${c.rowGroup}`));
  return chunks
    .filter((c) => groups.has(`${c.file}#${c.rowGroup}`) && columns.some((col) => c.path === col || c.path.startsWith(`${col}, `)))
    .reduce((sum, c) => sum + c.bytes, 0);
}

const rowGroupCount = () => new Set(chunks.map((c) => `${c.file}#${c.rowGroup}`)).size;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'clicklake-scan-cost-'));
  lakeDir = join(workDir, 'lake');
  await writeLake(lakeDir);
  engine = await openLocalEngine({ lakeDir, tables: [CLICK_EVENTS_TABLE], threads: 1 });
  await applyViewsLocally(engine, await loadViews());
  chunks = await readChunks(engine.conn);
});

afterAll(async () => {
  await engine?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the test lake', () => {
  it('has several files and several row groups per file, one restaurant per row group', () => {
    const files = new Set(chunks.map((c) => c.file));
    expect(files.size).toBe(UNITS.length);
    expect(rowGroupCount()).toBe(UNITS.length * RESTAURANTS.length);
    const restaurantChunks = chunks.filter((c) => c.path === 'restaurant_id');
    expect(restaurantChunks.every((c) => c.min !== null && c.min === c.max)).toBe(true);
  });
});

describe('estimateScanCost', () => {
  it('counts exactly the column chunks of the columns a query reads, every leaf of a struct or map', async () => {
    const narrow = await estimateScanCost(engine, 'SELECT event_id, session_id FROM click_events');
    expect(narrow.columns).toEqual(['event_id', 'session_id']);
    expect(narrow.bytesScanned).toBe(chunkBytes(['event_id', 'session_id']));
    expect(narrow).toMatchObject({ files: UNITS.length, filesTotal: UNITS.length, rowGroups: rowGroupCount(), rowGroupsTotal: rowGroupCount() });

    const nested = await estimateScanCost(engine, 'SELECT event_id, viewport, attributes FROM click_events');
    expect(nested.columns).toEqual(['attributes', 'event_id', 'viewport']);
    // viewport: width and height leaves; attributes: key and value leaves
    expect(chunks.filter((c) => c.path.startsWith('viewport, ')).map((c) => c.path)).toContain('viewport, height');
    expect(nested.bytesScanned).toBe(chunkBytes(['event_id', 'viewport', 'attributes']));

    const all = await estimateScanCost(engine, 'SELECT * FROM click_events');
    expect(all.bytesScanned).toBe(chunkBytes(CLICK_EVENTS_TABLE.columns.map((c) => c.name)));
    expect(all.bytesScanned).toBe(chunks.reduce((sum, c) => sum + c.bytes, 0));
    expect(narrow.bytesScanned).toBeLessThan(nested.bytesScanned);
    expect(nested.bytesScanned).toBeLessThan(all.bytesScanned);
    expect(all.columns).not.toContain('dt');
  });

  it("counts only the files of the dt partitions a WHERE dt keeps (dt itself is free)", async () => {
    const oneDay = await estimateScanCost(engine, "SELECT event_id, dt FROM click_events WHERE dt = '2024-05-01'");
    const inDay = (c: Chunk) => c.file.includes('dt=2024-05-01');
    expect(oneDay.files).toBe(2);
    expect(oneDay.filesTotal).toBe(UNITS.length);
    expect(oneDay.columns).toEqual(['event_id']);
    expect(oneDay.bytesScanned).toBe(chunkBytes(['event_id'], inDay));
    expect(oneDay.bytesScanned).toBeLessThan(chunkBytes(['event_id']));

    const range = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE dt BETWEEN '2024-05-02' AND '2024-05-09'");
    expect(range.files).toBe(2);
    expect(range.bytesScanned).toBe(chunkBytes(['event_id'], (c) => !inDay(c)));
  });

  it('skips the row groups whose restaurant_id statistics exclude the value', async () => {
    const est = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE restaurant_id = 'r1'");
    // Worked out here from the statistics: the row groups whose [min, max] holds 'r1'.
    const holdsR1 = new Set(
      chunks.filter((c) => c.path === 'restaurant_id' && c.min! <= 'r1' && c.max! >= 'r1').map((c) => `${c.file}#${c.rowGroup}`),
    );
    expect(holdsR1.size).toBe(UNITS.length);
    expect(est.columns).toEqual(['event_id', 'restaurant_id']);
    expect(est.rowGroups).toBe(holdsR1.size);
    expect(est.rowGroupsTotal).toBe(rowGroupCount());
    expect(est.bytesScanned).toBe(chunkBytes(['event_id', 'restaurant_id'], (c) => holdsR1.has(`${c.file}#${c.rowGroup}`)));

    const none = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE restaurant_id = 'r9'");
    expect(none).toMatchObject({ rowGroups: 0, bytesScanned: 0 });
    const either = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE restaurant_id IN ('r0', 'r4') AND dt = '2024-05-03'");
    expect(either.rowGroups).toBe(2);
  });

  it('prunes row groups on event_time through the view cast, comparing timestamps as timestamps', async () => {
    // Each row group spans its file's hour from :00:00 to about :58:00.
    const est = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE event_time >= TIMESTAMP '2024-05-01 11:30:00'");
    expect(est.rowGroups).toBe(3 * RESTAURANTS.length); // 2024050111, 2024050209, 2024050312
    const late = await estimateScanCost(engine, "SELECT event_id FROM click_events WHERE event_time > TIMESTAMP '2024-05-03 13:00:00'");
    expect(late.rowGroups).toBe(0);
  });

  it('reads through a curated view to the columns it uses', async () => {
    const est = await estimateScanCost(engine, 'SELECT * FROM item_views_daily');
    expect(est.columns).toEqual(['event_type', 'item_id', 'item_name', 'restaurant_id', 'session_id']);
    expect(est.tableScans).toBe(1);
    expect(est.approximate).toBe(false);
    // Every row group has item events, so the event_type filter keeps them all.
    expect(est.rowGroups).toBe(rowGroupCount());
    expect(est.bytesScanned).toBe(chunkBytes(est.columns));

    const day = await estimateScanCost(engine, "SELECT * FROM item_conversion WHERE dt = '2024-05-02' AND restaurant_id = 'r3'");
    expect(day).toMatchObject({ files: 1, rowGroups: 1 });

    // A CTE referenced three times is three scans on Athena, which inlines WITH queries.
    const sessions = await estimateScanCost(engine, 'SELECT * FROM session_summary');
    expect(sessions.tableScans).toBe(3);
    expect(sessions.approximate).toBe(true);
    expect(sessions.bytesScanned).toBe(3 * chunkBytes(sessions.columns));
    expect(sessions.notes.join(' ')).toMatch(/pieces/);
  });

  it('reads no column data for count(*), billed at the 10 MB minimum', async () => {
    const est = await estimateScanCost(engine, 'SELECT count(*) FROM click_events');
    expect(est).toMatchObject({ bytesScanned: 0, billedBytes: 10 * BYTES_PER_MB, columns: [] });
  });

  it('agrees with the bytes DuckDB actually reads', async () => {
    // [sql, lowest and highest measured / estimated]: DuckDB reads whole column chunks (plus
    // 256-byte page-header peeks, which weigh on tiny chunks) and reads a CTE once.
    const cases: Array<[string, number, number]> = [
      ['SELECT event_id, session_id FROM click_events', 0.95, 1.05],
      ["SELECT event_id, viewport FROM click_events WHERE dt = '2024-05-01' AND restaurant_id = 'r2'", 0.95, 1.05],
      ['SELECT * FROM click_events', 0.95, 1.05],
      ['SELECT * FROM item_views_daily', 0.9, 2],
      ['SELECT * FROM session_summary', 0.25, 0.75], // three scans on Athena, one read by DuckDB
    ];
    for (const [sql, low, high] of cases) {
      const estimate: ScanEstimate = await estimateScanCost(engine, sql);
      let measured: number;
      try {
        measured = await measureScanBytes(engine, sql);
      } catch (err) {
        // Without DuckDB's FileSystem log the estimate can only be checked against the footers.
        if (!(err instanceof ClicklakeError) || err.code !== 'scan_log_unavailable') throw err;
        expect(estimate.bytesScanned).toBeGreaterThan(0);
        expect(estimate.bytesScanned).toBeLessThanOrEqual(estimate.tableScans * chunkBytes(estimate.columns));
        continue;
      }
      expect(measured / estimate.bytesScanned, sql).toBeGreaterThan(low);
      expect(measured / estimate.bytesScanned, sql).toBeLessThan(high);
    }
  });

  it('rejects SQL DuckDB cannot plan, with the reason', async () => {
    await expect(estimateScanCost(engine, 'SELECT nope FROM click_events')).rejects.toMatchObject({ code: 'scan_estimate_failed' });
  });
});

describe('rawScanBytes', () => {
  const objects: Record<string, Buffer> = {
    '2024/04/30/23/before-1': Buffer.from('{"event_id":"x0"}\n'),
    '2024/05/01/00/plain-1': Buffer.from('{"event_id":"a"}\n{"event_id":"b"}\n'),
    '2024/05/01/00/plain-2': Buffer.from('{"event_id":"c"}{"event_id":"d"}'),
    '2024/05/01/13/gzip-1': gzipSync(Buffer.from('{"event_id":"e"}\n'.repeat(50))),
    '2024/05/01/23/gzip-2': gzipSync(Buffer.from('[{"event_id":"f"},{"event_id":"g"}]\n')),
    '2024/05/02/00/late-1': Buffer.from('{"event_id":"h"}\n'),
    '2024/05/02/01/late-2': Buffer.from('{"event_id":"i"}\n{"event_id":"j"}\n'),
    '2024/05/02/23/day2-1': Buffer.from('{"event_id":"k"}\n'),
    '2024/05/03/00/after-1': Buffer.from('{"event_id":"l"}\n'),
  };
  let rawLake: string;
  const size = (keys: string[]) => keys.reduce((sum, k) => sum + objects[k]!.length, 0);

  beforeAll(async () => {
    rawLake = join(workDir, 'raw-lake');
    for (const [key, body] of Object.entries(objects)) {
      const file = join(rawLake, 'raw', 'click_events', key);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, body);
    }
    // Another table's objects in the same hours are not counted.
    await mkdir(join(rawLake, 'raw', 'other', '2024', '05', '01', '00'), { recursive: true });
    await writeFile(join(rawLake, 'raw', 'other', '2024', '05', '01', '00', 'x'), 'noise');
  });

  it("sums the stored size of every object in the event dates' arrival hours", async () => {
    const gz = join(rawLake, 'raw', 'click_events', '2024/05/01/13/gzip-1');
    expect((await stat(gz)).size).toBe(objects['2024/05/01/13/gzip-1']!.length); // compressed size
    const day1 = ['2024/05/01/00/plain-1', '2024/05/01/00/plain-2', '2024/05/01/13/gzip-1', '2024/05/01/23/gzip-2'];
    expect(await rawScanBytes(rawLake, 'click_events', { from: '2024-05-01', to: '2024-05-01' })).toBe(size(day1));
    expect(await rawScanBytes(rawLake, 'click_events', { from: '2024-05-01', to: '2024-05-01' }, 1)).toBe(size([...day1, '2024/05/02/00/late-1']));
    expect(await rawScanBytes(rawLake, 'click_events', { from: '2024-05-01', to: '2024-05-01' }, 2)).toBe(
      size([...day1, '2024/05/02/00/late-1', '2024/05/02/01/late-2']),
    );
    expect(await rawScanBytes(`file://${rawLake}`, 'click_events', { from: '2024-05-01', to: '2024-05-02' })).toBe(
      size([...day1, '2024/05/02/00/late-1', '2024/05/02/01/late-2', '2024/05/02/23/day2-1']),
    );
    expect(await rawScanBytes(rawLake, 'click_events', { from: '2024-06-01', to: '2024-06-02' })).toBe(0);
  });

  it('rejects dates that are not dates and ranges that end before they start', async () => {
    await expect(rawScanBytes(rawLake, 'click_events', { from: '2024-02-30', to: '2024-03-01' })).rejects.toMatchObject({ code: 'bad_date' });
    await expect(rawScanBytes(rawLake, 'click_events', { from: '2024-05-02', to: '2024-05-01' })).rejects.toMatchObject({ code: 'bad_date_range' });
    await expect(rawScanBytes(rawLake, 'click_events', { from: '2024-05-01', to: '2024-05-01' }, -1)).rejects.toMatchObject({ code: 'bad_late_hours' });
  });
});

describe('athenaCost', () => {
  it('rounds up to the MB with a 10 MB minimum, at $5 per TB', () => {
    expect(athenaCost(0)).toEqual({ billedBytes: 10 * BYTES_PER_MB, costUsd: (10 * BYTES_PER_MB * 5) / BYTES_PER_TB });
    expect(athenaCost(10 * BYTES_PER_MB - 1).billedBytes).toBe(10 * BYTES_PER_MB);
    expect(athenaCost(10 * BYTES_PER_MB + 1).billedBytes).toBe(11 * BYTES_PER_MB);
    expect(athenaCost(25 * BYTES_PER_MB).billedBytes).toBe(25 * BYTES_PER_MB);
    expect(athenaCost(BYTES_PER_TB).costUsd).toBe(5);
    expect(athenaCost(3 * BYTES_PER_TB + 1).costUsd).toBeCloseTo(15 + (5 * BYTES_PER_MB) / BYTES_PER_TB, 12);
    expect(() => athenaCost(-1)).toThrow(ClicklakeError);
  });

  it('formats bytes and dollars for the demo table', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12.3 * BYTES_PER_MB)).toBe('12.3 MB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(2 * BYTES_PER_TB)).toBe('2.0 TB');
    expect(formatUsd(athenaCost(0).costUsd)).toBe('$0.000048');
    expect(formatUsd(0.000061)).toBe('$0.000061');
    expect(formatUsd(athenaCost(BYTES_PER_TB).costUsd)).toBe('$5.000000');
  });
});
