import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { ClicklakeError } from '../errors.js';
import { LocalStore } from './local-store.js';
import { createS3Client } from './s3-client.js';
import { S3Store } from './s3-store.js';
import type { ObjectStore } from './types.js';
import { hasUriScheme } from './uri.js';

const ACCEPTED_FORMS = 's3://bucket[/prefix] or file://path (file://./lake, file:///abs/dir; a plain directory path also works)';

/**
 * Opens the store a lake URI names.
 *
 * - `s3://bucket` or `s3://bucket/some/prefix`: an S3Store over `options.s3Client`, or over
 *   `createS3Client()` (standard AWS configuration) when none is given.
 * - `file://./lake` (relative), `file:///abs/dir`, or a plain path: a LocalStore; relative paths
 *   are resolved against `process.cwd()`.
 *
 * @throws ClicklakeError 'bad_lake_uri' for any other scheme or a malformed URI.
 * @example
 * ```ts
 * const lake = openStore(process.env.LAKE_URI ?? 'file://./lake');
 * ```
 */
export function openStore(uri: string, options: { s3Client?: S3Client } = {}): ObjectStore {
  if (typeof uri !== 'string' || uri.trim() === '') throw badUri(String(uri), 'it is empty');
  if (uri.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Uri(uri);
    return new S3Store(options.s3Client ?? createS3Client(), bucket, prefix);
  }
  if (uri.startsWith('file://')) return new LocalStore(localPathOf(uri));
  if (hasUriScheme(uri)) {
    throw badUri(uri, `the scheme "${uri.slice(0, uri.indexOf(':'))}" is not supported`);
  }
  return new LocalStore(path.resolve(process.cwd(), uri));
}

function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  // Today's rules are 3-63 of [a-z0-9.-]; legacy us-east-1 buckets may also use capitals and '_'.
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$/.test(bucket)) throw badUri(uri, `"${bucket}" is not a valid bucket name`);
  if (prefix !== '' && prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw badUri(uri, 'the prefix must not contain empty, "." or ".." segments');
  }
  return { bucket, prefix };
}

function localPathOf(uri: string): string {
  const rest = uri.slice('file://'.length);
  if (rest.startsWith('/') || rest.startsWith('localhost/')) {
    try {
      return fileURLToPath(uri);
    } catch (err) {
      throw badUri(uri, err instanceof Error ? err.message : String(err));
    }
  }
  // file://./lake and file://lake are not standard file URLs but are the obvious way to write a
  // relative lake directory.
  if (rest === '') throw badUri(uri, 'it names no directory');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw badUri(uri, 'it has a malformed %-escape');
  }
  return path.resolve(process.cwd(), decoded);
}

function badUri(uri: string, reason: string): ClicklakeError {
  return new ClicklakeError('bad_lake_uri', `Unsupported lake URI "${uri}": ${reason}. Use ${ACCEPTED_FORMS}.`, { uri });
}
