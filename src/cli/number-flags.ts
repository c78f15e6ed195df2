/** Numeric flag values, checked once with an error that shows a valid value. */
import { ClicklakeError } from '../errors.js';

/** A whole number of at least `min` (default 1). */
export function wholeNumberFlag(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new ClicklakeError('bad_flag', `${flag} ${text} must be a whole number of at least ${min}, e.g. ${flag} ${Math.max(min, 2)}`, { flag, value: text });
  }
  return n;
}

/** A finite number above zero (or at least zero with `allowZero`). */
export function positiveNumberFlag(flag: string, text: string, options: { allowZero?: boolean; example?: string } = {}): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !options.allowZero)) {
    throw new ClicklakeError('bad_flag', `${flag} ${text} must be a number ${options.allowZero ? 'of at least 0' : 'above 0'}, e.g. ${flag} ${options.example ?? '100'}`, { flag, value: text });
  }
  return n;
}
