/**
 * A unit whose scratch disk fills up (a small Lambda ephemeral storage, a full /tmp) fails with
 * one line saying what to enlarge, commits nothing, leaves no scratch files or open descriptors,
 * and the same unit then compacts on a disk with room. The small disks are real tmpfs mounts: mounting needs
 * root, so on a machine that refuses the mount the tests say so and are skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
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

/** A tmpfs of `size` at a new directory, or undefined when this machine refuses the mount. */
function mountSmallDisk(size: string): string | undefined {
  const dir = path.join(work, `disk-${size}`);
  execFileSync('mkdir', ['-p', dir]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

describe('a unit on a scratch disk that fills up', () => {
  // 64 KiB fills while staging (Node's write stream); 3200 KiB holds the ~2.6 MB staging file but
  // not DuckDB's database as well (4 MiB holds both).
  it.for([
    ['staging', '64k', /^ENOSPC/],
    ['DuckDB', '3200k', /Could not write file .*No space left on device/],
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

async function checkFullDisk(small: string, size: string, cause: RegExp): Promise<void> {
  const store = openStore(pathToFileURL(path.join(work, `lake-${size}`)).href);
  // ~2 MB of events in one object: more than the small disk holds once staged and loaded.
  const corpus = new FirehoseCorpus();
  const events = Array.from({ length: 3000 }, (_, i) => ({ valid: clickEvent(uuidFor(i, 'disk'), `2024-05-01T23:${String(i % 60).padStart(2, '0')}:00Z`) }));
  const object = corpus.addObject(H1, 'big', events, { framing: 'ndjson' });
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
