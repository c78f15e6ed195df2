/**
 * The compaction Lambda (the `npm run build:lambda -- --arch arm64` bundle) on its schedule:
 * arm64, nodejs22.x, memory / storage / timeout from the config, reserved concurrency 1 so runs
 * never overlap, no async retries and failures to a dead-letter queue, its role exactly the policy
 * `clicklake iam-policy` prints plus its own log group.
 */
import { Aws, Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Settings } from '../config/settings.js';
import { compactionLambdaPolicy, type PolicyDocument } from '../iam/policy.js';
import type { TableSpec } from '../schema/types.js';
import type { DeploySettings } from './config.js';

export interface CompactionProps {
  settings: Settings;
  deploy: DeploySettings;
  spec: TableSpec;
  bucketName: string;
  key: kms.IKey;
  /** The bundle directory (index.mjs, stage-worker.mjs, schemas, DuckDB's binding). */
  codeDir: string;
}

/** The policy `clicklake iam-policy` prints for this deployment (one code path). */
export function compactionPolicyFor(props: Pick<CompactionProps, 'settings' | 'spec' | 'bucketName' | 'key' | 'deploy'>): PolicyDocument {
  return compactionLambdaPolicy({
    bucket: props.bucketName,
    prefix: props.settings.prefix,
    layout: props.settings.layout,
    tables: [props.spec.name],
    database: props.settings.database,
    sse: { mode: 'aws:kms' },
    kmsKeyArn: props.key.keyArn,
    region: props.deploy.region,
    account: Aws.ACCOUNT_ID,
    partition: Aws.PARTITION,
  });
}

export class Compaction extends Construct {
  readonly fn: lambda.Function;
  /**
   * The same code for the backfill fan-out (src/deploy/backfill.ts): no schedule and no reserved
   * concurrency (the state machine's MaxConcurrency bounds it), so backfills never hold up or
   * wait for the scheduled runs. Invoked synchronously, so no DLQ: the state machine reports failures.
   */
  readonly backfillFn: lambda.Function;
  readonly dlq: sqs.Queue;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    const { settings, deploy, spec, key } = props;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: deploy.lambda.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const backfillLogs = new logs.LogGroup(this, 'BackfillLogs', { retention: deploy.lambda.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `clicklake compaction of ${spec.name}`,
      inlinePolicies: {
        compaction: iam.PolicyDocument.fromJson(compactionPolicyFor(props)),
        logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn, backfillLogs.logGroupArn] })],
        }),
      },
    });
    this.dlq = new sqs.Queue(this, 'DeadLetters', { encryptionMasterKey: key, retentionPeriod: Duration.days(14), enforceSSL: true });
    const root = settings.prefix ? `/${settings.prefix}` : '';
    const common = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.codeDir),
      memorySize: deploy.lambda.memoryMb,
      ephemeralStorageSize: Size.mebibytes(deploy.lambda.ephemeralStorageMb),
      timeout: Duration.seconds(deploy.lambda.timeoutSeconds),
      role,
      environment: {
        CLICKLAKE_LAKE: `s3://${props.bucketName}${root}`,
        CLICKLAKE_TABLE: spec.name,
        CLICKLAKE_DATABASE: settings.database,
        CLICKLAKE_GRACE_MINUTES: String(settings.compaction.graceMinutes),
        CLICKLAKE_LOOKBACK_HOURS: String(settings.compaction.lookbackHours),
        CLICKLAKE_MAX_SKEW_HOURS: String(settings.compaction.maxSkewHours),
        CLICKLAKE_COMPRESSION: settings.compaction.compression,
        CLICKLAKE_SSE: 'aws:kms',
        CLICKLAKE_KMS_KEY_ID: key.keyArn,
        NODE_OPTIONS: '--enable-source-maps',
      },
    } satisfies Partial<lambda.FunctionProps>;
    this.fn = new lambda.Function(this, 'Function', {
      ...common,
      description: `clicklake: compact closed Firehose hours of ${spec.name} into Parquet`,
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      deadLetterQueue: this.dlq,
      logGroup: this.logGroup,
    });
    this.backfillFn = new lambda.Function(this, 'BackfillFunction', {
      ...common,
      description: `clicklake: backfill of ${spec.name}, a list of hours per invocation (the backfill state machine)`,
      logGroup: backfillLogs,
    });
    new events.Rule(this, 'Schedule', {
      description: `clicklake: compact ${spec.name} ${deploy.lambda.schedule}`,
      schedule: events.Schedule.expression(deploy.lambda.schedule),
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 0 })],
    });
  }
}
