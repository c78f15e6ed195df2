import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { compactionLambdaPolicy, type PolicyDocument } from '../src/iam/policy.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-iam-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** action -> resources granted for it */
function grants(policy: PolicyDocument): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of policy.Statement) for (const a of s.Action) out.set(a, [...(out.get(a) ?? []), ...s.Resource]);
  return out;
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {}, cwd: work });
  return { code, stdout, stderr };
}

describe('compaction Lambda IAM policy', () => {
  it('grants exactly the lake prefixes, the KMS key and the Glue table the Lambda uses', async () => {
    await writeFile(
      path.join(work, 'clicklake.config.json'),
      JSON.stringify({ lake: 's3://acme-lake/prod', database: 'analytics', sse: { mode: 'aws:kms', kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } }),
    );
    const out = await cli(['iam-policy', '--region', 'eu-west-1', '--account', '111122223333']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const policy = JSON.parse(out.stdout) as PolicyDocument;
    expect(policy.Version).toBe('2012-10-17');
    const g = grants(policy);
    expect([...g.keys()].sort()).toEqual(
      ['glue:GetTable', 'kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'].sort(),
    );
    const obj = (key: string): string => `arn:aws:s3:::acme-lake/prod/${key}`;
    expect(g.get('s3:ListBucket')).toEqual(['arn:aws:s3:::acme-lake']);
    const list = policy.Statement.find((s) => s.Action.includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({
      StringLike: { 's3:prefix': ['prod/raw/click_events/*', 'prod/curated/click_events/*', 'prod/errors/click_events/*', 'prod/_manifests/click_events/*', 'prod/_leases/click_events/*'] },
    });
    expect(g.get('s3:GetObject')).toEqual([obj('raw/click_events/*'), obj('_manifests/click_events/*'), obj('_leases/click_events/*')]);
    expect(g.get('s3:PutObject')).toEqual([obj('curated/click_events/*'), obj('errors/click_events/*'), obj('_manifests/click_events/*'), obj('_leases/click_events/*')]);
    expect(g.get('s3:DeleteObject')).toEqual([obj('curated/click_events/*'), obj('errors/click_events/*'), obj('_leases/click_events/*')]);
    expect(g.get('s3:AbortMultipartUpload')).toEqual([obj('curated/click_events/*')]);
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(g.get('kms:GenerateDataKey')).toEqual([key]);
    expect(g.get('kms:Decrypt')).toEqual([key]);
    expect(g.get('glue:GetTable')).toEqual([
      'arn:aws:glue:eu-west-1:111122223333:catalog',
      'arn:aws:glue:eu-west-1:111122223333:database/analytics',
      'arn:aws:glue:eu-west-1:111122223333:table/analytics/click_events',
    ]);
    // Nothing is granted on the whole bucket's objects or with wildcard actions.
    for (const s of policy.Statement) {
      expect(s.Action.every((a) => !a.includes('*'))).toBe(true);
      expect(s.Resource).not.toContain('arn:aws:s3:::acme-lake/*');
    }
  });

  it('has no KMS statement with AES256, uses * for unknown region/account, and follows a custom layout', () => {
    const policy = compactionLambdaPolicy({
      bucket: 'b',
      layout: { rawPrefix: 'landing', curatedPrefix: 'parquet', errorsPrefix: 'bad', manifestsPrefix: 'commits' },
      tables: ['click_events'],
      database: 'clicklake',
      sse: { mode: 'AES256' },
    });
    const g = grants(policy);
    expect(g.has('kms:Decrypt')).toBe(false);
    expect(g.get('s3:GetObject')).toEqual(['arn:aws:s3:::b/landing/click_events/*', 'arn:aws:s3:::b/commits/click_events/*', 'arn:aws:s3:::b/_leases/click_events/*']);
    expect(g.get('glue:GetTable')).toEqual(['arn:aws:glue:*:*:catalog', 'arn:aws:glue:*:*:database/clicklake', 'arn:aws:glue:*:*:table/clicklake/click_events']);
  });

  it('refuses a KMS alias, which cannot scope data key permissions', async () => {
    await writeFile(path.join(work, 'clicklake.config.json'), JSON.stringify({ lake: 's3://acme-lake', sse: { mode: 'aws:kms', kmsKeyId: 'alias/lake' } }));
    const out = await cli(['iam-policy']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('alias');
    expect(out.stderr).toContain('key ARN or key id');
  });
});
