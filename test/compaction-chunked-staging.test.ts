/**
 * Compaction hands each staging file to DuckDB while the next is framed (STAGE_CHUNK_BYTES). The
 * lake must not depend on where the staging stream was cut: the same raw zone compacted in one
 * staging file and in one file per object gives the same Parquet, errors objects and manifests,
 * byte for byte, including the records read back from the stage (rejects, the JS slow path).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit, STAGE_CHUNK_BYTES } from '../src/compaction/unit.js';
import { resolveSettings } from '../src/config/settings.js';
import { writeSyntheticLake } from '../src/demo/generate.js';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectStore } from '../src/storage/types.js';
import type { TableSpec } from '../src/schema/types.js';
import { buildCorpus, H1, H2 } from './support/compaction-scenarios.js';
import { finalLake } from './support/lake-invariants.js';

let root: string;
let spec: TableSpec;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-chunked-'));
  spec = await loadTable('click_events');
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function compactHours(store: ObjectStore, hours: number[], stageChunkBytes: number | undefined): Promise<void> {
  const ctx = compactionContext({ store, spec, settings: resolveSettings({}, {}), now: () => Date.UTC(2030, 0, 1), workDir: root });
  if (stageChunkBytes !== undefined) ctx.stageChunkBytes = stageChunkBytes;
  for (const hour of hours) await compactUnit(ctx, hour);
}

async function twoLakes(label: string, fill: (store: ObjectStore) => Promise<number[]>): Promise<{ whole: ObjectStore; chunked: ObjectStore; hours: number[] }> {
  const whole = openStore(pathToFileURL(path.join(root, `${label}-whole`)).href);
  const chunked = openStore(pathToFileURL(path.join(root, `${label}-chunked`)).href);
  const hours = await fill(whole);
  await fill(chunked);
  return { whole, chunked, hours };
}

describe('staging in chunks', () => {
  it('is large enough that a Firehose object of 5 MiB or more is not split across a handful of files', () => {
    expect(STAGE_CHUNK_BYTES).toBeGreaterThanOrEqual(16 << 20);
  });

  it('gives the hand-made corpus (every framing, rejects, garbage, pretty-printed records, duplicates) the same lake in one file and in one file per object', async () => {
    const { whole, chunked, hours } = await twoLakes('corpus', async (store) => {
      await buildCorpus().upload(store);
      return [H1, H2];
    });
    await compactHours(whole, hours, undefined);
    await compactHours(chunked, hours, 1);
    const expected = await finalLake(whole);
    expect(Object.keys(expected.files).filter((k) => k.startsWith('errors/')).length).toBe(2);
    expect(await finalLake(chunked)).toEqual(expected);
  });

  it('gives a generated hour of many objects the same lake in one file and in files of about 64 KiB', async () => {
    const { whole, chunked, hours } = await twoLakes('synth', async (store) => {
      const lake = await writeSyntheticLake({ store, table: 'click_events', seed: 5, events: 4000, startDate: '2024-05-06', days: 1, objectBytes: 32 << 10 });
      return lake.hours.slice(0, 3);
    });
    await compactHours(whole, hours, undefined);
    await compactHours(chunked, hours, 64 << 10);
    const expected = await finalLake(whole);
    expect(Object.keys(expected.manifests)).toHaveLength(3);
    expect(await finalLake(chunked)).toEqual(expected);
  });
});
