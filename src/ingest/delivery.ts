/**
 * Firehose-compatible delivery of spooled records: what Kinesis Data Firehose would have written
 * for the same requests. Records are grouped by UTC arrival hour into objects under
 * `raw/<table>/YYYY/MM/DD/HH/`, named `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]`, with a
 * newline after every record (Firehose's AppendDelimiterToRecord), GZIP'd when asked.
 *
 * Delivery is idempotent: an object's name comes from its segment and hour, so a segment delivered
 * again after a crash (objects written, segment not yet removed) overwrites the same keys.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { hourOf, type HourStart } from '../partitions/hours.js';
import { rawHourPrefix, type LakeLayout } from '../partitions/layout.js';
import type { ObjectStore, Sse } from '../storage/types.js';
import type { ClosedSegment, SpooledRecord } from './spool.js';

export interface DeliveryTarget {
  store: ObjectStore;
  layout: LakeLayout;
  table: string;
  /** Delivery stream name, the first part of every object name. */
  stream: string;
  gzip: boolean;
  sse?: Sse;
}

export interface DeliveredObject {
  key: string;
  records: number;
  bytes: number;
}

/** A UUID-shaped name part that depends only on `seed`. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `YYYY-MM-DD-HH-MM-SS` of an instant, UTC: Firehose's timestamp in object names. */
function nameStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '-');
}

export function firehoseObjectKey(target: Pick<DeliveryTarget, 'layout' | 'table' | 'stream' | 'gzip'>, hour: HourStart, firstArrivalMs: number, seed: string): string {
  return `${rawHourPrefix(target.layout, target.table, hour)}${target.stream}-1-${nameStamp(firstArrivalMs)}-${stableUuid(seed)}${target.gzip ? '.gz' : ''}`;
}

/** Writes a segment's records as one object per arrival hour; returns what it wrote. */
export async function deliverRecords(target: DeliveryTarget, segment: Pick<ClosedSegment, 'id'>, records: SpooledRecord[]): Promise<DeliveredObject[]> {
  const byHour = new Map<HourStart, SpooledRecord[]>();
  for (const r of records) {
    const hour = hourOf(r.arrivalMs);
    let list = byHour.get(hour);
    if (!list) byHour.set(hour, (list = []));
    list.push(r);
  }
  const newline = Buffer.from('\n');
  const out: DeliveredObject[] = [];
  for (const [hour, list] of [...byHour].sort((a, b) => a[0] - b[0])) {
    const text = Buffer.concat(list.flatMap((r) => [r.payload, newline]));
    const body = target.gzip ? gzipSync(text) : text;
    const key = firehoseObjectKey(target, hour, list[0]!.arrivalMs, `${segment.id}/${hour}`);
    await target.store.put(key, body, {
      contentType: 'application/octet-stream',
      ...(target.sse ? { sse: target.sse } : {}),
    });
    out.push({ key, records: list.length, bytes: body.length });
  }
  return out;
}
