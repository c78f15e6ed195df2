import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config/load.js';
import { resolveSettings } from '../src/config/settings.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-config-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const write = (name: string, value: unknown): Promise<void> => writeFile(path.join(work, name), typeof value === 'string' ? value : JSON.stringify(value));

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('config file', () => {
  it('defaults everything when there is no file', async () => {
    const loaded = await loadConfig({ cwd: work, env: {} });
    expect(loaded.file).toBeUndefined();
    const s = resolveSettings(loaded.config, {});
    expect(s).toMatchObject({
      database: 'clicklake',
      prefix: '',
      athena: { workgroup: 'primary' },
      compaction: { graceMinutes: 20, lookbackHours: 48, maxSkewHours: 168, compression: 'ZSTD' },
      layout: { rawPrefix: 'raw', curatedPrefix: 'curated', errorsPrefix: 'errors', manifestsPrefix: '_manifests' },
      projection: true,
    });
    expect(s.bucket).toBeUndefined();
    expect(s.sse).toBeUndefined();
  });

  it('reads every field, derives bucket and prefix from the lake, and lets flags win', async () => {
    await mkdir(path.join(work, 'conf'));
    await write('conf/lake.json', {
      lake: 's3://acme-lake/prod/clicks',
      layout: { raw: 'landing', manifests: 'commits' },
      database: 'analytics',
      athena: { workgroup: 'analysts', outputLocation: 's3://acme-results/athena/' },
      sse: { mode: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
      compaction: { graceMinutes: 30, lookbackHours: 24, maxSkewHours: 72, compression: 'SNAPPY', rowGroupRows: 100000 },
      schemasDir: '../schemas',
      projection: false,
    });
    const loaded = await loadConfig({ cwd: work, file: 'conf/lake.json', env: {} });
    expect(loaded.file).toBe(path.join(work, 'conf/lake.json'));
    expect(loaded.config.schemasDir).toBe(path.join(work, 'schemas'));
    const s = resolveSettings(loaded.config, {});
    expect(s).toMatchObject({
      lake: 's3://acme-lake/prod/clicks',
      bucket: 'acme-lake',
      prefix: 'prod/clicks',
      layout: { rawPrefix: 'landing', curatedPrefix: 'curated', errorsPrefix: 'errors', manifestsPrefix: 'commits' },
      database: 'analytics',
      athena: { workgroup: 'analysts', outputLocation: 's3://acme-results/athena/' },
      sse: { mode: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
      compaction: { graceMinutes: 30, lookbackHours: 24, maxSkewHours: 72, compression: 'SNAPPY', rowGroupRows: 100000 },
      projection: false,
    });
    const flagged = resolveSettings(loaded.config, { database: 'other', workgroup: 'wg2', bucket: 'b2', prefix: 'p2', compression: 'zstd' });
    expect(flagged).toMatchObject({ database: 'other', athena: { workgroup: 'wg2' }, bucket: 'b2', prefix: 'p2', compaction: { compression: 'ZSTD' } });
  });

  it('resolves a relative file:// lake against the config file, and CLICKLAKE_* variables override the file', async () => {
    await write('clicklake.config.json', { lake: 'file://./lake', compaction: { graceMinutes: 30 } });
    const loaded = await loadConfig({ cwd: work, env: { CLICKLAKE_GRACE_MINUTES: '45', CLICKLAKE_SSE: 'AES256', CLICKLAKE_COMPRESSION: 'SNAPPY' } });
    expect(loaded.config.lake).toBe(pathToFileURL(path.join(work, 'lake')).href);
    expect(loaded.envOverrides.sort()).toEqual(['CLICKLAKE_COMPRESSION', 'CLICKLAKE_GRACE_MINUTES', 'CLICKLAKE_SSE']);
    expect(resolveSettings(loaded.config).compaction).toMatchObject({ graceMinutes: 45, compression: 'SNAPPY' });
    expect(resolveSettings(loaded.config).sse).toEqual({ mode: 'AES256' });
  });

  it('names the JSON pointer and the fix for every problem', async () => {
    await write('clicklake.config.json', {
      lake: 'https://acme-lake',
      databse: 'x',
      athena: { workgroup: 'primary', output: 's3://x/' },
      sse: { mode: 'aws:kms' },
      compaction: { graceMinutes: -5, compression: 'GZIP' },
      layout: { raw: '/raw/' },
    });
    const err = await failure(loadConfig({ cwd: work, env: {} }));
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('clicklake.config.json: ');
    expect(err.message).toContain('/lake: is not valid: write s3://bucket/prefix or file://dir');
    expect(err.message).toContain('/databse: unknown field: remove it or fix its spelling (known fields here: lake, bucket, prefix, layout, database,');
    expect(err.message).toContain('/athena/output: unknown field');
    expect(err.message).toContain('/sse/kmsKeyId: is required: add "kmsKeyId": the KMS key ARN or id used with "mode": "aws:kms"');
    expect(err.message).toContain('/compaction/graceMinutes: must be >= 0');
    expect(err.message).toContain('/compaction/compression: must be one of "ZSTD", "SNAPPY"');
    expect(err.message).toContain('/layout/raw: is not valid: a key prefix without leading or trailing "/"');
  });

  it('names the environment variable that set a bad value', async () => {
    const err = await failure(loadConfig({ cwd: work, env: { CLICKLAKE_LOOKBACK_HOURS: 'two days', CLICKLAKE_KMS_KEY_ID: 'k' } }));
    expect(err.message).toContain('/compaction/lookbackHours (from CLICKLAKE_LOOKBACK_HOURS): must be integer');
    expect(err.message).toContain('/sse/mode');
  });

  it('refuses a kmsKeyId with AES256, bad JSON, a missing --config file and a bucket contradicting the lake', async () => {
    await write('a.json', { sse: { mode: 'AES256', kmsKeyId: 'k' } });
    expect((await failure(loadConfig({ cwd: work, file: 'a.json', env: {} }))).message).toContain('/sse/kmsKeyId: is only used with "mode": "aws:kms"');
    await write('b.json', '{ "lake": ');
    expect((await failure(loadConfig({ cwd: work, file: 'b.json', env: {} }))).code).toBe('config_not_json');
    expect((await failure(loadConfig({ cwd: work, file: 'missing.json', env: {} }))).code).toBe('config_not_found');
    await write('c.json', { lake: 's3://one/x', bucket: 'two' });
    const loaded = await loadConfig({ cwd: work, file: 'c.json', env: {} });
    expect(() => resolveSettings(loaded.config)).toThrow(/differs from the lake's bucket/);
  });

  it('CLI commands read the config and report its errors with exit code 1', async () => {
    await write('clicklake.config.json', { lake: 's3://acme-lake/prod', database: 'analytics' });
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {}, cwd: work };
    expect(await main(['catalog', 'ddl', '--table', 'click_events'], io)).toBe(0);
    expect(stdout).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `analytics`.`click_events`');
    expect(stdout).toContain("LOCATION 's3://acme-lake/prod/curated/click_events/'");
    await write('clicklake.config.json', { database: 'Bad-Name' });
    stderr = '';
    expect(await main(['catalog', 'ddl'], io)).toBe(1);
    expect(stderr).toContain('/database: is not valid: lower-case letters, digits and underscores');
    await write('clicklake.config.json', {});
    stderr = '';
    expect(await main(['catalog', 'ddl'], io)).toBe(1);
    expect(stderr).toContain('pass --bucket <name> or set "lake"');
  });
});
