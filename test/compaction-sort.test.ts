/**
 * The final sort over an hour big enough to span many DuckDB vectors and Parquet row groups, on
 * two threads: low-cardinality strings go through the sort as ENUMs and are cast back after it,
 * so the file order and every value are checked here with an independent reader (hyparquet).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit } from '../src/compaction/unit.js';
import { resolveSettings } from '../src/config/settings.js';
import { rawHourPrefix } from '../src/partitions/layout.js';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import { clickstream, type ClickEvent } from '../src/synth/clickstream.js';
import { firehoseObjects } from '../src/synth/firehose.js';
import { readWithHyparquet } from './support/parquet-read.js';

const HOUR = Date.UTC(2024, 4, 1, 10);
const EVENTS = 30_000;

describe('final sort of a large unit', () => {
  let dir: string;
  const truth = new Map<string, ClickEvent>();
  let rows: Array<Record<string, unknown>> = [];
  let written = 0;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clicklake-sort-test-'));
    const lake = pathToFileURL(path.join(dir, 'lake')).href;
    const store = openStore(lake);
    const settings = resolveSettings({}, { lake });
    const events = [...clickstream({ seed: 7, events: EVENTS, startMs: HOUR, spanMs: 50 * 60_000, restaurants: 40 })];
    // Odd strings in low-cardinality columns: they must survive the ENUM round trip byte for byte.
    for (const [i, ev] of events.entries()) {
      if (i % 97 === 0) ev['item_name'] = ['Tiramisù 焼き 🍕', 'a "quoted" \\ name', '', ' spaced '][i % 4];
      if (i % 89 === 0) ev['locale'] = 'zh-Hant-TW';
    }
    for (const o of firehoseObjects(events, { seed: 7, objectBytes: 256 << 10, arrivalOf: () => HOUR + 30 * 60_000, onRecord: (r) => r.kind !== 'broken' && truth.set(r.event.event_id, r.event) })) {
      await store.put(`${rawHourPrefix(settings.layout, 'click_events', o.hour)}${o.name}`, o.body);
    }
    const spec = await loadTable('click_events');
    const ctx = compactionContext({ store, spec, settings: { ...settings, compaction: { ...settings.compaction, rowGroupRows: 4_000 } }, memoryLimit: '600MB', threads: 2, workDir: dir });
    const { manifest } = await compactUnit(ctx, HOUR);
    written = manifest.counts.written;
    for (const o of manifest.outputs) rows.push(...(await readWithHyparquet(await store.getBytes(o.key))));
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes every unique valid event once', () => {
    expect(written).toBe(truth.size);
    expect(rows).toHaveLength(truth.size);
    expect(new Set(rows.map((r) => r['event_id'])).size).toBe(truth.size);
  });

  it('keeps the file in restaurant_id, event_time, event_id order across row groups', () => {
    const key = (r: Record<string, unknown>): [string, number, string] => [String(r['restaurant_id']), new Date(r['event_time'] as Date | string).getTime(), String(r['event_id'])];
    let outOfOrder = 0;
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [key(rows[i - 1]!), key(rows[i]!)];
      const cmp = a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] !== b[1] ? a[1] - b[1] : a[2] < b[2] ? -1 : 1;
      if (cmp > 0) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(new Set(rows.map((r) => r['restaurant_id'])).size).toBeGreaterThan(20);
  });

  it('gives back every string value unchanged, ENUM-carried or not', () => {
    const columns = ['event_type', 'session_id', 'menu_id', 'section', 'item_id', 'item_name', 'user_agent', 'page_url', 'referrer', 'locale', 'app_version'];
    let compared = 0;
    for (const row of rows) {
      const ev = truth.get(String(row['event_id']))!;
      for (const c of columns) {
        expect(row[c] ?? null, `${c} of ${String(row['event_id'])}`).toEqual((ev as Record<string, unknown>)[c] ?? null);
        compared++;
      }
    }
    expect(compared).toBe(rows.length * columns.length);
    expect(rows.some((r) => r['item_name'] === 'Tiramisù 焼き 🍕')).toBe(true);
    expect(rows.some((r) => r['item_name'] === '')).toBe(true);
  });
});
