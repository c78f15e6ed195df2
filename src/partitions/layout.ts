import { formatHour, hourPath, hourStem, parseHourPath, type HourStart } from './hours.js';

/** Where each zone of the lake lives, relative to the lake root (bucket or directory). */
export interface LakeLayout {
  rawPrefix: string;
  curatedPrefix: string;
  errorsPrefix: string;
  manifestsPrefix: string;
}

export const DEFAULT_LAYOUT: LakeLayout = {
  rawPrefix: 'raw',
  curatedPrefix: 'curated',
  errorsPrefix: 'errors',
  manifestsPrefix: '_manifests',
};

const join = (...parts: string[]): string => parts.filter((p) => p !== '').map((p) => p.replace(/^\/+|\/+$/g, '')).join('/');

/** `raw/<table>/` — everything Firehose delivered for a table. */
export function rawTablePrefix(layout: LakeLayout, table: string): string {
  return `${join(layout.rawPrefix, table)}/`;
}

/** `raw/<table>/YYYY/MM/DD/HH/` — one arrival hour: one compaction unit's input. */
export function rawHourPrefix(layout: LakeLayout, table: string, hour: HourStart): string {
  return `${join(layout.rawPrefix, table, hourPath(hour))}/`;
}

/** The arrival hour of a raw object key, or undefined for a key outside the hour layout. */
export function rawKeyHour(layout: LakeLayout, table: string, key: string): HourStart | undefined {
  const prefix = rawTablePrefix(layout, table);
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length).split('/');
  if (rest.length < 5 || rest.slice(4).join('/') === '') return undefined;
  return parseHourPath(rest.slice(0, 4).join('/'));
}

/** `curated/<table>/` */
export function curatedTablePrefix(layout: LakeLayout, table: string): string {
  return `${join(layout.curatedPrefix, table)}/`;
}

/** `curated/<table>/dt=YYYY-MM-DD/YYYYMMDDHH.parquet` — named by unit, so a rerun overwrites it. */
export function curatedFileKey(layout: LakeLayout, table: string, dt: string, hour: HourStart): string {
  return join(layout.curatedPrefix, table, `dt=${dt}`, `${hourStem(hour)}.parquet`);
}

/** Parses a curated key back to its dt and unit hour stem. */
export function parseCuratedKey(layout: LakeLayout, table: string, key: string): { dt: string; stem: string } | undefined {
  const m = /^dt=(\d{4}-\d{2}-\d{2})\/(\d{10})\.parquet$/.exec(key.slice(curatedTablePrefix(layout, table).length));
  return key.startsWith(curatedTablePrefix(layout, table)) && m ? { dt: m[1]!, stem: m[2]! } : undefined;
}

/** `errors/<table>/YYYY/MM/DD/HH.ndjson.gz` */
export function errorsKey(layout: LakeLayout, table: string, hour: HourStart): string {
  return `${join(layout.errorsPrefix, table, hourPath(hour))}.ndjson.gz`;
}

/** `_manifests/<table>/` */
export function manifestsTablePrefix(layout: LakeLayout, table: string): string {
  return `${join(layout.manifestsPrefix, table)}/`;
}

/** `_manifests/<table>/YYYY/MM/DD/HH.json` — the unit's commit record. */
export function manifestKey(layout: LakeLayout, table: string, hour: HourStart): string {
  return `${join(layout.manifestsPrefix, table, hourPath(hour))}.json`;
}

/** The unit hour of a manifest key. */
export function manifestKeyHour(layout: LakeLayout, table: string, key: string): HourStart | undefined {
  const prefix = manifestsTablePrefix(layout, table);
  if (!key.startsWith(prefix) || !key.endsWith('.json')) return undefined;
  return parseHourPath(key.slice(prefix.length, -'.json'.length));
}

/**
 * The Firehose delivery stream prefixes that produce this layout. Firehose's default prefix is
 * `YYYY/MM/dd/HH/` in UTC; a custom prefix must spell the timestamp out.
 */
export function firehosePrefixes(layout: LakeLayout, table: string): { prefix: string; errorOutputPrefix: string } {
  return {
    prefix: `${join(layout.rawPrefix, table)}/!{timestamp:yyyy/MM/dd/HH}/`,
    errorOutputPrefix: `${join(layout.rawPrefix, `${table}_firehose_errors`)}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/`,
  };
}

export { formatHour };
