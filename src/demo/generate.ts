import { DEFAULT_LAYOUT, rawHourPrefix, type LakeLayout } from '../partitions/layout.js';
import type { ObjectStore } from '../storage/types.js';
import { clickstream } from '../synth/clickstream.js';
import { firehoseObjects, type FirehoseOptions } from '../synth/firehose.js';
import type { Random } from '../synth/random.js';

export interface SyntheticLakeOptions {
  store: ObjectStore;
  table: string;
  layout?: LakeLayout;
  seed: number;
  events: number;
  /** First day of the data, YYYY-MM-DD (UTC). */
  startDate: string;
  days: number;
  restaurants?: number;
  /** Firehose buffer size: objects are flushed at this size (default 256 KiB: many small objects). */
  objectBytes?: number;
  /** Share of events delivered hours late (a phone that was offline), default 0.005. */
  lateShare?: number;
  /**
   * `dirty` (default): a few percent broken records of every kind, unframeable ones included.
   * `edge-validated`: what passes the deployed API Gateway's model: no framing damage, about 0.1%
   * schema rejects, tracker batches of 10-50 events per record.
   */
  profile?: 'dirty' | 'edge-validated';
  onObject?: (count: number, bytes: number) => void;
}

export interface SyntheticLake {
  objects: number;
  bytes: number;
  /** Arrival hours written (UTC ms), sorted. */
  hours: number[];
  /** Latest arrival instant: compaction's `now` must be past it plus grace. */
  lastArrivalMs: number;
}

/** Writes a realistic Firehose raw zone for `days` days of menu clicks into the store. */
export async function writeSyntheticLake(options: SyntheticLakeOptions): Promise<SyntheticLake> {
  const layout = options.layout ?? DEFAULT_LAYOUT;
  const startMs = Date.parse(`${options.startDate}T00:00:00Z`);
  const lateShare = options.lateShare ?? 0.005;
  let lastArrivalMs = 0;
  const arrivalOf = (ms: number, rng: Random): number => {
    const at = rng.chance(lateShare) ? ms + rng.int(1, 30) * 3_600_000 : ms + rng.int(5_000, 240_000);
    lastArrivalMs = Math.max(lastArrivalMs, at);
    return at;
  };
  const edge = options.profile === 'edge-validated' ? { invalidShare: 0.001, schemaBreaksOnly: true, arrayShare: 1, batchEvents: [10, 50] as [number, number], duplicateShare: 0.001 } : {};
  const firehose: FirehoseOptions = { seed: options.seed, objectBytes: options.objectBytes ?? 256 << 10, arrivalOf, ...edge };
  const events = clickstream({ seed: options.seed, events: options.events, startMs, spanMs: options.days * 86_400_000 - 3_600_000, ...(options.restaurants ? { restaurants: options.restaurants } : {}) });
  const hours = new Set<number>();
  let objects = 0;
  let bytes = 0;
  const pending: Promise<unknown>[] = [];
  for (const o of firehoseObjects(events, firehose)) {
    hours.add(o.hour);
    pending.push(options.store.put(`${rawHourPrefix(layout, options.table, o.hour)}${o.name}`, o.body));
    objects++;
    bytes += o.body.length;
    if (pending.length >= 16) await Promise.all(pending.splice(0));
    options.onObject?.(objects, bytes);
  }
  await Promise.all(pending);
  return { objects, bytes, hours: [...hours].sort((a, b) => a - b), lastArrivalMs };
}
