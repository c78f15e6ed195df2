import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClicklakeError } from '../src/errors.js';
import { LocalStore } from '../src/storage/local-store.js';
import { openStore } from '../src/storage/open.js';
import { createS3Client } from '../src/storage/s3-client.js';
import { S3Store } from '../src/storage/s3-store.js';

const s3Client = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

describe('openStore', () => {
  it.each([
    ['file://./lake', path.resolve(process.cwd(), 'lake')],
    ['file://lake/sub', path.resolve(process.cwd(), 'lake/sub')],
    ['file:///abs/dir', '/abs/dir'],
    ['file:///abs/with%20space/', '/abs/with space'],
    ['file://localhost/abs/dir', '/abs/dir'],
    ['./lake', path.resolve(process.cwd(), 'lake')],
    ['lake', path.resolve(process.cwd(), 'lake')],
    ['/tmp/some/lake', '/tmp/some/lake'],
  ])('opens %s as a local directory store at %s', (uri, root) => {
    const store = openStore(uri);
    expect(store).toBeInstanceOf(LocalStore);
    expect((store as LocalStore).root).toBe(root);
    expect(store.uri).toBe(pathToFileURL(root).href);
  });

  it.each([
    ['s3://my-bucket', 'my-bucket', '', 's3://my-bucket'],
    ['s3://my-bucket/', 'my-bucket', '', 's3://my-bucket'],
    ['s3://my-bucket/curated', 'my-bucket', 'curated', 's3://my-bucket/curated'],
    ['s3://my.bucket/some/prefix/', 'my.bucket', 'some/prefix', 's3://my.bucket/some/prefix'],
  ])('opens %s as an S3 store', (uri, bucket, prefix, displayUri) => {
    const store = openStore(uri, { s3Client });
    expect(store).toBeInstanceOf(S3Store);
    expect((store as S3Store).bucket).toBe(bucket);
    expect((store as S3Store).prefix).toBe(prefix);
    expect(store.uri).toBe(displayUri);
  });

  it('builds a default client when none is given', () => {
    expect(openStore('s3://my-bucket/p')).toBeInstanceOf(S3Store);
  });

  it.each(['http://example.com/lake', 'gs://bucket/x', 's3a://bucket', '', '   ', 's3://', 's3://b', 's3://my-bucket/a/../b', 's3://my-bucket/a//b', 'file://', 'file://%zz'])(
    'refuses %j with bad_lake_uri naming both accepted forms',
    (uri) => {
      let failure: unknown;
      try {
        openStore(uri, { s3Client });
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(ClicklakeError);
      expect(failure).toMatchObject({ code: 'bad_lake_uri', meta: { uri } });
      expect((failure as Error).message).toContain('s3://bucket[/prefix]');
      expect((failure as Error).message).toContain('file://');
      expect((failure as Error).message).not.toContain('\n');
    },
  );
});
