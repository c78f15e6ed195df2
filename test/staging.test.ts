/**
 * Staging frames objects on worker threads: the staging file must not depend on how many
 * workers framed it, and every staged record must point back at its exact source bytes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import type { ObjectInfo, ObjectStore } from '../src/storage/types.js';
import { defaultStagingWorkers, stagedPosition, stageUnit, type StagedUnit } from '../src/compaction/read/staging.js';
import { stagedRecordLine } from '../src/compaction/read/stage-lines.js';
import { KeyTable } from '../src/compaction/read/witness.js';
import { MMAP_SIZED } from '../src/compaction/read/buffer-pool.js';
import { releaseUnusedMemory } from '../src/compaction/read/release-memory.js';
import { buildCorpus } from './support/compaction-scenarios.js';
import type { FirehoseCorpus } from './support/firehose-corpus.js';

describe('staging', () => {
  let dir: string;
  let store: ObjectStore;
  let corpus: FirehoseCorpus;
  let inputs: ObjectInfo[];
  let keys: KeyTable;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clicklake-staging-test-'));
    store = openStore(pathToFileURL(path.join(dir, 'lake')).href);
    corpus = buildCorpus();
    // Every corpus object in one unit, several times over, so the workers interleave.
    for (let copy = 0; copy < 4; copy++) {
      for (const [i, o] of corpus.objects.entries()) await store.put(`raw/t/${copy}-${i}`, o.body);
    }
    inputs = [];
    for await (const o of store.list('raw/t/')) inputs.push(o);
    const spec = await loadTable('click_events');
    keys = new KeyTable(spec.columns.map((c) => c.jsonName));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const stage = (workers: number): Promise<StagedUnit> => stageUnit(store, inputs, path.join(dir, `stage-${workers}.ndjson`), keys, { workers });

  it('writes the same staging file whether the main thread or 1 or 3 workers frame the objects', async () => {
    const inline = await stage(0);
    expect(inline.workers).toBe(0);
    const inlineBytes = await readFile(inline.file);
    for (const workers of [1, 3]) {
      const staged = await stage(workers);
      expect(staged.workers).toBe(workers);
      expect(await readFile(staged.file)).toEqual(inlineBytes);
      expect(staged.blockStarts).toEqual(inline.blockStarts);
      expect(staged.lines).toBe(inline.lines);
      expect({ in: staged.bytesIn, out: staged.bytesDecompressed }).toEqual({ in: inline.bytesIn, out: inline.bytesDecompressed });
      expect(staged.rejected).toEqual(inline.rejected);
      expect([...staged.originals]).toEqual([...inline.originals]);
    }
    // The corpus holds a corrupt GZIP object, garbage spans and a pretty-printed record.
    expect(new Set(inline.rejected.map((r) => r.code))).toEqual(new Set(['gzip', 'framing']));
    // Read buffers are reused for later objects: a corrupt object's rejected bytes must be its own copy.
    for (const staged of [inline, await stage(2)]) {
      for (const r of staged.rejected.filter((x) => x.code === 'gzip')) expect(r.bytes).toEqual(await store.getBytes(r.sourceKey));
    }
    expect(inline.originals.size).toBeGreaterThan(0);
  });

  it('points every staged line at its record: blockStarts[s] + p holds the bytes found at offset o of object s', async () => {
    const staged = await stage(2);
    const file = await readFile(staged.file);
    const plain = new Map(corpus.objects.map((o) => [o.body.toString('base64'), o.plain]));
    const bodies = await Promise.all(inputs.map(async (i) => plain.get((await store.getBytes(i.key)).toString('base64'))!));
    const lines = file.toString('utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(staged.lines);
    let checked = 0;
    for (const line of lines) {
      const m = /^\{"s":(\d+),"o":(\d+),"p":(\d+),"n":(\d+),/.exec(line)!;
      const [s, o, p, n] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
      const at = stagedPosition(staged, s, p);
      const record = file.subarray(at, at + n);
      if (staged.originals.has(`${s}:${o}`)) {
        expect(JSON.parse(record.toString())).toEqual(JSON.parse(staged.originals.get(`${s}:${o}`)!.toString()));
      } else {
        expect(record).toEqual(bodies[s]!.subarray(o, o + n));
        // The staging fast paths write what the generic witness fields would.
        expect(line).toBe(stagedRecordLine({ s, o, p }, record, new KeyTable(keys.names)));
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(4 * 20);
    expect(lines.some((line) => line.includes(',"wa":["'))).toBe(true);
    expect(lines.some((line) => line.includes(',"u":['))).toBe(true);
  });

  it('stages on the main thread up to 2 cores, else on one worker per two cores (at most 4); none for one object', () => {
    expect(defaultStagingWorkers(93, 2)).toBe(0);
    expect(defaultStagingWorkers(93, 4)).toBe(2);
    expect(defaultStagingWorkers(93, 16)).toBe(4);
    expect(defaultStagingWorkers(3, 16)).toBe(3);
    expect(defaultStagingWorkers(1, 8)).toBe(0);
    expect(defaultStagingWorkers(50, 1)).toBe(0);
  });
  it('lets go of its pooled read and block buffers before its closing collection', async () => {
    // Each pooled buffer is at least MMAP_SIZED; staging on the main thread fills up to three read
    // buffers and its block pool. They must be gone when stageUnit returns, not at V8's next
    // full collection, which may come only after DuckDB's sort has taken its memory.
    await releaseUnusedMemory();
    const before = process.memoryUsage().arrayBuffers;
    const staged = await stage(0);
    expect(staged.lines).toBeGreaterThan(0);
    let held = process.memoryUsage().arrayBuffers - before;
    // V8 frees array buffer memory on a background thread right after the collection.
    for (let i = 0; i < 50 && held >= MMAP_SIZED; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      held = process.memoryUsage().arrayBuffers - before;
    }
    expect(held).toBeLessThan(MMAP_SIZED);
  });
});
