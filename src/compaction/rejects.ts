/** A record that did not make it into curated data, with where it came from and every reason. */
export interface RejectedRecord {
  /** Raw object key relative to the lake root. */
  sourceKey: string;
  /** Byte offset of the record in the (decompressed) object. */
  offset: number;
  /** Index of the event inside a batched JSON array record (0-based), when it was one. */
  element?: number;
  /** The record's bytes. */
  bytes: Buffer;
  /** Stable code of the first reason, for counts in the manifest. */
  code: string;
  reasons: string[];
}

/** One line of the errors object (`errors/<table>/YYYY/MM/DD/HH.ndjson.gz`). */
export function rejectLine(r: RejectedRecord): string {
  const text = r.bytes.toString('utf8');
  // Bytes that are not valid UTF-8 would change in a JSON string: keep them as base64 instead.
  const exact = Buffer.from(text, 'utf8').equals(r.bytes);
  const line: Record<string, unknown> = { source_key: r.sourceKey, offset: r.offset };
  if (r.element !== undefined) line['element'] = r.element;
  line['code'] = r.code;
  line['errors'] = r.reasons;
  if (exact) line['record'] = text;
  else line['record_base64'] = r.bytes.toString('base64');
  return JSON.stringify(line);
}

/** Deterministic order of rejects: by source object, offset, element. */
export function compareRejects(a: RejectedRecord, b: RejectedRecord): number {
  if (a.sourceKey !== b.sourceKey) return a.sourceKey < b.sourceKey ? -1 : 1;
  if (a.offset !== b.offset) return a.offset - b.offset;
  return (a.element ?? -1) - (b.element ?? -1);
}
