/**
 * The Parquet write has two plans (write/memory.ts): under a small memory limit the rows are
 * sorted into a table (low-cardinality strings as ENUMs) and written from it; from
 * DIRECT_WRITE_MIN_BYTES up they are sorted straight into the writer. A unit must come out the
 * same, byte for byte, whichever plan and thread count wrote it: a CLI run and the Lambda, or a
 * rerun on another machine, give the same lake.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit } from '../src/compaction/unit.js';
import { DIRECT_WRITE_MIN_BYTES, writePlanFor } from '../src/compaction/write/memory.js';
import { resolveSettings } from '../src/config/settings.js';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { loadTable } from '../src/schema/load.js';
import type { TableSpec } from '../src/schema/types.js';
import { openStore } from '../src/storage/open.js';
import { finalLake } from './support/lake-invariants.js';

let root: string;
let spec: TableSpec;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-write-plans-'));
  spec = await loadTable('click_events');
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('Parquet write plans', () => {
  it('sorts straight into the writer from 1 GB of memory limit (the deployed 1,061 MB), into a table below', () => {
    expect(DIRECT_WRITE_MIN_BYTES).toBe(1e9);
    expect(writePlanFor('256MB', 2)).toEqual({ sort: 2, write: 1, direct: false });
    expect(writePlanFor('999MB', 2)).toEqual({ sort: 2, write: 2, direct: false });
    expect(writePlanFor('1061MB', 2)).toEqual({ sort: 2, write: 2, direct: true });
    expect(writePlanFor('10GB', 8)).toEqual({ sort: 8, write: 8, direct: true });
  });

  it('gives the same lake, byte for byte, under 256MB (table, one writer thread), 600MB (table, two) and 2GB (straight into the writer)', async () => {
    const lakes: Array<Awaited<ReturnType<typeof finalLake>>> = [];
    for (const memoryLimit of ['256MB', '600MB', '2GB']) {
      const store = openStore(pathToFileURL(path.join(root, memoryLimit)).href);
      // The hours after midnight hold late events of the day before, so units write two dates; small row groups, so files hold several.
      const lake = await writeSyntheticLake({ store, table: 'click_events', seed: 9, events: 8000, startDate: '2024-05-06', days: 2, lateShare: 0.1 });
      const ctx = compactionContext({ store, spec, settings: resolveSettings({}, {}), memoryLimit, threads: 2, now: () => lake.lastArrivalMs + 86_400_000, workDir: root });
      ctx.rowGroupRows = 97;
      for (const hour of lake.hours.filter((h) => h >= Date.UTC(2024, 4, 7, 0)).slice(0, 3)) await compactUnit(ctx, hour);
      lakes.push(await finalLake(store));
    }
    const [small, middle, large] = lakes;
    expect(Object.keys(small!.files).filter((k) => k.startsWith('curated/')).length).toBeGreaterThan(3);
    expect(middle).toEqual(small);
    expect(large).toEqual(small);
  });
});
