import { stat } from 'node:fs/promises';
import { ClicklakeError, isClicklakeError } from '../../errors.js';
import { curatedFileKey, errorsKey, manifestKey, type LakeLayout } from '../../partitions/layout.js';
import type { HourStart } from '../../partitions/hours.js';
import type { ObjectStore, PutCondition, PutOptions, Sse } from '../../storage/types.js';
import { accountedObjects, type ManifestOutput, type UnitManifest } from '../../manifest/manifest.js';

/**
 * The only code that writes a unit's results, in the order DESIGN.md's commit protocol fixes:
 *
 *   0. a recompaction withdraws the previous manifest (`state: 'replacing'`, naming no object)
 *      before it touches anything that manifest names
 *   1. every Parquet output (named by unit: a rerun overwrites, never duplicates)
 *   2. the errors object (or removes a stale one)
 *   3. outputs of the previous commit that this one no longer produces are removed
 *   4. the manifest, last: its presence is the commit
 *
 * So a manifest never names an object that is not as it recorded. A crash anywhere before 4
 * leaves no manifest, one whose fingerprint no longer matches, or a withdrawn one, so the
 * scheduler redoes the unit; processing is deterministic, so redoing is safe.
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
   * there was none), so a commit never replaces another run's. A withdrawal is written that way
   * too, and the final manifest then only over the withdrawal.
   */
  lease?: { check(): void; previousManifestEtag: string | undefined };
}

/** What a commit will write and remove, worked out before its first write. */
interface CommitPlan {
  outputs: Array<{ key: string; dt: string; rows: number; file: string }>;
  errorsKey: string;
  /** Errors objects to remove: a previous one, when this commit has no rejects. */
  staleErrors: string[];
  /** Outputs the previous commit had (or had withdrawn) that this one does not produce. */
  staleOutputs: string[];
}

function planCommit(input: CommitInput): CommitPlan {
  const outputs = input.files.map((f) => ({ key: curatedFileKey(input.layout, input.table, f.dt, input.hour), dt: f.dt, rows: f.rows, file: f.file }));
  const errKey = errorsKey(input.layout, input.table, input.hour);
  const accounted = accountedObjects(input.previous);
  const kept = new Set(outputs.map((o) => o.key));
  const staleError = accounted.errorsKey !== null && !(input.errorsFile && accounted.errorsKey === errKey);
  return {
    outputs,
    errorsKey: errKey,
    staleErrors: staleError ? [accounted.errorsKey!] : [],
    staleOutputs: accounted.outputs.map((o) => o.key).filter((key) => !kept.has(key)),
  };
}

/** Whether the plan overwrites or removes an object the previous manifest names as current. */
function touchesNamed(plan: CommitPlan, hasErrorsFile: boolean, previous: UnitManifest | undefined): boolean {
  if (!previous) return false;
  const touched = new Set([...plan.outputs.map((o) => o.key), ...(hasErrorsFile ? [plan.errorsKey] : []), ...plan.staleErrors, ...plan.staleOutputs]);
  return previous.outputs.some((o) => touched.has(o.key)) || (previous.errorsKey !== null && touched.has(previous.errorsKey));
}

/** The previous manifest withdrawn: names nothing, and keeps what it had for a rerun to clean up. */
function withdrawnRecord(previous: UnitManifest): UnitManifest {
  const { version, state: _state, withdrawn: _withdrawn, ...rest } = previous;
  return { version, state: 'replacing', ...rest, outputs: [], errorsKey: null, withdrawn: accountedObjects(previous) };
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
  const key = manifestKey(layout, table, hour);
  const jsonOptions: PutOptions = { contentType: 'application/json', ...(sse ? { sse } : {}) };
  const lease = input.lease;
  let manifestEtag = lease?.previousManifestEtag;
  // With a lease, the manifest is only ever replaced if it is still the one this run last wrote or read.
  const writeManifest = async (what: string, record: UnitManifest): Promise<void> => {
    const text = `${JSON.stringify(record, null, 2)}\n`;
    const condition: PutCondition = manifestEtag ? { ifMatch: manifestEtag } : { ifNoneMatch: '*' };
    const { etag } = await step(`${what} ${key}`, () => (lease ? store.putIf(key, text, condition, jsonOptions) : store.put(key, text, jsonOptions)));
    manifestEtag = etag;
  };

  const plan = planCommit(input);
  if (input.previous && touchesNamed(plan, input.errorsFile !== undefined, input.previous)) await writeManifest('withdrawing', withdrawnRecord(input.previous));

  const outputs: ManifestOutput[] = [];
  for (const o of plan.outputs) {
    const { etag } = await step(`uploading ${o.key}`, () => store.putFile(o.key, o.file, { contentType: 'application/vnd.apache.parquet', ...(sse ? { sse } : {}) }));
    outputs.push({ key: o.key, dt: o.dt, rows: o.rows, bytes: (await stat(o.file)).size, etag });
  }

  if (input.errorsFile) {
    const errorsFile = input.errorsFile;
    await step(`writing ${plan.errorsKey}`, () => store.putFile(plan.errorsKey, errorsFile, { contentType: 'application/x-ndjson', contentEncoding: 'gzip', ...(sse ? { sse } : {}) }));
  }
  for (const stale of plan.staleErrors) await step(`removing stale ${stale}`, () => store.delete(stale));
  for (const stale of plan.staleOutputs) await step(`removing stale ${stale}`, () => store.delete(stale));

  const { startedMs, ...base } = input.manifest;
  const finishedMs = input.now();
  const manifest: UnitManifest = {
    ...base,
    outputs,
    errorsKey: input.errorsFile ? plan.errorsKey : null,
    counts: { ...base.counts, bytesOut: outputs.reduce((s, o) => s + o.bytes, 0) },
    finishedAt: new Date(finishedMs).toISOString(),
    durationMs: finishedMs - startedMs,
  };
  await writeManifest('writing', manifest);
  return manifest;
}
