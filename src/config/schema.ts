/**
 * The shape of `clicklake.config.json` (a JSON Schema Ajv validates strictly) and its TypeScript
 * type. AWS region, credentials and endpoints are deliberately absent: the AWS SDK reads them
 * (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_GLUE, ...).
 */

import { LAMBDA_LIMITS } from '../base/lambda-limits.js';

/** Compression codecs Athena reads in Parquet and DuckDB writes. */
export type ParquetCompression = 'ZSTD' | 'SNAPPY';

/** `clicklake.config.json` as written (every field optional; defaults come from resolveSettings). */
export interface ClicklakeConfig {
  /** Optional editor hint, ignored. */
  $schema?: string;
  /** Lake root: `s3://bucket[/prefix]` or `file://dir`. */
  lake?: string;
  /** S3 bucket the Glue tables point at. Default: the bucket of an s3:// lake. */
  bucket?: string;
  /** Key prefix of the lake inside the bucket. Default: the prefix of an s3:// lake. */
  prefix?: string;
  /** Zone prefixes under the lake root. */
  layout?: { raw?: string; curated?: string; errors?: string; manifests?: string };
  /** Glue database. Default `clicklake`. */
  database?: string;
  athena?: {
    /** Default `primary`. */
    workgroup?: string;
    /** `s3://...` for query results; default: the workgroup's own setting. */
    outputLocation?: string;
  };
  /** Server-side encryption of everything clicklake writes. */
  sse?: { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId: string };
  compaction?: {
    /** Minutes after an arrival hour's end before it is compacted. Default 20. */
    graceMinutes?: number;
    /** Hours back the scheduler re-checks for late objects. Default 48. */
    lookbackHours?: number;
    /** Largest accepted distance between event_time and arrival hour. Default 168 (7 days). */
    maxSkewHours?: number;
    /** Lifetime of a unit's lease, renewed while the unit runs (one run per unit at a time). Default 600. */
    leaseSeconds?: number;
    /** Default ZSTD. */
    compression?: ParquetCompression;
    /** Rows per Parquet row group; default: the writer's own. */
    rowGroupRows?: number;
  };
  /** Directory of `*.schema.json`; relative to the config file. Default: the schemas clicklake ships. */
  schemasDir?: string;
  /** Directory of the curated views' `*.sql`; relative to the config file. Default: the views clicklake ships. */
  viewsDir?: string;
  /** Athena partition projection on the Glue tables. Default true; false: register partitions with `clicklake partitions sync`. */
  projection?: boolean;
  /** The AWS system `clicklake deploy synth` builds (src/deploy/); defaults in src/deploy/config.ts. */
  deploy?: DeployConfig;
}

/** `deploy` section of the config. */
export interface DeployConfig {
  /** Primary Region (lake, ingestion, compaction, catalog). */
  region?: string;
  /** Region of the backup bucket the lake replicates to; must differ from `region`. */
  backupRegion?: string;
  /** Lake bucket name; default `clicklake-lake-<account>-<region>`. */
  bucketName?: string;
  /** Origins of the menu site(s) allowed to post events from the browser. */
  allowedOrigins?: string[];
  /** Where the alarms are mailed. */
  alarmEmail?: string;
  /** API Gateway stage throttling. */
  throttle?: { rateLimit?: number; burstLimit?: number };
  /** Firehose buffering hints. */
  firehose?: { bufferIntervalSeconds?: number; bufferSizeMiB?: number };
  /** Days before objects expire, per zone; noncurrent versions after `noncurrentDays`. */
  retention?: { rawDays?: number; errorsDays?: number; noncurrentDays?: number; athenaResultsDays?: number };
  /** Storage class of the replicas in the backup Region. */
  replicaStorageClass?: 'STANDARD' | 'STANDARD_IA' | 'GLACIER_IR';
  lambda?: { memoryMb?: number; ephemeralStorageMb?: number; timeoutSeconds?: number; schedule?: string; logRetentionDays?: number };
  /** Athena workgroup's per-query scan cutoff in bytes. */
  athenaScanCutoffBytes?: number;
  /** The endpoint on the customer's own name. */
  domain?: { name: string; certificateArn: string };
  /** Step Functions fan-out for backfills. */
  backfill?: { maxConcurrency?: number };
  /**
   * Off by default. A Cognito identity pool whose guests may only PutRecordBatch on the stream:
   * menu pages send straight to Firehose, and the bill has no API Gateway line.
   */
  cognito?: { enabled: boolean };
  /** Off by default. A QuickSight Athena data source and one dataset per curated view, shared with `principalArn`. */
  quicksight?: { enabled: boolean; principalArn?: string };
}

