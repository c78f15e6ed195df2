import { createAjv, formatAjvError, meaningfulErrors, type ValidateFunction } from '../schema/ajv.js';
import type { TableSpec } from '../schema/types.js';
import { formatHour } from '../partitions/hours.js';

/**
 * The reference validator (Ajv, compiled from the schema) in the places the fast path needs a
 * second opinion: the reasons of every rejected record, and records DuckDB could not parse.
 */
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
    const skew = this.skewReason((event as Record<string, unknown>)[this.spec.settings.eventTime]);
    if (skew) {
      reasons.push(skew);
      code ||= 'clock_skew';
    }
    return { code, reasons };
  }

  /** The clock-skew rule: an event time far from its arrival hour would create far-away partitions. */
  skewReason(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) return undefined;
    const lo = this.hourStartMs - this.maxSkewMs;
    const hi = this.hourStartMs + 3_600_000 + this.maxSkewMs;
    if (ms >= lo && ms < hi) return undefined;
    const hours = this.maxSkewMs / 3_600_000;
    return `/${this.spec.settings.eventTime} ${value} is more than ${hours} h away from its arrival hour ${formatHour(this.hourStartMs)} (clock skew; raise compaction.maxSkewHours if this is expected)`;
  }
}
