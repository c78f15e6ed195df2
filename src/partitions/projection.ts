import type { TableSpec } from '../schema/types.js';
import { curatedTablePrefix, rawTablePrefix, type LakeLayout } from './layout.js';

/** Where a table's data lives: `s3://bucket/<prefix>`. */
export interface LakeLocation {
  bucket: string;
  /** Optional key prefix under which the layout's zones live (no leading or trailing slash). */
  rootPrefix?: string;
}

export function s3Url(location: LakeLocation, keyPrefix: string): string {
  const root = location.rootPrefix ? `${location.rootPrefix.replace(/^\/+|\/+$/g, '')}/` : '';
  return `s3://${location.bucket}/${root}${keyPrefix}`;
}

/** The partition key both tables use. */
export const PARTITION_KEY = 'dt';

/**
 * Athena partition projection for the raw JSON table: `dt` is Firehose's arrival hour path
 * (`yyyy/MM/dd/HH`), one partition per hour from the schema's start date to now.
 */
export function rawProjection(spec: TableSpec, layout: LakeLayout, location: LakeLocation): Record<string, string> {
  const start = spec.settings.partitionStart.replaceAll('-', '/');
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy/MM/dd/HH',
    'projection.dt.range': `${start}/00,NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'HOURS',
    'storage.location.template': `${s3Url(location, rawTablePrefix(layout, spec.name))}\${dt}/`,
  };
}

/**
 * Athena partition projection for the curated Parquet table: `dt` is the event date
 * (`yyyy-MM-dd`), one partition per day from the schema's start date to now.
 */
export function curatedProjection(spec: TableSpec, layout: LakeLayout, location: LakeLocation): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${spec.settings.partitionStart},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${s3Url(location, curatedTablePrefix(layout, spec.name))}dt=\${dt}/`,
  };
}
