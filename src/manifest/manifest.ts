import { createHash } from 'node:crypto';
import type { ObjectInfo } from '../storage/types.js';

/** One raw input object of a unit, as listed when the unit started. */
export interface ManifestInput {
  key: string;
  size: number;
  etag: string;
}

/** One curated Parquet file a unit wrote. */
export interface ManifestOutput {
  /** Key relative to the lake root: `curated/<table>/dt=YYYY-MM-DD/<YYYYMMDDHH>.parquet`. */
  key: string;
  dt: string;
  rows: number;
  bytes: number;
  etag: string;
}

/** Record counts of a unit. Invariant: recordsIn = written + duplicates + rejected. */
export interface ManifestCounts {
  recordsIn: number;
  written: number;
  duplicates: number;
  rejected: number;
  /** Bytes of raw objects as stored (compressed for GZIP objects). */
  bytesIn: number;
  /** Bytes of the Parquet files written. */
  bytesOut: number;
}

/** The objects a withdrawn manifest stopped claiming: those of the commit being replaced. */
export interface ManifestWithdrawal {
  outputs: ManifestOutput[];
  errorsKey: string | null;
}

/**
 * The commit record of one unit (one raw arrival hour), written last at
 * `_manifests/<table>/YYYY/MM/DD/HH.json`. Its presence means every output and the errors object
 * are in place; its fingerprint says which inputs they were made from.
 *
 * A recompaction first *withdraws* the unit's manifest (same key, `state: 'replacing'`) before it
 * overwrites or removes anything that manifest names: so no manifest ever names an object that is
 * not as recorded, and after a crash the withdrawn record still says which objects to remove.
 */
export interface UnitManifest {
  version: 1;
  /**
   * Absent: committed. `'replacing'`: withdrawn by a recompaction that has not committed yet (or
   * crashed): it names no object (`outputs` empty, `errorsKey` null), `withdrawn` lists what the
   * replaced commit had, and its other fields are that commit's. The scheduler always redoes it.
   */
  state?: 'replacing';
  /** With `state: 'replacing'`: the replaced commit's outputs and errors object. */
  withdrawn?: ManifestWithdrawal;
  table: string;
  /** Arrival hour, `YYYY-MM-DDTHH` (UTC). */
  hour: string;
  /** sha256 over the sorted inputs' key, size and ETag. */
  fingerprint: string;
  inputs: ManifestInput[];
  outputs: ManifestOutput[];
  /** Key of the errors object, when any record was rejected. */
  errorsKey: string | null;
  counts: ManifestCounts;
  /** Unknown top-level properties seen, per name: dropped from curated data (schema drift). */
  unknownFields: Record<string, number>;
  /** Rejected records per first reason code, for the report. */
  rejectReasons: Record<string, number>;
  /** Settings that shape the outputs: a change of these is a reason to recompact. */
  settings: { compression: string; maxSkewHours: number; schemaHash: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  clicklakeVersion: string;
}

/** Whether a manifest is a commit (not one withdrawn by a recompaction in progress or interrupted). */
export function isCommitted(manifest: Pick<UnitManifest, 'state'>): boolean {
  return manifest.state === undefined;
}

/**
 * Every object a unit's manifest accounts for: what a committed one names, and what a withdrawn
 * one withdrew (a recompaction that crashed may have left any of those in place).
 */
export function accountedObjects(manifest: Pick<UnitManifest, 'outputs' | 'errorsKey' | 'withdrawn'> | undefined): ManifestWithdrawal {
  if (!manifest) return { outputs: [], errorsKey: null };
  const withdrawn = manifest.withdrawn ?? { outputs: [], errorsKey: null };
  const named = new Set(manifest.outputs.map((o) => o.key));
  return {
    outputs: [...manifest.outputs, ...withdrawn.outputs.filter((o) => !named.has(o.key))],
    errorsKey: manifest.errorsKey ?? withdrawn.errorsKey,
  };
}

/** Fingerprint of a unit's inputs: changes when a late object arrives or one is replaced. */
export function fingerprintInputs(inputs: readonly Pick<ObjectInfo, 'key' | 'size' | 'etag'>[]): string {
  const hash = createHash('sha256');
  for (const input of [...inputs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    hash.update(`${input.key}\t${input.size}\t${input.etag}\n`);
  }
  return hash.digest('hex');
}
