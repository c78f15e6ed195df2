import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClicklakeError } from '../src/errors.js';
import { openStore } from '../src/storage/open.js';
import { createS3Client } from '../src/storage/s3-client.js';
import { S3Store } from '../src/storage/s3-store.js';
import type { ObjectInfo } from '../src/storage/types.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

/** What one real SDK request carried, recorded by a middleware after serialization. */
interface SentRequest {
  command: string;
  method: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

let s3: TestS3;
let sent: SentRequest[] = [];
let workDir: string;

beforeAll(async () => {
  s3 = await startTestS3({ bucket: 'clicklake-s3-specific' });
  workDir = await mkdtemp(path.join(tmpdir(), 'clicklake-s3-test-'));
  s3.client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string>; query?: Record<string, unknown> };
      sent.push({
        command: context.commandName ?? '',
        method: request.method ?? '',
        query: { ...request.query },
        headers: { ...request.headers },
      });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordSentRequests' },
  );
});
afterAll(async () => {
  await s3?.close();
  await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  sent = [];
  vi.unstubAllEnvs();
});

async function collect(objects: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const all: ObjectInfo[] = [];
  for await (const object of objects) all.push(object);
  return all;
}

const sentBy = (command: string) => sent.filter((request) => request.command === command);

describe('S3Store against s3rver', () => {
  it('sends SSE-S3 (AES256) on PutObject', async () => {
    const store = openStore(`${s3.uri}/sse`, { s3Client: s3.client });
    await store.put('a.json', '{}', { sse: { mode: 'AES256' } });
    const [put] = sentBy('PutObjectCommand');
    expect(put?.headers['x-amz-server-side-encryption']).toBe('AES256');
    expect(put?.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBeUndefined();
  });

  it('sends SSE-KMS with the key id on PutObject and on the multipart upload of putFile', async () => {
    const store = openStore(`${s3.uri}/sse`, { s3Client: s3.client });
    const kmsKeyId = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    await store.put('kms.json', '{}', { sse: { mode: 'aws:kms', kmsKeyId } });
    const file = path.join(workDir, 'kms.bin');
    await writeFile(file, randomBytes(9 * 1024 * 1024));
    await store.putFile('kms.bin', file, { sse: { mode: 'aws:kms', kmsKeyId } });

    const put = sentBy('PutObjectCommand');
    const create = sentBy('CreateMultipartUploadCommand');
    expect(put).toHaveLength(1);
    expect(create).toHaveLength(1);
    for (const request of [...put, ...create]) {
      expect(request.headers['x-amz-server-side-encryption']).toBe('aws:kms');
      expect(request.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe(kmsKeyId);
    }
    // 9 MiB with 8 MiB parts: two parts, then the completion.
    expect(sentBy('UploadPartCommand')).toHaveLength(2);
    expect(sentBy('CompleteMultipartUploadCommand')).toHaveLength(1);
  });

  it('sends no SSE header when none is configured (the bucket default applies)', async () => {
    const store = openStore(`${s3.uri}/sse`, { s3Client: s3.client });
    await store.put('plain.json', '{}');
    expect(sentBy('PutObjectCommand')[0]?.headers['x-amz-server-side-encryption']).toBeUndefined();
  });

  it('stores content type and encoding on the object', async () => {
    const store = openStore(`${s3.uri}/meta`, { s3Client: s3.client });
    await store.put('errors/00.ndjson.gz', Buffer.from([0x1f, 0x8b]), { contentType: 'application/x-ndjson', contentEncoding: 'gzip' });
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'meta/errors/00.ndjson.gz' }));
    await object.Body?.transformToByteArray();
    expect(object.ContentType).toBe('application/x-ndjson');
    expect(object.ContentEncoding).toBe('gzip');
  });

  it('follows continuation tokens: 1,050 keys take two ListObjectsV2 pages of at most 1,000', async () => {
    const store = openStore(`${s3.uri}/pages`, { s3Client: s3.client });
    const keys = Array.from({ length: 1050 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, '')));
    sent = [];

    expect((await collect(store.list('k/'))).map((object) => object.key)).toEqual(keys);
    const lists = sentBy('ListObjectsV2Command');
    expect(lists).toHaveLength(2);
    expect(lists.map((request) => request.query['max-keys'])).toEqual(['1000', '1000']);
    expect(lists[0]?.query['continuation-token']).toBeUndefined();
    expect(lists[1]?.query['continuation-token']).toEqual(expect.any(String));
  });

  it('keeps stores with overlapping prefixes apart (s3://b/a does not see s3://b/ab)', async () => {
    const a = openStore(`${s3.uri}/iso/a`, { s3Client: s3.client });
    const ab = openStore(`${s3.uri}/iso/ab/`, { s3Client: s3.client });
    await a.put('x', 'in a');
    await ab.put('x', 'in ab');
    expect((await collect(a.list(''))).map((object) => object.key)).toEqual(['x']);
    expect((await collect(ab.list(''))).map((object) => object.key)).toEqual(['x']);
    expect((await a.getBytes('x')).toString()).toBe('in a');
    expect(ab.uri).toBe(`${s3.uri}/iso/ab`);
    const root = openStore(s3.uri, { s3Client: s3.client });
    expect((await collect(root.list('iso/'))).map((object) => object.key)).toEqual(['iso/a/x', 'iso/ab/x']);
  });

  it('does not list zero-byte folder markers (keys ending in "/")', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'markers');
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'markers/dt=2024-01-01/', Body: new Uint8Array(0) }));
    await store.put('dt=2024-01-01/a', 'a');
    const raw = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'markers/' }));
    expect(raw.Contents?.map((object) => object.Key)).toContain('markers/dt=2024-01-01/');
    expect((await collect(store.list(''))).map((object) => object.key)).toEqual(['dt=2024-01-01/a']);
  });

  it('turns a missing bucket into storage_error naming the bucket, not object_not_found', async () => {
    const store = openStore('s3://no-such-bucket-here/p', { s3Client: s3.client });
    const failure = await store.getBytes('x').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ClicklakeError);
    expect(failure).toMatchObject({ code: 'storage_error', meta: { awsError: 'NoSuchBucket', bucket: 'no-such-bucket-here', key: 'p/x' } });
    expect((failure as Error).message).toContain('no-such-bucket-here');
    expect((failure as Error).cause).toBeDefined();
    await expect(store.put('x', 'y')).rejects.toMatchObject({ code: 'storage_error' });
    await expect(collect(store.list(''))).rejects.toMatchObject({ code: 'storage_error', meta: { awsError: 'NoSuchBucket' } });
  });

  it('turns an unreachable endpoint into storage_error with the cause attached', async () => {
    const client = createS3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    const store = openStore('s3://bucket/p', { s3Client: client });
    await expect(store.head('x')).rejects.toMatchObject({ code: 'storage_error', meta: { operation: 'head' } });
    await expect(store.put('x', 'y')).rejects.toMatchObject({ code: 'storage_error', meta: { operation: 'put' } });
    client.destroy();
  });

  it('putFile of a missing local file fails with the path and uploads nothing', async () => {
    const store = openStore(`${s3.uri}/missing-file`, { s3Client: s3.client });
    await expect(store.putFile('x', path.join(workDir, 'does-not-exist'))).rejects.toThrow(/does-not-exist/);
    expect(await store.head('x')).toBeUndefined();
  });
});

