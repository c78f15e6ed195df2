/**
 * Registers the curated table's `dt` partitions in Glue, for lakes that run with partition
 * projection off. The source of truth is the compaction manifests: every committed unit lists the
 * dt partitions it wrote (`outputs[].dt`), so a partition is registered only once data is in it.
 */
import { BatchCreatePartitionCommand, GetPartitionsCommand, GetTableCommand, type PartitionInput, type StorageDescriptor } from '@aws-sdk/client-glue';
import type { UnitManifest } from '../manifest/manifest.js';
import { ClicklakeError } from '../errors.js';
import { manifestKeyHour, manifestsTablePrefix, type LakeLayout } from '../partitions/layout.js';
import type { ObjectStore } from '../storage/types.js';
import { glueError, type GlueSender } from './glue-live.js';

/** Glue's BatchCreatePartition takes at most 100 partitions per call. */
export const GLUE_BATCH_CREATE_PARTITION_MAX = 100;

/** Manifests read at once. */
const MANIFEST_READ_CONCURRENCY = 8;

const DT = /^\d{4}-\d{2}-\d{2}$/;

export interface PartitionSyncOptions {
  glue: GlueSender;
  /** The lake (manifests are read from `<manifests>/<table>/`). */
  store: ObjectStore;
  layout: LakeLayout;
  database: string;
  /** Curated table name. */
  table: string;
}

/** What a sync found and did. */
export interface PartitionSyncResult {
  table: string;
  manifests: number;
  /** Every dt the manifests list, sorted. */
  dts: string[];
  /** Partitions that were already in Glue (listed before, or AlreadyExists in a batch response). */
  alreadyRegistered: number;
  created: string[];
  /** Partitions Glue refused, with its error code and message. */
  failed: Array<{ dt: string; code: string; message: string }>;
  /** BatchCreatePartition calls made. */
  batches: number;
  /** Whether the table has partition projection on (Athena then ignores registered partitions). */
  projectionEnabled: boolean;
}

/** The dt partitions of every committed unit of a table. */
export async function manifestDts(store: ObjectStore, layout: LakeLayout, table: string): Promise<{ manifests: number; dts: string[] }> {
  const keys: string[] = [];
  for await (const object of store.list(manifestsTablePrefix(layout, table))) {
    if (manifestKeyHour(layout, table, object.key) !== undefined) keys.push(object.key);
  }
  const dts = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      let manifest: Partial<UnitManifest>;
      try {
        manifest = JSON.parse((await store.getBytes(key)).toString('utf8')) as Partial<UnitManifest>;
      } catch (err) {
        if (err instanceof ClicklakeError) throw err;
        throw new ClicklakeError('manifest_invalid', `manifest ${key} is not valid JSON (${(err as Error).message}): recompact its unit or remove the file`, { key });
      }
      if (!Array.isArray(manifest.outputs)) {
        throw new ClicklakeError('manifest_invalid', `manifest ${key} has no outputs list: recompact its unit or remove the file`, { key });
      }
      for (const output of manifest.outputs) {
        if (typeof output?.dt !== 'string' || !DT.test(output.dt)) {
          throw new ClicklakeError('manifest_invalid', `manifest ${key} lists an output with dt ${JSON.stringify(output?.dt)}: expected YYYY-MM-DD`, { key });
        }
        dts.add(output.dt);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_READ_CONCURRENCY, keys.length) }, worker));
  return { manifests: keys.length, dts: [...dts].sort() };
}

/** The partition's definition: the table's storage descriptor with the partition's own location. */
export function partitionInput(tableDescriptor: StorageDescriptor, dt: string): PartitionInput {
  const base = (tableDescriptor.Location ?? '').replace(/\/*$/, '/');
  return { Values: [dt], StorageDescriptor: { ...structuredClone(tableDescriptor), Location: `${base}dt=${dt}/` } };
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Registers every dt the manifests list that Glue does not have yet, 100 per BatchCreatePartition.
 * Idempotent: partitions already present are skipped, and AlreadyExists answers (a concurrent
 * sync) count as present. Other per-partition errors are reported in `failed`, not thrown.
 *
 * @throws ClicklakeError `table_not_found` (run `catalog apply` first), `manifest_invalid`, `glue_call_failed`.
 * @example
 * const result = await syncPartitions({ glue, store: openStore('s3://my-lake'), layout: DEFAULT_LAYOUT, database: 'clicklake', table: 'click_events' });
 */
export async function syncPartitions(options: PartitionSyncOptions): Promise<PartitionSyncResult> {
  const { glue, database, table } = options;
  const { manifests, dts } = await manifestDts(options.store, options.layout, table);
  let descriptor: StorageDescriptor | undefined;
  let projectionEnabled = false;
  try {
    const found = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }))).Table;
    descriptor = found?.StorageDescriptor;
    projectionEnabled = found?.Parameters?.['projection.enabled'] === 'true';
  } catch (err) {
    if ((err as { name?: string })?.name === 'EntityNotFoundException') {
      throw new ClicklakeError('table_not_found', `Glue has no table ${database}.${table}: create it with \`clicklake catalog apply\` first`, { database, table });
    }
    throw glueError('GetTable', err, { database, table });
  }
  if (!descriptor?.Location) {
    throw new ClicklakeError('table_without_location', `Glue table ${database}.${table} has no storage location: run \`clicklake catalog apply\` to repair it`, { database, table });
  }

  const registered = new Set<string>();
  try {
    let token: string | undefined;
    do {
      const page = await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: table, NextToken: token }));
      for (const partition of page.Partitions ?? []) if (partition.Values?.[0] !== undefined) registered.add(partition.Values[0]);
      token = page.NextToken;
    } while (token);
  } catch (err) {
    throw glueError('GetPartitions', err, { database, table });
  }

  const missing = dts.filter((dt) => !registered.has(dt));
  const result: PartitionSyncResult = { table, manifests, dts, alreadyRegistered: dts.length - missing.length, created: [], failed: [], batches: 0, projectionEnabled };
  for (const batch of chunks(missing, GLUE_BATCH_CREATE_PARTITION_MAX)) {
    let errors;
    try {
      ({ Errors: errors } = await glue.send(
        new BatchCreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInputList: batch.map((dt) => partitionInput(descriptor, dt)) }),
      ));
    } catch (err) {
      const wrapped = glueError('BatchCreatePartition', err, { database, table, created: result.created.length });
      throw new ClicklakeError(wrapped.code, `${wrapped.message}; ${result.created.length} partition(s) were registered before: run the sync again`, wrapped.meta, { cause: err });
    }
    result.batches++;
    const failedHere = new Set<string>();
    for (const error of errors ?? []) {
      const dt = error.PartitionValues?.[0] ?? '';
      failedHere.add(dt);
      const code = error.ErrorDetail?.ErrorCode ?? 'UnknownError';
      if (code === 'AlreadyExistsException') result.alreadyRegistered++;
      else result.failed.push({ dt, code, message: error.ErrorDetail?.ErrorMessage ?? '' });
    }
    result.created.push(...batch.filter((dt) => !failedHere.has(dt)));
  }
  return result;
}
