/**
 * The least-privilege IAM policy of the compaction Lambda, derived from the same layout the
 * compaction code uses, so the policy names exactly the prefixes it touches:
 *
 * | what compaction does                                   | permission                                  |
 * |--------------------------------------------------------|---------------------------------------------|
 * | lists raw hours, its manifests, stale outputs          | s3:ListBucket, only under the zone prefixes |
 * | reads Firehose objects and earlier manifests (HEAD+GET)| s3:GetObject on raw/<t>/*, _manifests/<t>/* |
 * | writes Parquet, errors objects, manifests              | s3:PutObject on curated, errors, _manifests |
 * | aborts a failed multipart upload of a big Parquet file | s3:AbortMultipartUpload on curated/<t>/*    |
 * | removes outputs / errors objects a recompaction no longer produces | s3:DeleteObject on curated, errors |
 * | SSE-KMS writes and reads                               | kms:GenerateDataKey, kms:Decrypt on the key |
 * | reads the curated table definition                     | glue:GetTable on catalog, database, table   |
 *
 * CloudWatch Logs permissions come from the AWSLambdaBasicExecutionRole managed policy.
 */
import { ClicklakeError } from '../errors.js';
import { DEFAULT_LAYOUT, type LakeLayout } from '../partitions/layout.js';
import type { Sse } from '../storage/types.js';

/** One IAM policy statement. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface CompactionPolicyOptions {
  bucket: string;
  /** Lake prefix inside the bucket ('' for the bucket root). */
  prefix?: string;
  layout?: LakeLayout;
  /** Curated table names the Lambda compacts. */
  tables: string[];
  database: string;
  sse?: Sse;
  /** Region and account of the Glue / KMS ARNs; `*` when omitted. */
  region?: string;
  account?: string;
  /** AWS partition: aws, aws-cn, aws-us-gov. Default aws. */
  partition?: string;
  /** The SSE key's ARN as given, e.g. the deploy app's own key (a CloudFormation reference at synth time). */
  kmsKeyArn?: string;
}

const trim = (s: string): string => s.replace(/^\/+|\/+$/g, '');

/** The KMS key ARN a key id or ARN names. Aliases cannot scope IAM permissions on data keys. */
export function kmsKeyArn(kmsKeyId: string, partition: string, region: string, account: string): string {
  if (kmsKeyId.startsWith('arn:')) {
    if (/:alias\//.test(kmsKeyId)) throw aliasError(kmsKeyId);
    return kmsKeyId;
  }
  if (kmsKeyId.startsWith('alias/')) throw aliasError(kmsKeyId);
  return `arn:${partition}:kms:${region}:${account}:key/${kmsKeyId}`;
}

function aliasError(kmsKeyId: string): ClicklakeError {
  return new ClicklakeError(
    'kms_alias_in_policy',
    `sse.kmsKeyId "${kmsKeyId}" is an alias, and IAM grants on data keys need the key itself: set the key ARN or key id in the config`,
    { kmsKeyId },
  );
}

/**
 * The compaction Lambda's policy.
 *
 * @example
 * const policy = compactionLambdaPolicy({ bucket: 'my-lake', tables: ['click_events'], database: 'clicklake', region: 'eu-west-1', account: '123456789012' });
 * console.log(JSON.stringify(policy, null, 2));
 */
export function compactionLambdaPolicy(options: CompactionPolicyOptions): PolicyDocument {
  if (options.tables.length === 0) throw new ClicklakeError('no_tables', 'no tables to grant access to: check --schemas or --table', {});
  const layout = options.layout ?? DEFAULT_LAYOUT;
  const partition = options.partition ?? 'aws';
  const region = options.region ?? '*';
  const account = options.account ?? '*';
  const root = options.prefix ? `${trim(options.prefix)}/` : '';
  const bucketArn = `arn:${partition}:s3:::${options.bucket}`;
  const zone = (zonePrefix: string, table: string): string => `${root}${trim(zonePrefix)}/${table}/`;
  const objects = (zonePrefix: string): string[] => options.tables.map((t) => `${bucketArn}/${zone(zonePrefix, t)}*`);

  const statements: PolicyStatement[] = [
    {
      Sid: 'ListLakeZones',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucketArn],
      Condition: {
        StringLike: {
          // _leases too: without ListBucket, S3 answers a HEAD of a missing key with 403, not 404.
          's3:prefix': options.tables.flatMap((t) => [layout.rawPrefix, layout.curatedPrefix, layout.errorsPrefix, layout.manifestsPrefix, '_leases'].map((z) => `${zone(z, t)}*`)),
        },
      },
    },
    { Sid: 'ReadRawAndManifests', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [...objects(layout.rawPrefix), ...objects(layout.manifestsPrefix)] },
    {
      Sid: 'WriteOutputsErrorsManifests',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: [...objects(layout.curatedPrefix), ...objects(layout.errorsPrefix), ...objects(layout.manifestsPrefix)],
    },
    { Sid: 'AbortFailedParquetUploads', Effect: 'Allow', Action: ['s3:AbortMultipartUpload'], Resource: objects(layout.curatedPrefix) },
    { Sid: 'RemoveStaleOutputs', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: [...objects(layout.curatedPrefix), ...objects(layout.errorsPrefix)] },
    // The unit leases (compaction/commit/lease.ts): taken, renewed and released with conditional writes.
    { Sid: 'UnitLeases', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: options.tables.map((t) => `${bucketArn}/${root}_leases/${t}/*`) },
  ];
  if (options.sse?.mode === 'aws:kms') {
    if (!options.sse.kmsKeyId && !options.kmsKeyArn) {
      throw new ClicklakeError('kms_key_required', 'sse mode aws:kms needs "kmsKeyId" (the key ARN or id) to grant kms:GenerateDataKey and kms:Decrypt on it', {});
    }
    statements.push({
      Sid: 'UseLakeKmsKey',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: [options.kmsKeyArn ?? kmsKeyArn(options.sse.kmsKeyId!, partition, region, account)],
    });
  }
  const glue = `arn:${partition}:glue:${region}:${account}`;
  const database = options.database.toLowerCase();
  statements.push({
    Sid: 'ReadCuratedTableDefinition',
    Effect: 'Allow',
    Action: ['glue:GetTable'],
    Resource: [`${glue}:catalog`, `${glue}:database/${database}`, ...options.tables.map((t) => `${glue}:table/${database}/${t}`)],
  });
  return { Version: '2012-10-17', Statement: statements };
}
