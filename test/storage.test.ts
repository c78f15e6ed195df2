import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/storage/open.js';
import type { ObjectInfo, ObjectStore } from '../src/storage/types.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';
import { cephS3, cephSkipReason, motoSkipReason, startMotoS3 } from './support/third-party-s3.js';

/** One store implementation under test: each test gets an empty store of its own. */
interface Backend {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  freshStore(): Promise<ObjectStore>;
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clicklake-storage-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const localBackend: Backend = {
  name: 'local directory',
  start: async () => {},
  stop: async () => {},
  freshStore: async () => openStore(`file://${await tempDir()}`),
};

let s3: TestS3 | undefined;
let s3StoreCount = 0;
const s3Backend: Backend = {
  name: 's3rver',
  start: async () => {
    s3 = await startTestS3({ prefix: 'suite' });
  },
  stop: async () => s3?.close(),
  // A prefix per test keeps the tests independent inside one bucket.
  freshStore: async () => openStore(`${s3!.uri}/t${++s3StoreCount}`, { s3Client: s3!.client }),
};

/** A third-party server as a backend: moto_server, or the run's Ceph RGW. */
function thirdParty(name: string, start: () => Promise<TestS3>, skip: () => string | undefined): Backend & { skip: () => string | undefined } {
  let server: TestS3 | undefined;
  let count = 0;
  return {
    name,
    skip,
    start: async () => {
      server = await start();
    },
    stop: async () => server?.close(),
    freshStore: async () => openStore(`${server!.uri}/t${++count}`, { s3Client: server!.client }),
  };
}
const motoBackend = thirdParty('moto_server', () => startMotoS3({ prefix: 'suite' }), motoSkipReason);
const cephBackend = thirdParty('Ceph RGW', () => cephS3({ prefix: 'suite' }), cephSkipReason);
for (const b of [motoBackend, cephBackend]) {
  const why = b.skip();
  if (why) console.warn(`skipping the ObjectStore suite on ${b.name}: ${why}`);
}

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function collect(objects: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const all: ObjectInfo[] = [];
  for await (const object of objects) all.push(object);
  return all;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Puts keys in parallel batches (S3 round trips dominate otherwise). */
async function putMany(store: ObjectStore, keys: string[], batch = 50): Promise<void> {
  for (let i = 0; i < keys.length; i += batch) {
    await Promise.all(keys.slice(i, i + batch).map((key) => store.put(key, key)));
  }
}

const MiB = 1024 * 1024;

/** Servers known to ignore If-None-Match / If-Match on PutObject (the test checks that too). */
const IGNORES_CONDITIONS = new Set(['s3rver']);

describe.each([localBackend, s3Backend, ...[motoBackend, cephBackend].filter((b) => !b.skip())])('ObjectStore behaviour: $name', (backend) => {
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());

  it(IGNORES_CONDITIONS.has(backend.name) ? 'putIf: this server ignores the conditions (as known)' : 'putIf: creates only what is absent, replaces only the ETag it was given, one winner among concurrent creators', async () => {
    const store = await backend.freshStore();
    const first = await store.putIf('lease', 'one', { ifNoneMatch: '*' });
    expect(first.etag).toBe(md5('one'));
    const again = store.putIf('lease', 'two', { ifNoneMatch: '*' });
    if (IGNORES_CONDITIONS.has(backend.name)) {
      await again;
      expect((await store.getBytes('lease')).toString()).toBe('two');
      return;
    }
    await expect(again).rejects.toMatchObject({ code: 'precondition_failed' });
    expect((await store.getBytes('lease')).toString()).toBe('one');
    const swapped = await store.putIf('lease', 'three', { ifMatch: first.etag });
    expect(swapped.etag).toBe(md5('three'));
    await expect(store.putIf('lease', 'four', { ifMatch: first.etag })).rejects.toMatchObject({ code: 'precondition_failed' });
    await expect(store.putIf('absent', 'x', { ifMatch: first.etag })).rejects.toMatchObject({ code: 'precondition_failed' });
    expect((await store.getBytes('lease')).toString()).toBe('three');
    const racers = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putIf('race', `racer ${i}`, { ifNoneMatch: '*' })));
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of racers) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'precondition_failed' });
    const swaps = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.putIf('lease', `swap ${i}`, { ifMatch: swapped.etag })));
    expect(swaps.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('round-trips binary content through put, getBytes, getStream and head', async () => {
    const store = await backend.freshStore();
    const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(10_000)]);
    const before = Date.now();
    const { etag } = await store.put('dt=2024-01-01/x.parquet', body, { contentType: 'application/octet-stream' });

    expect(etag).toBe(md5(body));
    expect((await store.getBytes('dt=2024-01-01/x.parquet')).equals(body)).toBe(true);
    expect((await readAll(await store.getStream('dt=2024-01-01/x.parquet'))).equals(body)).toBe(true);
    const info = await store.head('dt=2024-01-01/x.parquet');
    expect(info).toMatchObject({ key: 'dt=2024-01-01/x.parquet', size: body.length, etag: md5(body) });
    // S3 reports whole seconds.
    expect(info!.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 2000);
    expect(info!.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 2000);
  });

  it('stores a string body as UTF-8 and an empty body as zero bytes', async () => {
    const store = await backend.freshStore();
    const text = '{"item_name":"Crème brûlée 🍮"}\n';
    expect((await store.put('m.json', text)).etag).toBe(md5(Buffer.from(text, 'utf8')));
    expect((await store.getBytes('m.json')).toString('utf8')).toBe(text);
    expect((await store.put('empty', Buffer.alloc(0))).etag).toBe(md5(''));
    expect(await store.head('empty')).toMatchObject({ size: 0, etag: md5('') });
  });

  it('overwrites an existing key; the new content and etag win even at the same size', async () => {
    const store = await backend.freshStore();
    await store.put('a/unit.parquet', 'first-version');
    const first = await store.head('a/unit.parquet');
    await store.put('a/unit.parquet', 'other-version');
    expect((await store.getBytes('a/unit.parquet')).toString()).toBe('other-version');
    const second = await store.head('a/unit.parquet');
    expect(second!.etag).toBe(md5('other-version'));
    expect(second!.etag).not.toBe(first!.etag);
    expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['a/unit.parquet']);
  });

  it('lists by prefix in key order with sizes and etags', async () => {
    const store = await backend.freshStore();
    const keys = [
      'raw/clicks/2024/01/02/00/f-2',
      'curated/clicks/dt=2024-01-10/2024011000.parquet',
      'curated/clicks/dt=2024-01-01/2024010100.parquet',
      'curated/clicks/dt=2024-01-01/2024010101.parquet',
      'curated/clicks/dt=2024-02-01/2024020100.parquet',
      'raw/clicks/2024/01/01/23/f-1',
      'curated/views/dt=2024-01-01/2024010100.parquet',
    ];
    await putMany(store, keys);

    const all = await collect(store.list(''));
    expect(all.map((o) => o.key)).toEqual([
      'curated/clicks/dt=2024-01-01/2024010100.parquet',
      'curated/clicks/dt=2024-01-01/2024010101.parquet',
      'curated/clicks/dt=2024-01-10/2024011000.parquet',
      'curated/clicks/dt=2024-02-01/2024020100.parquet',
      'curated/views/dt=2024-01-01/2024010100.parquet',
      'raw/clicks/2024/01/01/23/f-1',
      'raw/clicks/2024/01/02/00/f-2',
    ]);
    for (const object of all) {
      expect(object).toMatchObject({ size: Buffer.byteLength(object.key), etag: md5(object.key) });
      expect(object.lastModified).toBeInstanceOf(Date);
    }
    const keysUnder = async (prefix: string) => (await collect(store.list(prefix))).map((o) => o.key);
    expect(await keysUnder('curated/clicks/dt=2024-01-01/')).toEqual([
      'curated/clicks/dt=2024-01-01/2024010100.parquet',
      'curated/clicks/dt=2024-01-01/2024010101.parquet',
    ]);
    // A prefix need not end at a '/'.
    expect(await keysUnder('curated/clicks/dt=2024-01')).toEqual([
      'curated/clicks/dt=2024-01-01/2024010100.parquet',
      'curated/clicks/dt=2024-01-01/2024010101.parquet',
      'curated/clicks/dt=2024-01-10/2024011000.parquet',
    ]);
    expect(await keysUnder('curated/clicks/dt=2024-01-01/20240101001')).toEqual([]);
    expect(await keysUnder('raw/clicks/2024/01/02/00/f-2')).toEqual(['raw/clicks/2024/01/02/00/f-2']);
    expect(await keysUnder('nothing/here/')).toEqual([]);
  });

  it('lists more than one S3 page (1,050 keys) completely, in order, without duplicates', async () => {
    const store = await backend.freshStore();
    const keys = Array.from({ length: 1050 }, (_, i) => `raw/${String(i).padStart(5, '0')}`);
    // Shuffled writes: the order must come from the store, not from insertion.
    const shuffled = [...keys].sort(() => Math.random() - 0.5);
    await putMany(store, shuffled);
    await store.put('other/outside-prefix', 'x');

    const listed = await collect(store.list('raw/'));
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(new Set(listed.map((o) => o.etag)).size).toBe(1050);
  });

  it('putFile streams a multi-part file (12 MiB) and it reads back byte-identical', async () => {
    const store = await backend.freshStore();
    const dir = await tempDir();
    const file = path.join(dir, 'big.bin');
    const body = randomBytes(12 * MiB + 123);
    await writeFile(file, body);

    const { etag } = await store.putFile('curated/big.bin', file, { contentType: 'application/vnd.apache.parquet' });
    const info = await store.head('curated/big.bin');
    expect(info).toMatchObject({ key: 'curated/big.bin', size: body.length, etag });
    expect(sha256(await readAll(await store.getStream('curated/big.bin')))).toBe(sha256(body));
  });

  it('putFile of a small and of an empty file gives single-part etags (MD5)', async () => {
    const store = await backend.freshStore();
    const dir = await tempDir();
    await writeFile(path.join(dir, 'small'), 'small body');
    await writeFile(path.join(dir, 'empty'), '');
    expect((await store.putFile('small', path.join(dir, 'small'))).etag).toBe(md5('small body'));
    expect((await store.putFile('empty', path.join(dir, 'empty'))).etag).toBe(md5(''));
    expect((await store.getBytes('small')).toString()).toBe('small body');
    expect(await store.head('empty')).toMatchObject({ size: 0 });
  });

  it('put of a body bigger than one part (9 MiB) round-trips', async () => {
    const store = await backend.freshStore();
    const body = randomBytes(9 * MiB);
    const { etag } = await store.put('big-buffer', body);
    expect((await store.head('big-buffer'))!.etag).toBe(etag);
    expect(sha256(await store.getBytes('big-buffer'))).toBe(sha256(body));
  });

  it('readInto fills the given buffer when the object fits, a new one when it does not', async () => {
    const store = await backend.freshStore();
    const body = randomBytes(300 * 1024);
    await store.put('a/b', body);
    const big = Buffer.alloc(MiB, 7);
    const fitted = await store.readInto('a/b', big);
    expect(fitted.equals(body)).toBe(true);
    expect(fitted.buffer).toBe(big.buffer);
    const small = Buffer.alloc(100);
    const grown = await store.readInto('a/b', small);
    expect(grown.equals(body)).toBe(true);
    expect(grown.buffer).not.toBe(small.buffer);
    expect(small.every((b) => b === 0)).toBe(true);
    await store.put('empty', Buffer.alloc(0));
    expect(await store.readInto('empty', big)).toHaveLength(0);
  });

  it('reports a missing key as object_not_found from reads and undefined from head', async () => {
    const store = await backend.freshStore();
    await store.put('dir/present', 'x');
    for (const key of ['missing', 'dir/missing', 'dir', 'dir/present/below']) {
      await expect(store.getBytes(key)).rejects.toMatchObject({ code: 'object_not_found', meta: { key } });
      await expect(store.getStream(key)).rejects.toMatchObject({ code: 'object_not_found', meta: { key } });
      await expect(store.readInto(key, Buffer.alloc(16))).rejects.toMatchObject({ code: 'object_not_found', meta: { key } });
      expect(await store.head(key)).toBeUndefined();
    }
  });

  it('deletes objects; deleting a missing key is not an error', async () => {
    const store = await backend.freshStore();
    await store.put('a/1', 'one');
    await store.put('a/2', 'two');
    await store.delete('a/1');
    expect(await store.head('a/1')).toBeUndefined();
    expect((await collect(store.list(''))).map((o) => o.key)).toEqual(['a/2']);
    await expect(store.delete('a/1')).resolves.toBeUndefined();
    await expect(store.delete('never/existed')).resolves.toBeUndefined();
    await expect(store.delete('a')).resolves.toBeUndefined();
    expect(await store.head('a/2')).toMatchObject({ size: 3 });
  });

  it('rejects keys that could escape the root or alias another key', async () => {
    const store = await backend.freshStore();
    const badKeys = ['', '../outside', 'a/../../outside', 'a/..', '/etc/passwd', 'a//b', './a', 'a/./b', 'a/', 'a\\b'];
    for (const key of badKeys) {
      await expect(store.put(key, 'x'), key).rejects.toMatchObject({ code: 'bad_object_key' });
      await expect(store.getBytes(key), key).rejects.toMatchObject({ code: 'bad_object_key' });
      await expect(store.getStream(key), key).rejects.toMatchObject({ code: 'bad_object_key' });
      await expect(store.head(key), key).rejects.toMatchObject({ code: 'bad_object_key' });
      await expect(store.delete(key), key).rejects.toMatchObject({ code: 'bad_object_key' });
    }
    for (const prefix of ['../', '/abs', 'a/../b']) {
      await expect(collect(store.list(prefix)), prefix).rejects.toMatchObject({ code: 'bad_object_key' });
    }
    expect(await collect(store.list(''))).toEqual([]);
  });
});
