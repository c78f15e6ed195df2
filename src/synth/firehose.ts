import { gzipSync } from 'node:zlib';
import type { ClickEvent } from './clickstream.js';
import { Random } from './random.js';

/** One object as Firehose would deliver it into an arrival-hour prefix. */
export interface FirehoseObject {
  /** Arrival hour start (UTC ms). */
  hour: number;
  /** Object name inside the hour prefix. */
  name: string;
  body: Buffer;
}

/** Ground truth about one event as it is packed (see `FirehoseOptions.onRecord`). */
export interface PackedEventInfo {
  event: ClickEvent;
  /**
   * `valid`: sent as is (alone or in a batch); `broken`: sent in one of the broken forms (never
   * valid); `duplicate`: an extra copy sent by a retrying producer (its original is reported too).
   */
  kind: 'valid' | 'broken' | 'duplicate';
  /** Arrival hour (UTC ms) of the object the record lands in: the compaction unit. */
  hour: number;
  /** Index in the batched JSON array record, when the event was sent in one. */
  element?: number;
  /** Which of the broken forms was sent (an index into the internal list of breakers). */
  broken?: number;
}

export interface FirehoseOptions {
  seed: number;
  /** Share of records that are broken in one of many ways (default 0.02). */
  invalidShare?: number;
  /** Share of events sent twice, as a retrying producer does (default 0.01). */
  duplicateShare?: number;
  /** Share of objects that are GZIP (default 0.3). */
  gzipShare?: number;
  /** Share of objects written as newline-delimited JSON; the rest are concatenated with no delimiter, Firehose's default (default 0.3). */
  ndjsonShare?: number;
  /** Share of Firehose records that batch several events in one JSON array (default 0.15). */
  arrayShare?: number;
  /** Events per batched array, smallest and largest (default 2..6; the tracker sends 10..50). */
  batchEvents?: [number, number];
  /** Only breakages that are still JSON (schema rejects): what passes API Gateway's framing (default false). */
  schemaBreaksOnly?: boolean;
  /** Object size at which a buffer is flushed (default 1 MiB, Firehose's smallest buffer). */
  objectBytes?: number;
  /** When an event reaches S3: its event time plus this delay (default: 5 s to 4 min). */
  arrivalOf?: (eventMs: number, rng: Random) => number;
  deliveryStream?: string;
  /** Called for every event as its record is added to an object buffer: ground truth for tests. */
  onRecord?: (info: PackedEventInfo) => void;
}

const HOUR = 3_600_000;

const batchTruth = (events: ClickEvent[]): Omit<PackedEventInfo, 'hour'>[] => events.map((event, element) => ({ event, kind: 'valid', element }));

/** Ways a record goes wrong in the field; each must end up quarantined with a reason. */
const BREAKERS: Array<(ev: ClickEvent, rng: Random) => string> = [
  (ev) => JSON.stringify({ ...ev, event_type: 'menu_opened' }),
  (ev) => JSON.stringify({ ...ev, event_time: 'yesterday at noon' }),
  (ev) => JSON.stringify({ ...ev, section_index: String(ev['section_index'] ?? 2) }),
  (ev) => JSON.stringify({ ...ev, price_cents: -100 }),
  (ev) => JSON.stringify({ ...ev, scroll_depth_pct: 140 }),
  (ev) => JSON.stringify({ ...ev, event_type: 'section_view', section: null, section_index: null }),
  (ev) => JSON.stringify({ ...ev, event_type: 'order_click', item_id: null }),
  (ev) => {
    const { restaurant_id: _dropped, ...rest } = ev;
    return JSON.stringify(rest);
  },
  (ev) => JSON.stringify({ ...ev, event_id: 12345 }),
  // clock skew: a device whose clock is a month behind
  (ev) => JSON.stringify({ ...ev, event_time: new Date(Date.parse(ev.event_time) - 31 * 86_400_000).toISOString() }),
  // truncated JSON: a record cut mid-way, the next one still frames
  (ev) => JSON.stringify(ev).slice(0, 57),
  () => 'not json at all',
];