describe('createS3Client', () => {
  function clearEndpointEnv(): void {
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_REQUEST_CHECKSUM_CALCULATION', 'AWS_RESPONSE_CHECKSUM_VALIDATION', 'AWS_RETRY_MODE']) {
      vi.stubEnv(name, undefined);
    }
  }

  it('leaves AWS defaults alone when no custom endpoint is set', async () => {
    clearEndpointEnv();
    const client = createS3Client({ region: 'eu-west-1' });
    expect(client.config.forcePathStyle).toBe(false);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_SUPPORTED');
    const retryStrategy = (await client.config.retryStrategy()) as { mode?: string };
    expect(retryStrategy.mode).toBe('standard');
    client.destroy();
  });

  it('uses path style and checksums only when required for an endpoint override, and lets overrides win', async () => {
    clearEndpointEnv();
    const client = createS3Client({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' });
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    client.destroy();
    const virtualHosted = createS3Client({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: false });
    expect(virtualHosted.config.forcePathStyle).toBe(false);
    virtualHosted.destroy();
  });

  it('treats AWS_ENDPOINT_URL_S3 as a custom endpoint unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true', async () => {
    clearEndpointEnv();
    vi.stubEnv('AWS_ENDPOINT_URL_S3', 'http://127.0.0.1:9000');
    const client = createS3Client({ region: 'us-east-1' });
    expect(client.config.forcePathStyle).toBe(true);
    client.destroy();
    vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'true');
    const ignoring = createS3Client({ region: 'us-east-1' });
    expect(ignoring.config.forcePathStyle).toBe(false);
    ignoring.destroy();
  });

  it('lets the SDK read endpoint, region and credentials from the environment (openStore without a client)', async () => {
    clearEndpointEnv();
    vi.stubEnv('AWS_ENDPOINT_URL', s3.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', path.join(workDir, 'no-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(workDir, 'no-credentials'));
    const store = openStore(`s3://${s3.bucket}/from-env`);
    await store.put('hello.txt', 'hello');
    expect((await collect(store.list(''))).map((object) => object.key)).toEqual(['hello.txt']);
    const written = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'from-env/hello.txt' }));
    expect(await written.Body!.transformToString()).toBe('hello');
  });
});