const prefixSchema = { type: 'string', pattern: '^[^/](.*[^/])?$' } as const;

/** JSON Schema (draft-07) of the config file. */
export const CONFIG_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    lake: { type: 'string', pattern: '^(s3://[^/]+(/.*)?|file://.+)$' },
    bucket: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$' },
    prefix: { type: 'string', pattern: '^[^/](.*[^/])?$' },
    layout: {
      type: 'object',
      additionalProperties: false,
      properties: { raw: prefixSchema, curated: prefixSchema, errors: prefixSchema, manifests: prefixSchema },
    },
    database: { type: 'string', pattern: '^[a-z0-9_]{1,255}$' },
    athena: {
      type: 'object',
      additionalProperties: false,
      properties: {
        workgroup: { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,128}$' },
        outputLocation: { type: 'string', pattern: '^s3://[^/]+(/.*)?$' },
      },
    },
    sse: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: { type: 'string', enum: ['AES256', 'aws:kms'] },
        kmsKeyId: { type: 'string', minLength: 1 },
      },
      if: { properties: { mode: { const: 'aws:kms' } } },
      then: { properties: { kmsKeyId: { type: 'string' } }, required: ['kmsKeyId'] },
      else: { not: { properties: { kmsKeyId: { type: 'string' } }, required: ['kmsKeyId'] } },
    },
    compaction: {
      type: 'object',
      additionalProperties: false,
      properties: {
        graceMinutes: { type: 'integer', minimum: 0, maximum: 1440 },
        lookbackHours: { type: 'integer', minimum: 1, maximum: 8760 },
        maxSkewHours: { type: 'integer', minimum: 1, maximum: 87600 },
        leaseSeconds: { type: 'integer', minimum: 30, maximum: 86400 },
        compression: { type: 'string', enum: ['ZSTD', 'SNAPPY'] },
        rowGroupRows: { type: 'integer', minimum: 1000, maximum: 100000000 },
      },
    },
    schemasDir: { type: 'string', minLength: 1 },
    viewsDir: { type: 'string', minLength: 1 },
    projection: { type: 'boolean' },
    deploy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' },
        backupRegion: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' },
        bucketName: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
        allowedOrigins: { type: 'array', items: { type: 'string', pattern: '^(\\*|https?://[^/\\s]+)$' } },
        alarmEmail: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
        throttle: {
          type: 'object',
          additionalProperties: false,
          properties: { rateLimit: { type: 'number', minimum: 1, maximum: 100000 }, burstLimit: { type: 'integer', minimum: 1, maximum: 100000 } },
        },
        firehose: {
          type: 'object',
          additionalProperties: false,
          properties: { bufferIntervalSeconds: { type: 'integer', minimum: 0, maximum: 900 }, bufferSizeMiB: { type: 'integer', minimum: 1, maximum: 128 } },
        },
        retention: {
          type: 'object',
          additionalProperties: false,
          properties: {
            rawDays: { type: 'integer', minimum: 1, maximum: 36500 },
            errorsDays: { type: 'integer', minimum: 1, maximum: 36500 },
            noncurrentDays: { type: 'integer', minimum: 1, maximum: 36500 },
            athenaResultsDays: { type: 'integer', minimum: 1, maximum: 36500 },
          },
        },
        replicaStorageClass: { type: 'string', enum: ['STANDARD', 'STANDARD_IA', 'GLACIER_IR'] },
        lambda: {
          type: 'object',
          additionalProperties: false,
          properties: {
            memoryMb: { type: 'integer', minimum: LAMBDA_LIMITS.memoryMb.min, maximum: LAMBDA_LIMITS.memoryMb.max },
            ephemeralStorageMb: { type: 'integer', minimum: LAMBDA_LIMITS.ephemeralStorageMb.min, maximum: LAMBDA_LIMITS.ephemeralStorageMb.max },
            timeoutSeconds: { type: 'integer', minimum: 60, maximum: LAMBDA_LIMITS.timeoutSeconds.max },
            schedule: { type: 'string', pattern: '^(rate\\(\\d+ (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$' },
            logRetentionDays: { type: 'integer', enum: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] },
          },
        },
        athenaScanCutoffBytes: { type: 'integer', minimum: 10485760 },
        domain: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'certificateArn'],
          properties: { name: { type: 'string', pattern: '^[a-z0-9.-]+\\.[a-z]{2,}$' }, certificateArn: { type: 'string', pattern: '^arn:aws[a-z-]*:acm:' } },
        },
        backfill: { type: 'object', additionalProperties: false, properties: { maxConcurrency: { type: 'integer', minimum: 1, maximum: 10000 } } },
        cognito: { type: 'object', additionalProperties: false, required: ['enabled'], properties: { enabled: { type: 'boolean' } } },
        quicksight: {
          type: 'object',
          additionalProperties: false,
          required: ['enabled'],
          properties: { enabled: { type: 'boolean' }, principalArn: { type: 'string', pattern: '^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\\d{12}:(user|group)/.+$' } },
          if: { properties: { enabled: { const: true } } },
          then: { properties: { principalArn: { type: 'string' } }, required: ['principalArn'] },
        },
      },
    },
  },
} as const;