/** The breakers before the last two (a cut-off record, not JSON at all) leave valid JSON. */
const SCHEMA_BREAKERS = BREAKERS.length - 2;

function objectName(stream: string, hour: number, seq: number, rng: Random, gzip: boolean): string {
  const at = new Date(hour + Math.min(seq, 59) * 60_000 + rng.int(0, 59) * 1000).toISOString();
  const stamp = at.slice(0, 19).replace(/[-T:]/g, '-');
  return `${stream}-1-${stamp}-${rng.uuid()}${gzip ? '.gz' : ''}`;
}

/**
 * Packs events into Firehose objects grouped by arrival hour, mixing the framings Firehose
 * produces (concatenated JSON, NDJSON, GZIP) with batched arrays, duplicates and broken records.
 * Streams: at most one open buffer per arrival hour.
 */
export function* firehoseObjects(events: Iterable<ClickEvent>, options: FirehoseOptions): Generator<FirehoseObject> {
  const rng = new Random(options.seed ^ 0x5eed);
  const invalidShare = options.invalidShare ?? 0.02;
  const duplicateShare = options.duplicateShare ?? 0.01;
  const limit = options.objectBytes ?? 1 << 20;
  const stream = options.deliveryStream ?? 'clicks';
  const arrivalOf = options.arrivalOf ?? ((ms: number, r: Random) => ms + r.int(5_000, 240_000));
  const open = new Map<number, { records: string[]; bytes: number; seq: number }>();
  let pendingArray: ClickEvent[] = [];

  const flush = (hour: number, buffer: { records: string[]; bytes: number; seq: number }): FirehoseObject => {
    const gzip = rng.chance(options.gzipShare ?? 0.3);
    const ndjson = rng.chance(options.ndjsonShare ?? 0.3);
    const text = ndjson ? `${buffer.records.join('\n')}\n` : buffer.records.join('');
    const name = objectName(stream, hour, buffer.seq++, rng, gzip);
    buffer.records = [];
    buffer.bytes = 0;
    return { hour, name, body: gzip ? gzipSync(Buffer.from(text)) : Buffer.from(text) };
  };
  function* add(arrivalMs: number, record: string, truth?: Omit<PackedEventInfo, 'hour'>[]): Generator<FirehoseObject> {
    const hour = Math.floor(arrivalMs / HOUR) * HOUR;
    if (options.onRecord) for (const info of truth ?? []) options.onRecord({ ...info, hour });
    let buffer = open.get(hour);
    if (!buffer) open.set(hour, (buffer = { records: [], bytes: 0, seq: 0 }));
    buffer.records.push(record);
    buffer.bytes += record.length;
    if (buffer.bytes >= limit) yield flush(hour, buffer);
  }

  for (const ev of events) {
    const arrival = arrivalOf(Date.parse(ev.event_time), rng);
    if (rng.chance(invalidShare)) {
      const broken = Math.floor(rng.next() * (options.schemaBreaksOnly ? SCHEMA_BREAKERS : BREAKERS.length));
      yield* add(arrival, BREAKERS[broken]!(ev, rng), [{ event: ev, kind: 'broken', broken }]);
      continue;
    }
    if (rng.chance(duplicateShare)) yield* add(arrival + rng.int(0, 30_000), JSON.stringify(ev), [{ event: ev, kind: 'duplicate' }]);
    if (rng.chance(options.arrayShare ?? 0.15)) {
      pendingArray.push(ev);
      if (pendingArray.length >= rng.int(...(options.batchEvents ?? [2, 6]))) {
        yield* add(arrival, JSON.stringify(pendingArray), batchTruth(pendingArray));
        pendingArray = [];
      }
      continue;
    }
    yield* add(arrival, JSON.stringify(ev), [{ event: ev, kind: 'valid' }]);
  }
  if (pendingArray.length) yield* add(arrivalOf(Date.parse(pendingArray[0]!.event_time), rng), JSON.stringify(pendingArray), batchTruth(pendingArray));
  for (const [hour, buffer] of open) if (buffer.records.length) yield flush(hour, buffer);
}
