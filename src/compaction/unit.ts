import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ClicklakeError, isClicklakeError } from '../errors.js';
import { formatHour, type HourStart } from '../partitions/hours.js';
import { manifestKey, rawHourPrefix, type LakeLayout } from '../partitions/layout.js';
import { withDuckDB } from '../base/duckdb.js';
import type { TableSpec } from '../schema/types.js';
import type { ObjectInfo, ObjectStore, Sse } from '../storage/types.js';
import { commitUnit } from './commit/commit.js';
import { fingerprintInputs, type UnitManifest } from '../manifest/manifest.js';
import { dedupe, findProblemLines, loadChecked, rejectedRecords, unknownFieldCounts, writeParquet, type PipelineSettings } from './write/pipeline.js';
import { writePlanFor } from './write/memory.js';
import { explainResourceError } from './resource-errors.js';
import { ReferenceValidator } from './check/reasons.js';
import { mergeRejects, RejectWriter } from './check/rejects.js';
import { defaultStagingWorkers, stageUnit } from './read/staging.js';
import { explainRejects, settleProblemLines, StageReader } from './check/slow-path.js';
import { KeyTable } from './read/witness.js';
import { CLICKLAKE_VERSION } from '../version.js';

/** Everything compaction needs besides the unit: the lake, the table and the knobs. */
export interface CompactionContext {
  store: ObjectStore;
  spec: TableSpec;
  layout: LakeLayout;
  compression: 'ZSTD' | 'SNAPPY';
  rowGroupRows: number;
  maxSkewMs: number;
  sse?: Sse;
  /** DuckDB memory limit per unit (spills to the work directory beyond it). */
  memoryLimit: string;
  threads?: number;
  /** Worker threads that frame the raw objects (default: defaultStagingWorkers; 0 frames on the main thread). */
  stagingWorkers?: number;
  /** Parent of the per-unit scratch directories (default: the OS temp dir). */
  workDir?: string;
  now: () => number;
  /** Progress of the current unit. */
  onProgress?: (event: { phase: 'staging' | 'validating' | 'writing' | 'committing'; done?: number; total?: number }) => void;
  /** Wall time of each internal step, for the benchmark's breakdown. */
  onStepTime?: (step: string, ms: number) => void;
}

export interface UnitResult {
  hour: string;
  manifest: UnitManifest;
}

/** Hash of what shapes a unit's outputs besides its inputs: a change means recompaction. */
export function settingsHash(ctx: Pick<CompactionContext, 'spec'>): string {
  return createHash('sha256').update(JSON.stringify(ctx.spec.jsonSchema)).digest('hex').slice(0, 16);
}

export async function listUnitInputs(store: ObjectStore, layout: LakeLayout, table: string, hour: HourStart): Promise<ObjectInfo[]> {
  const inputs: ObjectInfo[] = [];
  for await (const o of store.list(rawHourPrefix(layout, table, hour))) inputs.push(o);
  return inputs;
}

export async function readManifest(store: ObjectStore, layout: LakeLayout, table: string, hour: HourStart): Promise<UnitManifest | undefined> {
  return (await readManifestAndEtag(store, layout, table, hour)).manifest;
}

/** The unit's manifest and the ETag of the object read (the ETag also when it is unreadable). */
async function readManifestAndEtag(store: ObjectStore, layout: LakeLayout, table: string, hour: HourStart): Promise<{ manifest: UnitManifest | undefined; etag: string | undefined }> {
  const key = manifestKey(layout, table, hour);
  const info = await store.head(key);
  if (!info) return { manifest: undefined, etag: undefined };
  try {
    return { manifest: JSON.parse((await store.getBytes(key)).toString('utf8')) as UnitManifest, etag: info.etag };
  } catch (err) {
    // An unreadable manifest is treated as no commit: the unit is redone and the manifest rewritten.
    if (err instanceof SyntaxError) return { manifest: undefined, etag: info.etag };
    if (isClicklakeError(err) && err.code === 'object_not_found') return { manifest: undefined, etag: undefined };
    throw err;
  }
}

