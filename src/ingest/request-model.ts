/**
 * The ingestion API's request model: JSON Schema draft 4 (API Gateway's dialect), generated from
 * a table's event schema (draft 2020-12), never written by hand. One code path for both halves of
 * the contract: API Gateway's request validator in the deploy app and Ajv in draft-04 mode in
 * `clicklake serve`.
 *
 * The body is one event or an array of 1..MAX_BATCH_EVENTS events. What draft 4 cannot say is left
 * to compaction, which stays the full validator; `leftToCompaction` lists every such keyword with
 * its JSON pointer, so the docs can say which checks only compaction makes:
 *
 *   - `if` / `then` / `else` (the per-event-type requirements),
 *   - `format` (API Gateway does not check formats),
 *   - anything else draft 4 has no keyword for (`unevaluatedProperties`, `contains`, ...).
 *
 * Rewritten rather than dropped: `const` -> one-value `enum`, numeric `exclusiveMinimum` /
 * `exclusiveMaximum` -> draft 4's `minimum` + boolean flag, `$defs` -> `definitions` (with their
 * `$ref`s), `dependentRequired` -> `dependencies`. Annotations (`title`, `description`, `$id`,
 * `x-lake`, `$comment`, `examples`) are dropped: they validate nothing.
 */
import type { TableSpec } from '../schema/types.js';

export const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

/** Firehose's per-record limit, and so the largest request body (1,000 KiB). */
export const MAX_BODY_BYTES = 1000 * 1024;

/** The most events one request (one Firehose record) may carry. */
export const MAX_BATCH_EVENTS = 500;

/** A keyword of the event schema the draft-4 model cannot express: only compaction checks it. */
export interface CompactionOnlyCheck {
  /** JSON pointer of the keyword in the event schema, e.g. `/allOf/0/if`. */
  pointer: string;
  keyword: string;
}

export interface RequestModel {
  /** The draft-4 schema of a request body: one event or an array of events. */
  model: Record<string, unknown>;
  /** The draft-4 schema of one event (what `model` uses for each event). */
  event: Record<string, unknown>;
  leftToCompaction: CompactionOnlyCheck[];
}

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$comment', 'examples', 'default', 'x-lake', 'deprecated', 'readOnly', 'writeOnly']);

/** Keywords draft 4 has with the same meaning, whose value is a schema or schemas to translate. */
const SAME_AS_DRAFT4 = new Set([
  'type', 'enum', 'required', 'minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
]);
const SUBSCHEMA = new Set(['not', 'additionalProperties', 'additionalItems']);
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties']);

/** Keywords with no draft-4 counterpart: left to compaction. */
const COMPACTION_ONLY = new Set([
  'if', 'then', 'else', 'format', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'minContains', 'maxContains',
  'propertyNames', 'dependentSchemas', 'prefixItems', 'contentEncoding', 'contentMediaType', 'contentSchema', '$anchor', '$dynamicRef', '$dynamicAnchor',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** draft 4 states an exclusive bound as the bound itself plus a boolean flag; keep the tighter one. */
function exclusiveBound(schema: Record<string, unknown>, out: Record<string, unknown>, exclusive: string, bound: 'minimum' | 'maximum'): void {
  const value = schema[exclusive];
  if (typeof value !== 'number') return;
  const inclusive = schema[bound];
  const tighter = typeof inclusive !== 'number' || (bound === 'minimum' ? value >= inclusive : value <= inclusive);
  if (!tighter) return;
  out[bound] = value;
  out[exclusive] = true;
}

function translate(schema: unknown, pointer: string, left: CompactionOnlyCheck[]): unknown {
  if (typeof schema === 'boolean') return schema ? {} : { not: {} };
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    const at = `${pointer}/${escapePointer(keyword)}`;
    if (ANNOTATIONS.has(keyword)) continue;
    if (COMPACTION_ONLY.has(keyword)) {
      left.push({ pointer: at, keyword });
      continue;
    }
    if (SAME_AS_DRAFT4.has(keyword)) out[keyword] = value;
    else if (keyword === 'const') out['enum'] = [value];
    else if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') continue; // after the loop
    else if (SUBSCHEMA.has(keyword)) out[keyword] = translate(value, at, left);
    else if (SUBSCHEMA_LIST.has(keyword)) {
      const items = (value as unknown[]).map((s, i) => translate(s, `${at}/${i}`, left));
      // An allOf member that said nothing draft 4 can (an if/then rule) is left out altogether.
      const kept = keyword === 'allOf' ? items.filter((s) => !isObject(s) || Object.keys(s).length > 0) : items;
      if (kept.length > 0) out[keyword] = kept;
    } else if (SUBSCHEMA_MAP.has(keyword) || keyword === '$defs' || keyword === 'definitions') {
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value as Record<string, unknown>)) map[name] = translate(sub, `${at}/${escapePointer(name)}`, left);
      out[keyword === '$defs' ? 'definitions' : keyword] = map;
    } else if (keyword === 'items') {
      out['items'] = Array.isArray(value) ? value.map((s, i) => translate(s, `${at}/${i}`, left)) : translate(value, at, left);
    } else if (keyword === 'dependentRequired') {
      out['dependencies'] = value;
    } else if (keyword === '$ref') {
      out['$ref'] = String(value).replace(/^#\/\$defs\//, '#/definitions/');
    } else left.push({ pointer: at, keyword });
  }
  exclusiveBound(schema, out, 'exclusiveMinimum', 'minimum');
  exclusiveBound(schema, out, 'exclusiveMaximum', 'maximum');
  return out;
}

/**
 * The draft-4 request model of a table.
 *
 * @example
 *   const { model, leftToCompaction } = requestModel(spec);
 *   // model.oneOf[0] is one event, model.oneOf[1] an array of 1..500 of them
 */
export function requestModel(spec: Pick<TableSpec, 'jsonSchema' | 'name'>, options: { maxBatchEvents?: number } = {}): RequestModel {
  const leftToCompaction: CompactionOnlyCheck[] = [];
  const { definitions, ...event } = translate(spec.jsonSchema, '', leftToCompaction) as Record<string, unknown>;
  const batch = { type: 'array', minItems: 1, maxItems: options.maxBatchEvents ?? MAX_BATCH_EVENTS, items: event };
  const model = {
    $schema: DRAFT_04,
    title: `${spec.name} request`,
    // An event is an object and a batch an array, so exactly one branch can match.
    oneOf: [event, batch],
    // The event appears twice, so its definitions live at the root, where its `$ref`s point.
    ...(definitions ? { definitions } : {}),
  };
  return { model, event, leftToCompaction };
}
