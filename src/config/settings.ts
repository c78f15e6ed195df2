/**
 * Effective settings: command-line flags over the config file (with its environment overrides)
 * over defaults. Commands read only these.
 */
import { ClicklakeError } from '../errors.js';
import { DEFAULT_LAYOUT, type LakeLayout } from '../partitions/layout.js';
import type { Sse } from '../storage/types.js';
import type { ClicklakeConfig, ParquetCompression } from './schema.js';

/** Defaults of every optional setting. */
export const DEFAULTS = {
  database: 'clicklake',
  workgroup: 'primary',
  graceMinutes: 20,
  lookbackHours: 48,
  maxSkewHours: 168,
  /** A unit's lease (renewed every third of it while the unit runs): how long a dead holder blocks it. */
  leaseSeconds: 600,
  compression: 'ZSTD' as ParquetCompression,
  projection: true,
} as const;

/** Everything a command may need, resolved. */
export interface Settings {
  /** Lake root URI (absolute for file://), when configured. */
  lake?: string;
  /** Bucket the Glue tables point at (`bucket`, else the s3:// lake's bucket). */
  bucket?: string;
  /** Key prefix inside the bucket, '' for none. */
  prefix: string;
  layout: LakeLayout;
  database: string;
  athena: { workgroup: string; outputLocation?: string };
  sse?: Sse;
  compaction: { graceMinutes: number; lookbackHours: number; maxSkewHours: number; leaseSeconds: number; compression: ParquetCompression; rowGroupRows?: number };
  /** Absolute directory of the schemas; undefined: the ones clicklake ships. */
  schemasDir?: string;
  /** Absolute directory of the views; undefined: the ones clicklake ships. */
  viewsDir?: string;
  projection: boolean;
}

/** Flags that override config fields. Paths must already be absolute (the CLI resolves them against its cwd). */
export interface SettingsFlags {
  lake?: string;
  bucket?: string;
  prefix?: string;
  database?: string;
  workgroup?: string;
  outputLocation?: string;
  schemas?: string;
  views?: string;
  compression?: string;
}

function s3Parts(lake: string | undefined): { bucket: string; prefix: string } | undefined {
  if (!lake?.startsWith('s3://')) return undefined;
  const rest = lake.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, prefix: '' } : { bucket: rest.slice(0, slash), prefix: rest.slice(slash + 1).replace(/^\/+|\/+$/g, '') };
}

/**
 * Merges flags over a (validated) config and fills defaults.
 *
 * @throws ClicklakeError `config_conflict` when `bucket`/`prefix` contradict an s3:// lake;
 *   `bad_flag` for a compression other than ZSTD / SNAPPY.
 * @example
 * const settings = resolveSettings((await loadConfig({ cwd, env })).config, { database: 'analytics' });
 */
export function resolveSettings(config: ClicklakeConfig, flags: SettingsFlags = {}): Settings {
  const lake = flags.lake ?? config.lake;
  const fromLake = s3Parts(lake);
  const bucket = flags.bucket ?? config.bucket ?? fromLake?.bucket;
  if (fromLake && flags.bucket === undefined && config.bucket !== undefined && config.bucket !== fromLake.bucket) {
    throw new ClicklakeError('config_conflict', `bucket "${config.bucket}" differs from the lake's bucket in "${lake}": remove "bucket" or make them agree`, { bucket, lake });
  }
  const prefix = (flags.prefix ?? config.prefix ?? (fromLake && fromLake.bucket === bucket ? fromLake.prefix : '')).replace(/^\/+|\/+$/g, '');
  const compression = flags.compression?.toUpperCase() ?? config.compaction?.compression ?? DEFAULTS.compression;
  if (compression !== 'ZSTD' && compression !== 'SNAPPY') {
    throw new ClicklakeError('bad_flag', `--compression ${flags.compression} is not supported: use ZSTD or SNAPPY (Athena reads both)`, { compression });
  }
  const layout: LakeLayout = {
    rawPrefix: config.layout?.raw ?? DEFAULT_LAYOUT.rawPrefix,
    curatedPrefix: config.layout?.curated ?? DEFAULT_LAYOUT.curatedPrefix,
    errorsPrefix: config.layout?.errors ?? DEFAULT_LAYOUT.errorsPrefix,
    manifestsPrefix: config.layout?.manifests ?? DEFAULT_LAYOUT.manifestsPrefix,
  };
  const settings: Settings = {
    prefix,
    layout,
    database: (flags.database ?? config.database ?? DEFAULTS.database).toLowerCase(),
    athena: { workgroup: flags.workgroup ?? config.athena?.workgroup ?? DEFAULTS.workgroup },
    compaction: {
      graceMinutes: config.compaction?.graceMinutes ?? DEFAULTS.graceMinutes,
      lookbackHours: config.compaction?.lookbackHours ?? DEFAULTS.lookbackHours,
      maxSkewHours: config.compaction?.maxSkewHours ?? DEFAULTS.maxSkewHours,
      leaseSeconds: config.compaction?.leaseSeconds ?? DEFAULTS.leaseSeconds,
      compression,
    },
    projection: config.projection ?? DEFAULTS.projection,
  };
  if (lake !== undefined) settings.lake = lake;
  if (bucket !== undefined) settings.bucket = bucket;
  const outputLocation = flags.outputLocation ?? config.athena?.outputLocation;
  if (outputLocation !== undefined) settings.athena.outputLocation = outputLocation;
  if (config.sse) settings.sse = config.sse.mode === 'aws:kms' ? { mode: 'aws:kms', kmsKeyId: config.sse.kmsKeyId } : { mode: 'AES256' };
  if (config.compaction?.rowGroupRows !== undefined) settings.compaction.rowGroupRows = config.compaction.rowGroupRows;
  const schemasDir = flags.schemas ?? config.schemasDir;
  if (schemasDir !== undefined) settings.schemasDir = schemasDir;
  const viewsDir = flags.views ?? config.viewsDir;
  if (viewsDir !== undefined) settings.viewsDir = viewsDir;
  return settings;
}
