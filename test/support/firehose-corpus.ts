/**
 * A hand-made Firehose corpus with its ground truth: objects in every framing Firehose and
 * producers give us (NDJSON, concatenated, GZIP detected by content, batched arrays,
 * pretty-printed records, garbage), and for every record what compaction must do with it —
 * written, dropped as a duplicate, or rejected with a reason code — worked out here from the
 * events themselves, never by running our SQL.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { hourPath } from '../../src/partitions/hours.js';
import type { Field, TableSpec } from '../../src/schema/types.js';
import type { ObjectStore } from '../../src/storage/types.js';

export type JsonObject = Record<string, unknown>;

/** What one record of the corpus must become. */
export interface TruthRecord {
  /** Arrival hour (UTC ms) of its object: the compaction unit. */
  hour: number;
  sourceKey: string;
  /** Byte offset of the record (for a batch element: of the whole array) in the decompressed object. */
  offset: number;
  element?: number;
  /** The record's exact bytes as in the object (the whole array for a batch element). */
  bytes: Buffer;
  /** The event, when the record is one (JSON parsed). */
  event?: JsonObject;
  /** `valid`: written unless an earlier copy wins the dedupe; otherwise the expected reject code. */
  expect: 'valid' | { code: string | RegExp };
}

/** One item of an object: a record (or garbage) as the producer sent it. */
export type CorpusItem =
  | { valid: JsonObject; pretty?: boolean }
  | { invalid: JsonObject; code: string | RegExp }
  | { raw: string; code: string | RegExp }
  | { garbage: string }
  | { batch: Array<{ valid: JsonObject } | { invalid: unknown; code: string | RegExp }>; pretty?: boolean };

export interface CorpusObject {
  hour: number;
  key: string;
  /** The object as stored (GZIP-compressed when it is). */
  body: Buffer;
  /** The object after decompression. */
  plain: Buffer;
}

export interface ObjectOptions {
  framing: 'ndjson' | 'concatenated';
  gzip?: boolean;
}

/** Expected outcome of one unit. */
export interface UnitTruth {
  hour: number;
  recordsIn: number;
  written: number;
  duplicates: number;
  rejected: number;
  /** The events that must be in curated data, winners of the dedupe. */
  winners: JsonObject[];
  rejects: TruthRecord[];
}

export const DAY_MS = 86_400_000;

/** RFC 3339 -> UTC epoch ms (truncated to ms), written independently of the code under test. */
export function utcMillis(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt\s](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)$/.exec(text);
  if (!m) throw new Error(`not a date-time: ${text}`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // A leap second (UTC 23:59:60) is read as second 59: the event keeps its UTC day.
  d.setUTCHours(Number(m[4]), Number(m[5]), Math.min(Number(m[6]), 59), Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0')));
  const offsetMin = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10] ?? 0)) : 0;
  return d.getTime() - offsetMin * 60_000;
}

/**
 * A column's expected curated value, in the normalised form `normalisedColumnSql` reads back:
 * timestamps as UTC epoch ms, integers as decimal strings, structs and maps as plain objects.
 */
export function expectedValue(field: Field, record: JsonObject): unknown {
  const v = record[field.jsonName];
  if (v === undefined || v === null) return null;
  switch (field.type.kind) {
    case 'timestamp':
      return utcMillis(v as string);
    case 'int':
    case 'bigint':
      return BigInt(v as number).toString();
    case 'struct':
      // Read back through to_json: members keep their JSON form.
      return Object.fromEntries(field.type.fields.map((f) => [f.name, (v as JsonObject)[f.jsonName] ?? null]));
    default:
      return v;
  }
}

/** The curated row of an event: one normalised value per column. */
export function expectedRow(spec: TableSpec, event: JsonObject): JsonObject {
  return Object.fromEntries(spec.columns.map((f) => [f.name, expectedValue(f, event)]));
}

