import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ClicklakeError } from '../errors.js';
import { assertValidKey, assertValidPrefix, compareUtf8 } from './keys.js';
import { preconditionFailed } from './precondition.js';
import type { ObjectInfo, ObjectStore, PutCondition, PutOptions } from './types.js';

/** Files a listing stats and hashes ahead of the one it yields. */
const LIST_READ_AHEAD = 4;

/** Suffix marker of an in-flight put's temp file: `.<name>.tmp-<random hex>` beside the target. */
const TEMP_MARKER = '.tmp-';
/** A new file (failing if it exists) with `bytes`, on disk before it is renamed or linked into place. */
async function writeDurably(file: string, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A conditional write's lock file older than this was left by a process that died holding it. */
const LOCK_STALE_MS = 10_000;

/**
 * An object store over a local directory, with the same layout a bucket would have
 * (`file://./lake` is the demo and test lake). Keys map to files below the root; '/' separates
 * directories.
 *
 * Differences from S3 that callers can rely on not mattering: PutOptions (content type, encoding,
 * SSE) are not stored; etags are the MD5 of the content even for big files (S3 multipart etags are
 * `<md5>-<parts>`); names starting with '.' are reserved for temp files, so no key segment may
 * start with '.'.
 */
export class LocalStore implements ObjectStore {
  readonly uri: string;
  /** Absolute root directory. */
  readonly root: string;
  /** MD5s already computed, valid while the file's inode, size and times are unchanged. */
  private readonly etagCache = new Map<string, { stamp: string; etag: string }>();

  constructor(root: string) {
    this.root = path.resolve(root);
    this.uri = pathToFileURL(this.root).href;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    const dirPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const namePrefix = prefix.slice(dirPart.length);
    // Dot-names are temp files or not ours (see pathOf): never list below them.
    if (dirPart.split('/').some((segment) => segment.startsWith('.'))) return;
    yield* this.walk(dirPart, namePrefix);
  }

  /**
   * Yields the files below `dirKey` in S3 key order without collecting the whole tree: sorting each
   * directory's entries by name, with '/' appended to directory names, gives the same order as
   * sorting the full keys, because every key below directory `d` starts with `d/`.
   */
  private async *walk(dirKey: string, namePrefix: string): AsyncGenerator<ObjectInfo> {
    const dirPath = path.join(this.root, dirKey);
    let entries;
    try {
      entries = await readdir(dirPath, { withFileTypes: true });
    } catch (err) {
      if (isFsError(err, 'ENOENT', 'ENOTDIR')) return;
      throw this.failure('list', dirKey, err);
    }
    const wanted = entries
      .filter((e) => !e.name.startsWith('.') && e.name.startsWith(namePrefix) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), order: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => compareUtf8(a.order, b.order));
    // Files are stat-ed and hashed a few ahead, so reading one overlaps hashing another.
    const ahead = new Map<number, Promise<ObjectInfo | undefined>>();
    const start = (i: number): void => {
      const entry = wanted[i];
      if (entry && !entry.isDir && !ahead.has(i)) ahead.set(i, this.info(dirKey + entry.name));
    };
    try {
      for (const [i, entry] of wanted.entries()) {
        const key = dirKey + entry.name;
        if (entry.isDir) {
          yield* this.walk(`${key}/`, '');
          continue;
        }
        for (let k = i; k < i + LIST_READ_AHEAD; k++) start(k);
        const info = await ahead.get(i)!;
        ahead.delete(i);
        // undefined: deleted between readdir and stat, so not part of the listing.
        if (info) yield info;
      }
    } finally {
      // A consumer that stops early leaves no read unobserved.
      await Promise.allSettled(ahead.values());
    }
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    const { handle } = await this.openObject(key);
    return handle.createReadStream();
  }

  async getBytes(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    try {
      return await readFile(file);
    } catch (err) {
      if (isFsError(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw notFound(this.uri, key);
      throw this.failure('read', key, err);
    }
  }

  async readInto(key: string, buffer: Buffer): Promise<Buffer> {
    const { handle, stats } = await this.openObject(key);
    try {
      const target = stats.size <= buffer.length ? buffer : Buffer.allocUnsafeSlow(stats.size);
      // Puts rename a new file into place, so the open file keeps the size it had at the stat.
      let filled = 0;
      while (filled < stats.size) {
        const { bytesRead } = await handle.read(target, filled, stats.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return target.subarray(0, filled);
    } catch (err) {
      throw this.failure('read', key, err);
    } finally {
      await handle.close();
    }
  }

  /** An object's file, opened, with its stats; 'object_not_found' when it is missing or not a file. */
  private async openObject(key: string): Promise<{ handle: FileHandle; stats: Stats }> {
    const file = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (isFsError(err, 'ENOENT', 'ENOTDIR')) throw notFound(this.uri, key);
      throw this.failure('read', key, err);
    }
    const stats = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw this.failure('read', key, err);
    });
    if (!stats.isFile()) {
      await handle.close();
      throw notFound(this.uri, key);
    }
    return { handle, stats };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.pathOf(key);
    return this.info(key);
  }

  async put(key: string, body: Buffer | string, _options?: PutOptions): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const etag = createHash('md5').update(bytes).digest('hex');
    await this.writeAtomically(key, (tempPath) => writeDurably(tempPath, bytes));
    return { etag };
  }

  /**
   * If-None-Match: the new file is hard-linked into place, which fails when the name exists.
   * If-Match: under a lock file next to the key (held for the compare and the rename only, a
   * stale one from a dead process taken over after LOCK_STALE_MS), the ETag is compared and the
   * new file renamed over the old.
   */
  async putIf(key: string, body: Buffer | string, condition: PutCondition, _options?: PutOptions): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const etag = createHash('md5').update(bytes).digest('hex');
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const tempPath = path.join(dir, `.${path.basename(file)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeDurably(tempPath, bytes);
      if ('ifNoneMatch' in condition) {
        try {
          await link(tempPath, file);
        } catch (err) {
          if (isFsError(err, 'EEXIST')) throw preconditionFailed(this.uri, key, condition);
          throw err;
        }
        return { etag };
      }
      const release = await this.lock(file);
      try {
        if ((await this.info(key))?.etag !== condition.ifMatch) throw preconditionFailed(this.uri, key, condition);
        await rename(tempPath, file);
      } finally {
        await release();
      }
      return { etag };
    } catch (err) {
      if (err instanceof ClicklakeError) throw err;
      throw this.failure('write', key, err);
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
  }

  /** An exclusive lock file beside `file`; returns its release. */
  private async lock(file: string): Promise<() => Promise<void>> {
    const lockPath = path.join(path.dirname(file), `.${path.basename(file)}.lock`);
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        return () => unlink(lockPath).catch(() => undefined);
      } catch (err) {
        if (!isFsError(err, 'EEXIST')) throw err;
        const held = await stat(lockPath).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > LOCK_STALE_MS) await unlink(lockPath).catch(() => undefined);
        else await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt)));
      }
    }
  }

  async putFile(key: string, localPath: string, _options?: PutOptions): Promise<{ etag: string }> {
    const hash = createHash('md5');
    await this.writeAtomically(key, async (tempPath) => {
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      const out = createWriteStream(tempPath, { flags: 'wx', flush: true });
      await pipeline(createReadStream(localPath), hashing, out);
    });
    return { etag: hash.digest('hex') };
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await unlink(file);
    } catch (err) {
      // Missing, or a "directory" key (only a prefix of other keys): nothing to delete, like S3.
      if (isFsError(err, 'ENOENT', 'ENOTDIR', 'EISDIR')) return;
      throw this.failure('delete', key, err);
    }
    this.etagCache.delete(file);
  }

  /** Writes through a temp file in the target's directory, then renames it over the target. */
  private async writeAtomically(key: string, write: (tempPath: string) => Promise<void>): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    const tempPath = path.join(dir, `.${path.basename(file)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
      await write(tempPath);
      await rename(tempPath, file);
    } catch (err) {
      await unlink(tempPath).catch(() => {
        // The temp file may never have been created; the write's own error is the one to report.
      });
      throw this.failure('write', key, err);
    }
  }

  private async info(key: string): Promise<ObjectInfo | undefined> {
    const file = path.join(this.root, key);
    let stats: Stats;
    try {
      stats = await stat(file);
    } catch (err) {
      if (isFsError(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw this.failure('stat', key, err);
    }
    if (!stats.isFile()) return undefined;
    let etag: string;
    try {
      etag = await this.etagOf(file, stats);
    } catch (err) {
      if (isFsError(err, 'ENOENT')) return undefined;
      throw this.failure('read', key, err);
    }
    return { key, size: stats.size, etag, lastModified: stats.mtime };
  }

  private async etagOf(file: string, stats: Stats): Promise<string> {
    // Every put renames a new file into place, so the inode changes with each write.
    const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    const cached = this.etagCache.get(file);
    if (cached?.stamp === stamp) return cached.etag;
    const etag = await md5OfFile(file);
    this.etagCache.set(file, { stamp, etag });
    return etag;
  }

  /** Absolute path of a key, after checking the key cannot leave the root. */
  private pathOf(key: string): string {
    assertValidKey(key);
    if (key.split('/').some((segment) => segment.startsWith('.'))) {
      throw new ClicklakeError(
        'bad_object_key',
        `Invalid object key ${JSON.stringify(key)}: the local store reserves names starting with "." for temp files; rename the segment.`,
        { key },
      );
    }
    const file = path.resolve(this.root, key);
    const rootWithSep = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
    if (!file.startsWith(rootWithSep)) {
      throw new ClicklakeError('bad_object_key', `Invalid object key ${JSON.stringify(key)}: it resolves outside the store root.`, { key });
    }
    return file;
  }

  private failure(operation: string, key: string, err: unknown): ClicklakeError {
    if (err instanceof ClicklakeError) return err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const reason = err instanceof Error ? err.message : String(err);
    return new ClicklakeError(
      'storage_error',
      `Local store ${operation} of "${key}" under ${this.uri} failed: ${reason}. Check the path, free space and permissions.`,
      { operation, key, uri: this.uri, errno: code },
      { cause: err },
    );
  }
}

function notFound(uri: string, key: string): ClicklakeError {
  return new ClicklakeError('object_not_found', `No object "${key}" in ${uri}; check the key and the lake URI.`, { key, uri });
}

/** Read buffers for hashing, reused: a fresh 1 MiB buffer per read made the garbage collector run for external memory, ~1 s per 500 MB. */
const hashBuffers: Buffer[] = [];

async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  const chunk = hashBuffers.pop() ?? Buffer.allocUnsafeSlow(1 << 20);
  const handle = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
    hashBuffers.push(chunk);
  }
  return hash.digest('hex');
}

function isFsError(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && codes.includes(code);
}
