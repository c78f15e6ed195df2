import { ClicklakeError } from '../errors.js';

/**
 * Checks an object key before any store touches it: keys are relative, '/'-separated and can never
 * point outside the store root. Empty, '.' and '..' segments are refused because a local directory
 * would collapse them and S3 would not, so the same key would name different objects.
 *
 * @throws ClicklakeError 'bad_object_key'
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw badKey(key, 'an object key must be a non-empty string');
  }
  checkPath(key, 'key');
  if (key.endsWith('/')) throw badKey(key, 'an object key must not end with "/"');
}

/**
 * Checks a listing prefix: '' (everything) or any key beginning, e.g. 'dt=2024-' or 'raw/clicks/';
 * the same escape rules as keys apply to its complete segments.
 *
 * @throws ClicklakeError 'bad_object_key'
 */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw badKey(prefix, 'a listing prefix must be a string');
  if (prefix === '') return;
  checkPath(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'prefix');
}

function checkPath(value: string, what: 'key' | 'prefix'): void {
  if (value.startsWith('/')) throw badKey(value, `an object ${what} must be relative to the store root (no leading "/")`);
  if (value.includes('\\') || value.includes('\0')) {
    throw badKey(value, `an object ${what} must not contain "\\" or NUL characters`);
  }
  for (const segment of value.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw badKey(value, `an object ${what} must not contain empty, "." or ".." path segments`);
    }
  }
}

function badKey(key: unknown, reason: string): ClicklakeError {
  return new ClicklakeError('bad_object_key', `Invalid object key ${JSON.stringify(key)}: ${reason}.`, { key: String(key) });
}

/** Byte-order comparison of UTF-8 strings, the order S3 lists keys in (JS `<` compares UTF-16 units). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
