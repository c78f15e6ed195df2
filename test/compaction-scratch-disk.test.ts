/**
 * A unit whose scratch disk fills up (a small Lambda ephemeral storage, a full /tmp) fails with
 * one line saying what to enlarge, commits nothing, leaves no scratch files or open descriptors,
 * and the same unit then compacts on a disk with room. A file:// lake whose own disk fills up
 * while the unit commits fails the same way, as the commit failure it is. The small disks are
 * real tmpfs mounts: mounting needs root, so on a machine that refuses the mount the tests say so
 * and are skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionContext } from '../src/compaction/context.js';
import { compactUnit } from '../src/compaction/unit.js';
import { resolveSettings } from '../src/config/settings.js';
import { loadTable } from '../src/schema/load.js';
import { openStore } from '../src/storage/open.js';
import { H1 } from './support/compaction-scenarios.js';
import { clickEvent, FirehoseCorpus, uuidFor } from './support/firehose-corpus.js';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-scratch-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** One NDJSON object of 3,000 valid events (~2 MB) in hour H1; `tag` keeps event ids apart between tests. */
function bigObject(tag: string): { key: string; body: Buffer } {
  const events = Array.from({ length: 3000 }, (_, i) => ({ valid: clickEvent(uuidFor(i, tag), `2024-05-01T23:${String(i % 60).padStart(2, '0')}:00Z`) }));
  return new FirehoseCorpus().addObject(H1, 'big', events, { framing: 'ndjson' });
}

/** A tmpfs of `size` at a new directory, or undefined when this machine refuses the mount. */
function mountSmallDisk(size: string, name = `disk-${size}`): string | undefined {
  const dir = path.join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

describe('a unit on a scratch disk that fills up', () => {
  // 64 KiB fills while staging (Node's write stream); 2800 KiB holds the staging file but not
  // DuckDB's database as well (measured: 2600-3100 KiB fail in DuckDB, 3200 KiB holds both since
  // the sorted rows go straight into the Parquet writer).
  it.for([
    ['staging', '64k', /^ENOSPC/],
    ['DuckDB', '2800k', /Could not write file .*No space left on device/],
  ] as const)('while %s: fails with one line naming the directory and the fix, commits nothing, and succeeds with room', async ([, size, cause], test) => {
    const small = mountSmallDisk(size);
    if (!small) test.skip('mounting a small tmpfs needs root here');
    try {
      await checkFullDisk(small!, size, cause);
    } finally {
      execFileSync('umount', [small!]);
    }
  });
});

describe('a file:// lake whose disk fills up while the unit commits', () => {
  it('fails naming the object and the fix, commits nothing, leaves no temp files, and a rerun with room commits', async (test) => {
    const object = bigObject('lake-disk');
    // Room for the raw object and 8 KiB more: the unit's Parquet file (~100 KB) does not fit.
    const pages = Math.ceil(object.body.length / 4096) + 2;
    const lake = mountSmallDisk(`${pages * 4}k`, 'lake-disk');
    if (!lake) test.skip('mounting a small tmpfs needs root here');
    try {
      const store = openStore(pathToFileURL(lake!).href);
      await store.put(object.key, object.body);
      const spec = await loadTable('click_events');
      const context = compactionContext({ store, spec, settings: resolveSettings({}, {}), workDir: work });

      const failed = await compactUnit(context, H1).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).toMatchObject({ code: 'commit_failed', meta: { step: 'uploading curated/click_events/dt=2024-05-01/2024050123.parquet' } });
      expect((failed as Error).message).toMatch(/^compaction of click_events 2024-05-01T23 failed while uploading curated\/click_events\/dt=2024-05-01\/2024050123\.parquet: .*ENOSPC.*Check the path, free space and permissions\. Nothing is committed; run compaction again to redo the unit$/);
      const files = (await readdir(lake!, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(lake!, path.join(e.parentPath, e.name)));
      // No manifest, no output, no temp file left taking the space: only the raw object, unchanged.
      expect(files).toEqual([object.key]);
      expect((await readFile(path.join(lake!, object.key))).equals(object.body)).toBe(true);

      execFileSync('mount', ['-o', 'remount,size=16m', lake!]);
      const { manifest } = await compactUnit(context, H1);
      expect(manifest.counts).toMatchObject({ recordsIn: 3000, written: 3000, rejected: 0 });
      expect(manifest.outputs.map((o) => o.key)).toEqual(['curated/click_events/dt=2024-05-01/2024050123.parquet']);
    } finally {
      execFileSync('umount', [lake!]);
    }
  });
});

async function checkFullDisk(small: string, size: string, cause: RegExp): Promise<void> {
  const store = openStore(pathToFileURL(path.join(work, `lake-${size}`)).href);
  // More than the small disk holds once staged and loaded.
  const object = bigObject('disk');
  await store.put(object.key, object.body);
  const spec = await loadTable('click_events');
  const context = (workDir: string) => compactionContext({ store, spec, settings: resolveSettings({}, {}), workDir });

  const failed = await compactUnit(context(small), H1).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failed).toMatchObject({ code: 'scratch_disk_full', meta: { cause: expect.stringMatching(cause) } });
  expect((failed as Error).message).toMatch(new RegExp(`^unit click_events 2024-05-01T23: its scratch directory ${small} ran out of disk space and nothing was committed: .*raise the ephemeral storage`));
  const committed: string[] = [];
  for await (const o of store.list('')) if (!o.key.startsWith('raw/')) committed.push(o.key);
  expect(committed).toEqual([]);
  expect(await readdir(small)).toEqual([]);
  // No descriptor still open into it: a deleted file held open keeps its space (a warm Lambda's /tmp).
  const open = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  expect(open.filter((target) => target.startsWith(small))).toEqual([]);

  const { manifest } = await compactUnit(context(work), H1);
  expect(manifest.counts).toMatchObject({ recordsIn: 3000, written: 3000, rejected: 0 });
}
