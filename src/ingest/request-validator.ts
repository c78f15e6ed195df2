/**
 * Ajv in draft-04 mode over the generated request model: what `clicklake serve` checks at the
 * edge, the same checks API Gateway's request validator makes with the same model.
 */
import AjvDraft04Module from 'ajv-draft-04';
import type { ErrorObject } from 'ajv';
import { formatAjvError } from '../schema/ajv.js';

// ajv-draft-04 is CommonJS; under NodeNext its default export sits on `.default`.
const AjvDraft04 = AjvDraft04Module.default;

export interface RequestCheck {
  ok: boolean;
  /** One line per problem, e.g. `/0/event_type must be one of [...]` (empty when ok). */
  errors: string[];
}

/** Compiles a draft-4 request model once; the returned function checks one parsed body. */
export function compileRequestValidator(model: Record<string, unknown>): (body: unknown) => RequestCheck {
  const ajv = new AjvDraft04({ allErrors: false, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(model);
  return (body) => {
    if (validate(body)) return { ok: true, errors: [] };
    return { ok: false, errors: explain(validate.errors ?? [], body) };
  };
}

/**
 * oneOf's own error ("must match exactly one schema") says nothing useful: report the errors of
 * the branch the body was meant for (an array is a batch, anything else one event).
 */
function explain(errors: ErrorObject[], body: unknown): string[] {
  const branch = Array.isArray(body) ? '/oneOf/1' : '/oneOf/0';
  const relevant = errors.filter((e) => e.schemaPath.startsWith(`#${branch}`));
  const chosen = relevant.length > 0 ? relevant : errors.filter((e) => e.keyword !== 'oneOf');
  const lines = (chosen.length > 0 ? chosen : errors).map(formatAjvError);
  return [...new Set(lines)];
}
