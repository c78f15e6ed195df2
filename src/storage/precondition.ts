import { ClicklakeError } from '../errors.js';
import type { PutCondition } from './types.js';

/** The error every store throws when a conditional write's condition does not hold. */
export function preconditionFailed(uri: string, key: string, condition: PutCondition): ClicklakeError {
  const expected = 'ifNoneMatch' in condition ? 'the key must not exist' : `ETag ${condition.ifMatch}`;
  return new ClicklakeError('precondition_failed', `${uri}/${key} changed: the conditional write (${expected}) did not hold`, { key, condition });
}
