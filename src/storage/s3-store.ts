import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsSetupHint } from '../aws/setup-hint.js';
import { ClicklakeError } from '../errors.js';
import { assertValidKey, assertValidPrefix } from './keys.js';
import { preconditionFailed } from './precondition.js';
import type { ObjectInfo, ObjectStore, PutCondition, PutOptions } from './types.js';

/** S3 returns at most this many keys per ListObjectsV2 page. */
export const S3_LIST_PAGE_MAX_KEYS = 1000;
/** S3's minimum size of every multipart part but the last. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's maximum number of parts in one multipart upload. */
export const S3_MAX_PARTS = 10_000;
/** Part size of our multipart uploads; bodies up to this size go in one PutObject. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded concurrently; memory held is about UPLOAD_QUEUE_SIZE x part size (32 MiB). */
export const UPLOAD_QUEUE_SIZE = 4;

/**
 * An object store over one S3 bucket, optionally below a key prefix. The caller supplies the
 * client (see createS3Client). Keys passed in and returned are relative to the prefix.
 * Zero-byte "folder" marker objects (keys ending in '/') are not listed: they are no files.
 */
export class S3Store implements ObjectStore {
  readonly uri: string;
  /** Key prefix without leading or trailing '/', '' for the bucket root. */
  readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    prefix = '',
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    if (this.prefix !== '') assertValidKey(this.prefix);
    this.uri = this.prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${this.prefix}`;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    const fullPrefix = this.fullKey(prefix);
    let continuationToken: string | undefined;
    do {
      const page = await this.send('list', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: fullPrefix,
            MaxKeys: S3_LIST_PAGE_MAX_KEYS,
            ContinuationToken: continuationToken,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        yield {
          key: this.relativeKey(object.Key),
          size: object.Size ?? 0,
          etag: unquote(object.ETag),
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && continuationToken === undefined) {
        throw new ClicklakeError(
          'storage_error',
          `S3 listing of ${this.uri}/${prefix} was truncated without a continuation token; the endpoint is not S3-compatible enough.`,
          { bucket: this.bucket, prefix: fullPrefix },
        );
      }
    } while (continuationToken !== undefined);
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    const result = await this.send('get', key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key, true) })),
    );
    if (result.Body === undefined) throw this.failure('get', key, new Error('response has no body'));
    // In Node the SDK's body is an http.IncomingMessage (a Readable) with helper mixins.
    return result.Body as Readable;
  }

  async readInto(key: string, buffer: Buffer): Promise<Buffer> {
    const body = (await this.getStream(key)) as Readable;
    const length = (body as Readable & { headers?: Record<string, string | undefined> }).headers?.['content-length'];
    let target = length !== undefined && Number(length) > buffer.length ? Buffer.allocUnsafeSlow(Number(length)) : buffer;
    let filled = 0;
    await this.send('get', key, async () => {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (filled + chunk.length > target.length) {
          // No or a wrong Content-Length: grow like a vector.
          const grown = Buffer.allocUnsafeSlow(Math.max(2 * target.length, filled + chunk.length));
          target.copy(grown, 0, 0, filled);
          target = grown;
        }
        filled += chunk.copy(target, filled);
      }
    });
    return target.subarray(0, filled);
  }

  async getBytes(key: string): Promise<Buffer> {
    const result = await this.send('get', key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key, true) })),
    );
    if (result.Body === undefined) throw this.failure('get', key, new Error('response has no body'));
    const bytes = await this.send('get', key, () => result.Body!.transformToByteArray());
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const fullKey = this.fullKey(key, true);
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      return {
        key,
        size: result.ContentLength ?? 0,
        etag: unquote(result.ETag),
        lastModified: result.LastModified ?? new Date(0),
      };
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw this.failure('head', key, err);
    }
  }

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const input = this.putInput(key, options);
    if (bytes.byteLength <= UPLOAD_PART_SIZE) {
      const result = await this.send('put', key, () => this.client.send(new PutObjectCommand({ ...input, Body: bytes })));
      return { etag: unquote(result.ETag) };
    }
    return this.upload(key, { ...input, Body: bytes }, UPLOAD_PART_SIZE);
  }

  async putIf(key: string, body: Buffer | string, condition: PutCondition, options: PutOptions = {}): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const input: PutObjectCommandInput = { ...this.putInput(key, options), Body: bytes };
    if ('ifNoneMatch' in condition) input.IfNoneMatch = '*';
    // Unquoted: AWS and moto take either form, Ceph RGW only this one (found by the storage suite).
    else input.IfMatch = condition.ifMatch;
    try {
      const result = await this.client.send(new PutObjectCommand(input));
      return { etag: unquote(result.ETag) };
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: the condition failed; 409: another conditional write to the key won the race;
      // 404 on If-Match: there is no object to match.
      const missing = 'ifMatch' in condition && (name === 'NoSuchKey' || status === 404);
      if (missing || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409) {
        throw preconditionFailed(this.uri, key, condition);
      }
      throw this.failure('put', key, err);
    }
  }

  async putFile(key: string, localPath: string, options: PutOptions = {}): Promise<{ etag: string }> {
    const input = this.putInput(key, options);
    const { size } = await stat(localPath);
    // Files over S3_MAX_PARTS x 8 MiB (about 78 GiB) need bigger parts.
    const partSize = Math.max(UPLOAD_PART_SIZE, Math.ceil(size / S3_MAX_PARTS));
    return this.upload(key, { ...input, Body: createReadStream(localPath) }, partSize);
  }

  async delete(key: string): Promise<void> {
    await this.send('delete', key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key, true) })),
    );
  }

  /** lib-storage Upload: one PutObject below partSize, else a multipart upload aborted on failure. */
  private async upload(key: string, params: PutObjectCommandInput, partSize: number): Promise<{ etag: string }> {
    const upload = new Upload({ client: this.client, params, partSize, queueSize: UPLOAD_QUEUE_SIZE, leavePartsOnError: false });
    const result = await this.send('put', key, () => upload.done());
    // Ceph RGW's CompleteMultipartUpload answer carries no ETag the SDK reads (found by running
    // the storage suite on it): ask for the object's own.
    if (!unquote(result.ETag)) return { etag: (await this.head(key))?.etag ?? '' };
    return { etag: unquote(result.ETag) };
  }

  private putInput(key: string, options: PutOptions): PutObjectCommandInput {
    const input: PutObjectCommandInput = { Bucket: this.bucket, Key: this.fullKey(key, true) };
    if (options.contentType !== undefined) input.ContentType = options.contentType;
    if (options.contentEncoding !== undefined) input.ContentEncoding = options.contentEncoding;
    if (options.sse !== undefined) {
      input.ServerSideEncryption = options.sse.mode;
      if (options.sse.mode === 'aws:kms' && options.sse.kmsKeyId !== undefined) input.SSEKMSKeyId = options.sse.kmsKeyId;
    }
    return input;
  }

  private fullKey(key: string, isObjectKey = false): string {
    if (isObjectKey) assertValidKey(key);
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  private relativeKey(fullKey: string): string {
    return this.prefix === '' ? fullKey : fullKey.slice(this.prefix.length + 1);
  }

  /** Runs one S3 call, turning its failure into a ClicklakeError that names the object. */
  private async send<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (operation === 'get' && isMissingObject(err)) {
        throw new ClicklakeError('object_not_found', `No object "${key}" in ${this.uri}; check the key and the lake URI.`, {
          key,
          uri: this.uri,
        });
      }
      throw this.failure(operation, key, err);
    }
  }

  private failure(operation: string, key: string, err: unknown): ClicklakeError {
    if (err instanceof ClicklakeError) return err;
    const name = err instanceof Error ? err.name : undefined;
    const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    const reason = err instanceof Error ? err.message : String(err);
    const target = key === '' ? this.uri : `${this.uri}/${key}`;
    const hint =
      awsSetupHint(err) ??
      (name === 'NoSuchBucket'
        ? `bucket "${this.bucket}" does not exist; check the lake URI`
        : name === 'AccessDenied' || status === 403
          ? 'check the AWS credentials, the bucket policy and, for SSE-KMS, the key policy'
          : 'check the endpoint, credentials and network, then retry');
    return new ClicklakeError(
      'storage_error',
      `S3 ${operation} of ${target} failed: ${name ?? 'Error'}: ${reason}; ${hint}.`,
      { operation, bucket: this.bucket, key: this.fullKey(key), awsError: name, httpStatus: status },
      { cause: err },
    );
  }
}

/** NoSuchKey comes with GetObject's XML error body; HEAD responses have no body, so NotFound. */
function isMissingObject(err: unknown): boolean {
  const name = err instanceof Error ? err.name : undefined;
  return name === 'NoSuchKey' || name === 'NotFound';
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
