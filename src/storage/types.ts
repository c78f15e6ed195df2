/**
 * The object-store contract every part of clicklake writes and reads through: the S3 store in
 * production, the local-directory store for the demo and the tests. Only the calls we use.
 */

/** One stored object, as a listing or a HEAD reports it. */
export interface ObjectInfo {
  /** Key relative to the store root, '/'-separated. */
  key: string;
  /** Size in bytes. */
  size: number;
  /**
   * Entity tag without quotes. For a single-part write it is the MD5 hex of the content in both
   * stores, so etags compare equal across stores; S3 multipart uploads give `<md5>-<parts>`.
   */
  etag: string;
  lastModified: Date;
}

/** Server-side encryption for writes (S3 only; the local store ignores it). */
export type Sse = { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId?: string };

/** Options of a write. The local store keeps no metadata and ignores all of them. */
export interface PutOptions {
  contentType?: string;
  contentEncoding?: string;
  sse?: Sse;
}

/** The condition of a conditional write: the key must not exist yet, or must have this ETag now. */
export type PutCondition = { ifNoneMatch: '*' } | { ifMatch: string };

/**
 * A flat key space under one root (an S3 bucket plus optional prefix, or a local directory).
 *
 * @example
 * ```ts
 * const store = openStore('file://./lake');
 * await store.put('_manifests/clicks/2024/01/01/00.json', JSON.stringify(manifest), { contentType: 'application/json' });
 * for await (const object of store.list('curated/clicks/dt=2024-01-01/')) console.log(object.key, object.size);
 * ```
 */
export interface ObjectStore {
  /** Display URI of the store root, e.g. file:///abs/lake or s3://bucket/prefix */
  readonly uri: string;
  /**
   * All objects whose key starts with prefix, in lexicographic (UTF-8 byte) key order, paginating
   * transparently (S3 returns <= 1000 per page). Keys are relative to the store root.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Streaming read. Throws ClicklakeError code 'object_not_found' when missing. */
  getStream(key: string): Promise<NodeJS.ReadableStream>;
  /** Whole object in memory (small objects only: manifests, errors). Throws 'object_not_found' when missing. */
  getBytes(key: string): Promise<Buffer>;
  /**
   * The whole object read into `buffer` (a new buffer when it does not fit); returns the bytes
   * read, a view of `buffer` when they fitted. For large reads that reuse their memory
   * (compaction's staging: a fresh buffer per object made the garbage collector run full
   * collections). Throws 'object_not_found' when missing.
   */
  readInto(key: string, buffer: Buffer): Promise<Buffer>;
  /** undefined when missing */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Atomic from a reader's view: a reader sees the old object or the new one, never a part.
   * Local = temp file in the same directory + rename; S3 = PutObject, multipart upload for big bodies.
   */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ etag: string }>;
  /** Upload a local file, streamed (never fully in memory). Same atomicity as put. */
  putFile(key: string, localPath: string, options?: PutOptions): Promise<{ etag: string }>;
  /**
   * A small write that happens only if `condition` holds at that moment, atomically (S3:
   * If-None-Match / If-Match). Throws ClicklakeError 'precondition_failed' when it does not.
   * Some S3-compatible servers ignore the condition (s3rver): compaction's lease detects that.
   */
  putIf(key: string, body: Buffer | string, condition: PutCondition, options?: PutOptions): Promise<{ etag: string }>;
  /** Deleting a missing key is not an error (like S3). */
  delete(key: string): Promise<void>;
}
