import { createAjv, formatAjvError, meaningfulErrors, type ValidateFunction } from '../../schema/ajv.js';
import type { TableSpec } from '../../schema/types.js';
import { formatHour } from '../../partitions/hours.js';

/**
 * The reference validator (Ajv, compiled from the schema) in the places the fast path needs a
 * second opinion: the reasons of every rejected record, and records DuckDB could not parse.
 */
/**
 * Epoch milliseconds of an RFC 3339 date-time in any form ajv-formats accepts (`t`/space
 * separators, `z`, offsets as `+HH`, `+HHMM` or `+HH:MM`, a leap second read as :59), or undefined.
 */
export function parseInstant(value: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt\s](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)$/.exec(value);
  if (!m) return undefined;
  const second = m[4] === '60' ? '59' : m[4];
  const zone = m[6] ? 'Z' : `${m[7]}${m[8]}:${m[9] ?? '00'}`;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${second}${(m[5] ?? '').slice(0, 4)}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** 2^63: the first integer a bigint (Parquet INT64) column cannot hold. */
const INT64_LIMIT = 2 ** 63;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when a parsed JSON value holds a string (or key) with half of a UTF-16 surrogate pair: it
 * has no UTF-8 form, so no Parquet string can hold it.
 */
export function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v));
  return false;
}

export class ReferenceValidator {
  private readonly validate: ValidateFunction;

  constructor(
    private readonly spec: TableSpec,
    private readonly hourStartMs: number,
    private readonly maxSkewMs: number,
  ) {
    this.validate = createAjv().compile(spec.jsonSchema);
  }

  /** Every reason the event is rejected (empty: it is valid), and the code of the first. */
  check(event: unknown): { code: string; reasons: string[] } {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      return { code: 'not_an_object', reasons: [`an event must be a JSON object, got ${Array.isArray(event) ? 'an array' : event === null ? 'null' : typeof event}`] };
    }
    const reasons: string[] = [];
    let code = '';
    if (!this.validate(event)) {
      const errors = meaningfulErrors(this.validate.errors);
      reasons.push(...errors.map(formatAjvError));
      code = `schema:${errors[0]?.keyword ?? 'invalid'}`;
    }
    const record = event as Record<string, unknown>;
    // Columns typed bigint hold 64-bit integers: JSON Schema's integer has no such limit.
    for (const field of this.spec.columns) {
      const value = record[field.jsonName];
      if (field.type.kind === 'bigint' && typeof value === 'number' && (value >= INT64_LIMIT || value < -INT64_LIMIT)) {
        reasons.push(`/${field.jsonName} must fit in a 64-bit integer (column ${field.name} is bigint)`);
        code ||= 'schema:int64_range';
      }
    }
    const skew = this.skewReason(record[this.spec.settings.eventTime]);
    if (skew) {
      reasons.push(skew);
      code ||= 'clock_skew';
    }
    return { code, reasons };
  }

  /**
   * The JSON name of a bigint column whose value JavaScript holds only approximately (an integer
   * beyond 2^53, so JSON.parse rounded it), if any: what the JS path cannot write exactly.
   */
  inexactBigint(event: unknown): string | undefined {
    if (event === null || typeof event !== 'object') return undefined;
    const record = event as Record<string, unknown>;
    return this.spec.columns.find((f) => f.type.kind === 'bigint' && typeof record[f.jsonName] === 'number' && !Number.isSafeInteger(record[f.jsonName]))?.jsonName;
  }

  /** The clock-skew rule: an event time far from its arrival hour would create far-away partitions. */
  skewReason(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const ms = parseInstant(value);
    if (ms === undefined) return undefined;
    const lo = this.hourStartMs - this.maxSkewMs;
    const hi = this.hourStartMs + 3_600_000 + this.maxSkewMs;
    if (ms >= lo && ms < hi) return undefined;
    const hours = this.maxSkewMs / 3_600_000;
    return `/${this.spec.settings.eventTime} ${value} is more than ${hours} h away from its arrival hour ${formatHour(this.hourStartMs)} (clock skew; raise compaction.maxSkewHours if this is expected)`;
  }
}
