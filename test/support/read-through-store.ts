import type { ObjectInfo, ObjectStore, PutCondition, PutOptions } from '../../src/storage/types.js';

/**
 * A store that reads straight through to `inner` and leaves the writes to its subclass: the base
 * of the test stores that watch or fail writes (a crash injected at the I/O boundary).
 */
export abstract class ReadThroughStore implements ObjectStore {
  constructor(readonly inner: ObjectStore) {}
  get uri(): string {
    return this.inner.uri;
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  getStream(key: string): Promise<NodeJS.ReadableStream> {
    return this.inner.getStream(key);
  }
  getBytes(key: string): Promise<Buffer> {
    return this.inner.getBytes(key);
  }
  readInto(key: string, buffer: Buffer): Promise<Buffer> {
    return this.inner.readInto(key, buffer);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  abstract put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ etag: string }>;
  abstract putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }>;
  abstract putIf(key: string, body: Buffer | string, condition: PutCondition, options?: PutOptions): Promise<{ etag: string }>;
  abstract delete(key: string): Promise<void>;
}
