import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';

// ajv and ajv-formats are CommonJS; under NodeNext their default export sits on `.default`.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/** The `x-lake` block's own shape; Ajv's strict mode refuses unknown keywords unless registered. */
const X_LAKE_META_SCHEMA = {
  type: 'object',
  required: ['table', 'eventTime', 'eventId', 'partitionStart', 'sortKeys'],
  properties: {
    table: { type: 'string' },
    eventTime: { type: 'string' },
    eventId: { type: 'string' },
    partitionStart: { type: 'string' },
    sortKeys: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: false,
};

/** A strict draft 2020-12 Ajv with formats and the `x-lake` keyword: the reference validator. */
export function createAjv(): InstanceType<typeof Ajv2020> {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-lake', metaSchema: X_LAKE_META_SCHEMA });
  return ajv;
}

export type { ErrorObject, ValidateFunction };

/** `/section_index must be >= 0` — one line per Ajv error, as stored in the errors object. */
export function formatAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(record)' : error.instancePath;
  if (error.keyword === 'required') return `${where} must have required property '${String(error.params['missingProperty'])}'`;
  if (error.keyword === 'enum') return `${where} must be one of ${JSON.stringify(error.params['allowedValues'])}`;
  return `${where} ${error.message ?? error.keyword}`;
}

/** Ajv's `if` errors only repeat the `then` failure beside them; drop them from reports. */
export function meaningfulErrors(errors: readonly ErrorObject[] | null | undefined): ErrorObject[] {
  return (errors ?? []).filter((e) => e.keyword !== 'if');
}
