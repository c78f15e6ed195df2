import { stat } from 'node:fs/promises';
import { ClicklakeError, isClicklakeError } from '../../errors.js';
import { curatedFileKey, errorsKey, manifestKey, type LakeLayout } from '../../partitions/layout.js';
import type { HourStart } from '../../partitions/hours.js';
import type { ObjectStore, Sse } from '../../storage/types.js';
import type { ManifestOutput, UnitManifest } from '../../manifest/manifest.js';

/**
 * The only code that writes a unit's results, in the order DESIGN.md's commit protocol fixes:
 *
 *   1. every Parquet output (named by unit: a rerun overwrites, never duplicates)
 *   2. the errors object (or removes a stale one)
 *   3. outputs of the previous commit that this one no longer produces are removed
 *   4. the manifest, last: its presence is the commit
 *
 * A crash anywhere before 4 leaves the old manifest (or none) whose fingerprint no longer
 * matches, so the scheduler redoes the unit; processing is deterministic, so redoing is safe.
 */
export interface CommitInput {
  store: ObjectStore;
  layout: LakeLayout;
  table: string;
  hour: HourStart;
  files: Array<{ dt: string; file: string; rows: number }>;
  /** The finished errors object (GZIP NDJSON), when any record was rejected. */
  errorsFile: string | undefined;
  previous: UnitManifest | undefined;
  /** The manifest minus what the commit itself learns (outputs, errors key, bytes out). */
  manifest: Omit<UnitManifest, 'outputs' | 'errorsKey' | 'finishedAt' | 'durationMs'> & { startedMs: number };
  sse?: Sse;
  now: () => number;
  /**
   * With a unit lease: called before every step (throws when the lease was lost), and the
   * manifest is written only over the one this run read (If-Match its ETag; If-None-Match when
   * there was none), so a commit never replaces another run's.
   */
  lease?: { check(): void; previousManifestEtag: string | undefined };
}

export async function commitUnit(input: CommitInput): Promise<UnitManifest> {
  const { store, layout, table, hour, sse } = input;
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    input.lease?.check();
    try {
      return await fn();
    } catch (err) {
      if (isClicklakeError(err) && err.code === 'precondition_failed') {
        throw new ClicklakeError('commit_conflict', `another run committed ${table} ${input.manifest.hour} while this one ran (its manifest changed): this run's manifest is not written; run compaction again to check the unit`, { table, hour: input.manifest.hour }, { cause: err });
      }
      throw new ClicklakeError('commit_failed', `compaction of ${table} ${input.manifest.hour} failed while ${what}: ${(err as Error).message.replace(/\.+$/, '')}. Nothing is committed; run compaction again to redo the unit`, { table, hour: input.manifest.hour, step: what }, { cause: err });
    }
  };

  const outputs: ManifestOutput[] = [];
  for (const f of input.files) {
    const key = curatedFileKey(layout, table, f.dt, hour);
    const { etag } = await step(`uploading ${key}`, () => store.putFile(key, f.file, { contentType: 'application/vnd.apache.parquet', ...(sse ? { sse } : {}) }));
    outputs.push({ key, dt: f.dt, rows: f.rows, bytes: (await stat(f.file)).size, etag });
  }

  const errKey = errorsKey(layout, table, hour);
  if (input.errorsFile) {
    const errorsFile = input.errorsFile;
    await step(`writing ${errKey}`, () => store.putFile(errKey, errorsFile, { contentType: 'application/x-ndjson', contentEncoding: 'gzip', ...(sse ? { sse } : {}) }));
  } else if (input.previous?.errorsKey) {
    await step(`removing stale ${errKey}`, () => store.delete(errKey));
  }

  const kept = new Set(outputs.map((o) => o.key));
  for (const old of input.previous?.outputs ?? []) {
    if (!kept.has(old.key)) await step(`removing stale ${old.key}`, () => store.delete(old.key));
  }

  const { startedMs, ...base } = input.manifest;
  const finishedMs = input.now();
  const manifest: UnitManifest = {
    ...base,
    outputs,
    errorsKey: input.errorsFile ? errKey : null,
    counts: { ...base.counts, bytesOut: outputs.reduce((s, o) => s + o.bytes, 0) },
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: finishedMs - startedMs,
  };
  const key = manifestKey(layout, table, hour);
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const options = { contentType: 'application/json', ...(sse ? { sse } : {}) };
  const lease = input.lease;
  await step(`writing ${key}`, () =>
    lease ? store.putIf(key, text, lease.previousManifestEtag ? { ifMatch: lease.previousManifestEtag } : { ifNoneMatch: '*' }, options) : store.put(key, text, options),
  );
  return manifest;
}