/** How to fix a value that fails its pattern, by JSON pointer (without array indexes). */
export const PATTERN_HINTS: Record<string, string> = {
  '/lake': 'write s3://bucket/prefix or file://dir',
  '/bucket': 'an S3 bucket name: 3-63 letters, digits, dots or hyphens',
  '/prefix': 'a key prefix without leading or trailing "/", e.g. "lake/prod"',
  '/layout/raw': 'a key prefix without leading or trailing "/"',
  '/layout/curated': 'a key prefix without leading or trailing "/"',
  '/layout/errors': 'a key prefix without leading or trailing "/"',
  '/layout/manifests': 'a key prefix without leading or trailing "/"',
  '/database': 'lower-case letters, digits and underscores (Glue lowercases names)',
  '/athena/workgroup': 'letters, digits, ".", "_" or "-", up to 128 characters',
  '/athena/outputLocation': 'an S3 URI such as s3://my-athena-results/clicklake/',
  '/deploy/region': 'an AWS Region such as us-east-1',
  '/deploy/backupRegion': 'an AWS Region such as us-west-2, other than deploy.region',
  '/deploy/bucketName': 'an S3 bucket name: 3-63 lower-case letters, digits, dots or hyphens',
  '/deploy/allowedOrigins': 'an origin such as https://menu.example.com (scheme and host, no path), or *',
  '/deploy/alarmEmail': 'an email address such as ops@example.com',
  '/deploy/lambda/schedule': 'an EventBridge expression such as rate(15 minutes) or cron(0/15 * * * ? *)',
  '/deploy/domain/name': 'a host name such as events.example.com',
  '/deploy/domain/certificateArn': 'an ACM certificate ARN (arn:aws:acm:...) in deploy.region',
  '/deploy/quicksight/principalArn': 'a QuickSight user or group ARN such as arn:aws:quicksight:us-east-1:123456789012:user/default/analyst',
};