/**
 * Compacts one arrival hour: stage -> validate and type (DuckDB) -> dedupe -> Parquet per dt ->
 * commit (outputs, errors, manifest last). Deterministic: the same inputs give byte-identical
 * outputs, so a crashed or repeated run is simply run again.
 */
export async function compactUnit(ctx: CompactionContext, hour: HourStart, knownInputs?: ObjectInfo[], lease?: { check(): void }): Promise<UnitResult> {
  const startedMs = ctx.now();
  const table = ctx.spec.name;
  const inputs = knownInputs ?? (await listUnitInputs(ctx.store, ctx.layout, table, hour));
  const { manifest: previous, etag: previousManifestEtag } = await readManifestAndEtag(ctx.store, ctx.layout, table, hour);
  const dir = await mkdtemp(path.join(ctx.workDir ?? os.tmpdir(), `clicklake-${table}-${formatHour(hour)}-`));
  let lap = performance.now();
  const step = (name: string): void => {
    const now = performance.now();
    ctx.onStepTime?.(name, now - lap);
    lap = now;
  };
  let reader: StageReader | undefined;
  let rejectWriter!: RejectWriter;
  try {
    ctx.onProgress?.({ phase: 'staging', done: 0, total: inputs.length });
    const keys = new KeyTable(ctx.spec.columns.map((c) => c.jsonName));
    reader = new StageReader(path.join(dir, 'stage.ndjson'));
    rejectWriter = new RejectWriter(path.join(dir, 'errors.ndjson.gz'));
    const staged = await stageUnit(ctx.store, inputs, path.join(dir, 'stage.ndjson'), keys, {
      workers: ctx.stagingWorkers ?? defaultStagingWorkers(inputs.length, ctx.threads ?? os.availableParallelism()),
      onObject: (done) => ctx.onProgress?.({ phase: 'staging', done, total: inputs.length }),
    });
    const settings: PipelineSettings = { hourStartMs: hour, maxSkewMs: ctx.maxSkewMs, compression: ctx.compression, rowGroupRows: ctx.rowGroupRows };
    const reference = new ReferenceValidator(ctx.spec, hour, ctx.maxSkewMs);
    ctx.onProgress?.({ phase: 'validating' });
    step('stage');
    const result = await withDuckDB(
      async (conn) => {
        await loadChecked(conn, ctx.spec, [staged.file], settings, false);
        step('parse+validate');
        const problems = await findProblemLines(conn, staged.file);
        step('problem lines');
        const rescueFile = path.join(dir, 'rescued.ndjson');
        const slow = await settleProblemLines(problems, staged, reader!, inputs, reference, rescueFile, keys);
        // Lines DuckDB could not take stay in `checked` as non-event rows: every later step reads events only.
        const unreadBefore = problems.length;
        if (slow.rescued > 0) {
          await loadChecked(conn, ctx.spec, [rescueFile], settings, true);
          const unread = Number((await conn.runAndReadAll(`SELECT count(*) FROM checked WHERE kind <> 'event'`)).getRows()[0]?.[0] ?? 0) - unreadBefore;
          if (unread > 0) {
            throw new ClicklakeError('internal_rescue_unread', `DuckDB could not read ${unread} record(s) the reference validator accepted; nothing committed (please report this as a clicklake bug)`, { unread });
          }
        }

        step('slow path');
        // DuckDB's rejects are explained one at a time (Ajv gives the reasons) and streamed into
        // the errors file, merged in order with the few found in JS. That is JS work on the main
        // thread, so it runs while DuckDB dedupes and writes the Parquet on its own threads.
        const rejectRefs = await rejectedRecords(conn);
        const rejectsStarted = performance.now();
        const rejectsWritten = (async () => {
          await mergeRejects(rejectWriter, [staged.rejected, slow.rejects], explainRejects(rejectRefs, staged, reader!, inputs, reference));
          await rejectWriter.close();
          ctx.onStepTime?.('rejects (alongside DuckDB)', performance.now() - rejectsStarted);
        })();
        // Handled here so a failure waits for the await below instead of crashing the process.
        rejectsWritten.catch(() => undefined);
        try {
          const events = Number((await conn.runAndReadAll(`SELECT count(*) FROM checked WHERE kind = 'event'`)).getRows()[0]?.[0] ?? 0);
          const kept = await dedupe(conn, ctx.spec);
          step('dedupe');
          const unknownFields = await unknownFieldCounts(conn);
          ctx.onProgress?.({ phase: 'writing' });
          const cores = ctx.threads ?? os.availableParallelism();
          const files = await writeParquet(conn, ctx.spec, kept.dts, dir, settings, writePlanFor(ctx.memoryLimit, cores));
          step('parquet');
          await rejectsWritten;
          return { events, kept, unknownFields, files, jsRecords: staged.rejected.length + slow.records - slow.rescued };
        } catch (err) {
          // Settle the errors file before its directory is removed.
          await rejectsWritten.catch(() => undefined);
          throw err;
        }
      },
      { path: path.join(dir, 'unit.duckdb'), memoryLimit: ctx.memoryLimit, tempDirectory: path.join(dir, 'spill'), preserveInsertionOrder: false, ...(ctx.threads ? { threads: ctx.threads } : {}) },
    );

    const counts = {
      recordsIn: result.events + result.jsRecords,
      written: result.kept.unique,
      duplicates: result.kept.valid - result.kept.unique,
      rejected: rejectWriter.count,
      bytesIn: staged.bytesIn,
      bytesOut: 0,
    };
    if (counts.recordsIn !== counts.written + counts.duplicates + counts.rejected) {
      throw new ClicklakeError('internal_count_mismatch', `unit ${table} ${formatHour(hour)}: ${counts.recordsIn} records in but ${counts.written} written + ${counts.duplicates} duplicates + ${counts.rejected} rejected; nothing committed`, { counts });
    }
    const rejectReasons = rejectWriter.codes;

    ctx.onProgress?.({ phase: 'committing' });
    lap = performance.now();
    const manifest = await commitUnit({
      store: ctx.store,
      layout: ctx.layout,
      table,
      hour,
      files: result.files,
      errorsFile: rejectWriter.count > 0 ? rejectWriter.file : undefined,
      previous,
      ...(ctx.sse ? { sse: ctx.sse } : {}),
      ...(lease ? { lease: { check: () => lease.check(), previousManifestEtag } } : {}),
      now: ctx.now,
      manifest: {
        version: 1,
        table,
        hour: formatHour(hour),
        fingerprint: fingerprintInputs(inputs),
        inputs: inputs.map((i) => ({ key: i.key, size: i.size, etag: i.etag })),
        counts,
        unknownFields: result.unknownFields,
        rejectReasons: Object.fromEntries(Object.entries(rejectReasons).sort()),
        settings: { compression: ctx.compression, maxSkewHours: ctx.maxSkewMs / 3_600_000, schemaHash: settingsHash(ctx) },
        startedAt: new Date(startedMs).toISOString(),
        startedMs,
        clicklakeVersion: CLICKLAKE_VERSION,
      },
    });
    step('commit');
    return { hour: formatHour(hour), manifest };
  } catch (err) {
    throw explainResourceError(err, `${table} ${formatHour(hour)}`, { memoryLimit: ctx.memoryLimit, scratchDir: path.dirname(dir) });
  } finally {
    await reader?.close();
    // Unset when the unit failed before opening it.
    await (rejectWriter as RejectWriter | undefined)?.discard();
    await rm(dir, { recursive: true, force: true });
  }
}