/** Rows in the order compaction writes them: restaurant_id, event_time, then event_id. */
export function compareRows(a: JsonObject, b: JsonObject): number {
  for (const k of ['restaurant_id', 'event_time', 'event_id']) {
    const x = a[k] as string | number;
    const y = b[k] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

type BatchItem = Extract<CorpusItem, { batch: unknown }>;
const isBatch = (item: CorpusItem): item is BatchItem => 'batch' in item;

const encode = (item: CorpusItem): string => {
  if (isBatch(item)) {
    const events = item.batch.map((b) => ('valid' in b ? b.valid : b.invalid));
    return item.pretty ? JSON.stringify(events, null, 2) : JSON.stringify(events);
  }
  if ('valid' in item) return item.pretty ? JSON.stringify(item.valid, null, 2) : JSON.stringify(item.valid);
  if ('invalid' in item) return JSON.stringify(item.invalid);
  if ('raw' in item) return item.raw;
  return item.garbage;
};

/** Builds objects and remembers, record by record, what compaction must do with them. */
export class FirehoseCorpus {
  readonly objects: CorpusObject[] = [];
  readonly records: TruthRecord[] = [];

  constructor(
    readonly table = 'click_events',
    readonly rawPrefix = 'raw',
  ) {}

  /** `raw/<table>/YYYY/MM/DD/HH/<name>` */
  keyFor(hour: number, name: string): string {
    return `${this.rawPrefix}/${this.table}/${hourPath(hour)}/${name}`;
  }

  /** Adds one object made of `items`, framed as NDJSON or concatenated, optionally GZIP. */
  addObject(hour: number, name: string, items: CorpusItem[], options: ObjectOptions): CorpusObject {
    const key = this.keyFor(hour, name);
    const parts: Buffer[] = [];
    let offset = 0;
    for (const item of items) {
      const bytes = Buffer.from(encode(item), 'utf8');
      const at = { hour, sourceKey: key, offset, bytes };
      if (isBatch(item)) {
        item.batch.forEach((b, element) => {
          if ('valid' in b) this.records.push({ ...at, element, event: b.valid, expect: 'valid' });
          else this.records.push({ ...at, element, ...(isObject(b.invalid) ? { event: b.invalid } : {}), expect: { code: b.code } });
        });
      } else if ('valid' in item) {
        this.records.push({ ...at, event: item.valid, expect: 'valid' });
      } else if ('invalid' in item) {
        this.records.push({ ...at, event: item.invalid, expect: { code: item.code } });
      } else if ('raw' in item) {
        this.records.push({ ...at, expect: { code: item.code } });
      } else {
        this.records.push({ ...at, expect: { code: 'framing' } });
      }
      const sep = options.framing === 'ndjson' ? '\n' : '';
      parts.push(bytes, Buffer.from(sep));
      offset += bytes.length + sep.length;
    }
    const plain = Buffer.concat(parts);
    return this.push({ hour, key, body: options.gzip ? gzipSync(plain) : plain, plain });
  }

  /** Adds an object whose bytes are given as is, with the truth of its records. */
  addRawObject(hour: number, name: string, body: Buffer, truth: Array<Omit<TruthRecord, 'hour' | 'sourceKey'>>): CorpusObject {
    const key = this.keyFor(hour, name);
    for (const t of truth) this.records.push({ ...t, hour, sourceKey: key });
    return this.push({ hour, key, body, plain: body });
  }

  private push(o: CorpusObject): CorpusObject {
    this.objects.push(o);
    return o;
  }

  /** Arrival hours with objects, oldest first. */
  hours(): number[] {
    return [...new Set(this.objects.map((o) => o.hour))].sort((a, b) => a - b);
  }

  /**
   * What one unit must produce. Dedupe by event id within the unit: the first copy by (UTC
   * event time, source key, offset, element) wins.
   */
  unit(hour: number): UnitTruth {
    const records = this.records.filter((r) => r.hour === hour);
    const valid = records.filter((r) => r.expect === 'valid');
    const byId = new Map<string, TruthRecord>();
    const order = (r: TruthRecord): [number, string, number, number] => [utcMillis(r.event!['event_time'] as string), r.sourceKey, r.offset, r.element ?? -1];
    const before = (a: TruthRecord, b: TruthRecord): boolean => {
      const x = order(a);
      const y = order(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
      return false;
    };
    for (const r of valid) {
      const id = r.event!['event_id'] as string;
      const seen = byId.get(id);
      if (!seen || before(r, seen)) byId.set(id, r);
    }
    const winners = [...byId.values()].map((r) => r.event!);
    const rejects = records.filter((r) => r.expect !== 'valid');
    return { hour, recordsIn: records.length, written: winners.length, duplicates: valid.length - winners.length, rejected: rejects.length, winners, rejects };
  }

  /** Writes every object into the lake. */
  async upload(store: ObjectStore, only?: (o: CorpusObject) => boolean): Promise<void> {
    for (const o of this.objects) if (!only || only(o)) await store.put(o.key, o.body);
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A valid click event with every optional field, at `eventTime`. */
export function clickEvent(id: string, eventTime: string, extra: JsonObject = {}): JsonObject {
  return {
    event_id: id,
    event_type: 'item_view',
    event_time: eventTime,
    session_id: `s-${id.slice(0, 8)}`,
    anonymous_id: 'anon-1',
    restaurant_id: 'rest-001',
    menu_id: 'menu-1-v1',
    section: 'Mains',
    section_index: 2,
    item_id: 'r0-s2-d3',
    item_name: 'Grilled Miso 3',
    price_cents: 1450,
    position: 3,
    scroll_depth_pct: null,
    viewport: { width: 390, height: 844 },
    user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)',
    page_url: 'https://menu.example.com/rest-001?table=4',
    referrer: null,
    locale: 'en-US',
    app_version: '3.14.2',
    attributes: { table: '4', qr: 'qr-rest-001-4' },
    ...extra,
  };
}

/** A deterministic UUID for the n-th hand-made event. */
export function uuidFor(n: number, prefix = 'e'): string {
  const h = createHash('md5').update(`${prefix}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
