import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../src/storage/local-store.js';
import type { ObjectInfo } from '../src/storage/types.js';

let root: string;
let store: LocalStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clicklake-local-'));
  store = new LocalStore(path.join(root, 'lake'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');

async function keysOf(objects: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of objects) keys.push(object.key);
  return keys;
}

/** Every file name below a directory, hidden ones included. */
async function allNames(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}

describe('LocalStore', () => {
  it('has the file URL of its absolute root as uri, and an empty listing before the root exists', async () => {
    expect(store.uri).toBe(pathToFileURL(path.join(root, 'lake')).href);
    expect(await keysOf(store.list(''))).toEqual([]);
  });

  it('lists in UTF-8 byte order like S3, not in JS string order or directory-walk order', async () => {
    const keys = ['x-1', 'a/b', '\u{1F600}', 'b', 'a.b', 'x', 'B', '\uFF21', 'a-b', 'a/a/z'];
    for (const key of keys) await store.put(key, key);
    // '-' (0x2d) < '.' (0x2e) < '/' (0x2f); U+FF21 is EF BC A1 in UTF-8 and sorts before the
    // emoji's F0 9F 98 80, although its UTF-16 unit is above the emoji's surrogate D83D.
    expect(await keysOf(store.list(''))).toEqual(['B', 'a-b', 'a.b', 'a/a/z', 'a/b', 'b', 'x', 'x-1', '\uFF21', '\u{1F600}']);
    expect(await keysOf(store.list('a'))).toEqual(['a-b', 'a.b', 'a/a/z', 'a/b']);
    expect(await keysOf(store.list('a/'))).toEqual(['a/a/z', 'a/b']);
    expect(await keysOf(store.list('x'))).toEqual(['x', 'x-1']);
  });

  it('never shows a partly written object under its key while puts run', async () => {
    const key = 'curated/clicks/dt=2024-01-01/2024010100.parquet';
    const target = path.join(store.root, key);
    const a = randomBytes(6 * 1024 * 1024);
    const b = randomBytes(6 * 1024 * 1024 + 1);
    const sourceOfB = path.join(root, 'b.bin');
    await writeFile(sourceOfB, b);
    await store.put(key, a);

    let writing = true;
    const sizes = new Set<number>();
    const listedKeys = new Set<string>();
    const contents = new Set<string>();
    let polls = 0;
    const watch = async () => {
      while (writing) {
        sizes.add((await stat(target)).size);
        for await (const object of store.list('curated/')) {
          listedKeys.add(object.key);
          sizes.add(object.size);
        }
        if (polls % 5 === 0) contents.add(md5(await readFile(target)));
        polls++;
      }
    };
    const writes = async () => {
      for (let i = 0; i < 8; i++) {
        await store.put(key, a);
        await store.putFile(key, sourceOfB);
      }
      writing = false;
    };
    await Promise.all([watch(), writes()]);

    expect(polls).toBeGreaterThan(3);
    for (const size of sizes) expect([a.length, b.length]).toContain(size);
    for (const digest of contents) expect([md5(a), md5(b)]).toContain(digest);
    expect([...listedKeys]).toEqual([key]);
    expect((await allNames(store.root)).filter((name) => path.basename(name).startsWith('.'))).toEqual([]);
    expect((await store.head(key))!.etag).toBe(md5(b));
  });

  it('skips temp files of in-flight puts and other dot-files when listing', async () => {
    await store.put('dt=2024-01-01/a.parquet', 'a');
    await writeFile(path.join(store.root, 'dt=2024-01-01', '.b.parquet.tmp-0123456789ab'), 'partial');
    await mkdir(path.join(store.root, '.hidden'));
    await writeFile(path.join(store.root, '.hidden', 'c'), 'c');
    expect(await keysOf(store.list(''))).toEqual(['dt=2024-01-01/a.parquet']);
    expect(await keysOf(store.list('.hidden/'))).toEqual([]);
    expect(await keysOf(store.list('dt=2024-01-01/.b'))).toEqual([]);
  });

  it('a failed putFile leaves the previous object and no temp file behind', async () => {
    await store.put('unit.parquet', 'previous');
    const failure = await store.putFile('unit.parquet', path.join(root, 'missing.bin')).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 'storage_error', meta: { operation: 'write', key: 'unit.parquet', errno: 'ENOENT' } });
    expect((failure as Error).message).toContain('missing.bin');
    expect((await store.getBytes('unit.parquet')).toString()).toBe('previous');
    expect(await allNames(store.root)).toEqual(['unit.parquet']);
  });

  it('reports writing below an existing object as storage_error, not a crash or a silent success', async () => {
    await store.put('a', 'file');
    await expect(store.put('a/b', 'x')).rejects.toMatchObject({ code: 'storage_error', meta: { key: 'a/b' } });
    expect((await store.getBytes('a')).toString()).toBe('file');
  });

  it('rejects key segments starting with "." (reserved for temp files)', async () => {
    for (const key of ['.hidden', 'a/.b', '.x.tmp-0123']) {
      await expect(store.put(key, 'x')).rejects.toMatchObject({ code: 'bad_object_key', meta: { key } });
      await expect(store.head(key)).rejects.toMatchObject({ code: 'bad_object_key' });
    }
  });

  it('recomputes the etag when a file is replaced behind its back with the same size', async () => {
    await store.put('m.json', 'aaaa');
    expect((await store.head('m.json'))!.etag).toBe(md5('aaaa'));
    await writeFile(path.join(store.root, 'm.json'), 'bbbb');
    expect((await store.head('m.json'))!.etag).toBe(md5('bbbb'));
    expect((await keysOf(store.list('')))).toEqual(['m.json']);
  });
});
