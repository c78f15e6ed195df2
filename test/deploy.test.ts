/**
 * The CDK app synthesized offline (no AWS account, no network) and every property the deploy
 * contract names asserted on the templates with aws-cdk-lib/assertions; the shared artifacts
 * compared with the CLI's own output (iam-policy, catalog table-input, the request model); cdk-nag
 * findings; cfn-lint over the templates; and API Gateway's mapping templates rendered with a
 * Velocity engine.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import velocity from 'velocityjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClicklakeConfig } from '../src/config/schema.js';
import { validateConfig } from '../src/config/load.js';
import { resolveSettings } from '../src/config/settings.js';
import { backfillDefinition } from '../src/compaction/fanout/definition.js';
import { buildDeployApp, type DeployApp } from '../src/deploy/app.js';
import { acceptedTemplate, putRecordTemplate } from '../src/ingest/mapping-templates.js';
import { requestModel } from '../src/ingest/request-model.js';
import { firehosePrefixes, DEFAULT_LAYOUT } from '../src/partitions/layout.js';
import { loadViews } from '../src/query/views.js';
import { loadTable } from '../src/schema/load.js';
import { runCli } from './support/cli.js';

const ACCOUNT = '123456789012';
const CONFIG: ClicklakeConfig = {
  lake: 's3://acme-clicks/prod',
  deploy: {
    region: 'us-east-1',
    backupRegion: 'eu-west-1',
    bucketName: 'acme-clicks',
    allowedOrigins: ['https://menu.example.com'],
    alarmEmail: 'ops@example.com',
    throttle: { rateLimit: 200, burstLimit: 400 },
    firehose: { bufferIntervalSeconds: 120, bufferSizeMiB: 32 },
    retention: { rawDays: 60, errorsDays: 30 },
    athenaScanCutoffBytes: 5 * 1024 ** 3,
  },
};

let work: string;
let built: DeployApp;
let assembly: CloudAssembly;
let lake: Template;
let backup: Template;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clicklake-deploy-'));
  built = await buildDeployApp({ config: CONFIG, settings: resolveSettings(CONFIG), outdir: path.join(work, 'cdk.out'), account: ACCOUNT });
  assembly = built.app.synth();
  lake = Template.fromStack(built.lake);
  backup = Template.fromStack(built.backup);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Resolves Ref / Fn::Join of pseudo parameters the way CloudFormation would in this account. */
function resolve(value: unknown): unknown {
  const pseudo: Record<string, string> = { 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::URLSuffix': 'amazonaws.com' };
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['Ref'] === 'string' && pseudo[o['Ref']]) return pseudo[o['Ref']];
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      const resolved = parts.map(resolve);
      return resolved.every((p) => typeof p === 'string') ? resolved.join(sep) : { 'Fn::Join': [sep, resolved] };
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

function only(template: Template, type: string, props: Record<string, unknown> = {}): Record<string, unknown> {
  const found = template.findResources(type, props);
  const values = Object.values(found);
  expect(values, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return (values[0] as { Properties: Record<string, unknown> }).Properties;
}

const lakeBucket = () => only(lake, 'AWS::S3::Bucket', { Properties: { BucketName: 'acme-clicks' } });

describe('deploy synth: the lake and its backup', () => {
  it('writes one template per stack and the manifest, in the Regions of the config', async () => {
    const out = path.join(work, 'cdk.out');
    expect(existsSync(path.join(out, 'ClicklakeLake.template.json'))).toBe(true);
    expect(existsSync(path.join(out, 'ClicklakeBackup.template.json'))).toBe(true);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { environment?: string }> };
    expect(manifest.artifacts['ClicklakeLake']!.environment).toBe(`aws://${ACCOUNT}/us-east-1`);
    expect(manifest.artifacts['ClicklakeBackup']!.environment).toBe(`aws://${ACCOUNT}/eu-west-1`);
  });

  it('encrypts the lake with its own rotating key and a bucket key, versions it, blocks public access, logs access', () => {
    lake.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const b = lakeBucket();
    expect(b['BucketEncryption']).toMatchObject({ ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: expect.anything() } }] });
    expect(b['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    expect(b['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b['LoggingConfiguration']).toMatchObject({ DestinationBucketName: expect.anything(), LogFilePrefix: 'lake/' });
  });

  it('denies every request without TLS, on every bucket of both stacks', () => {
    for (const template of [lake, backup]) {
      const buckets = Object.keys(template.findResources('AWS::S3::Bucket'));
      const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as Array<{ Properties: { Bucket: { Ref: string }; PolicyDocument: { Statement: Array<Record<string, unknown>> } } }>;
      for (const bucket of buckets) {
        const policy = policies.find((p) => p.Properties.Bucket.Ref === bucket);
        expect(policy, bucket).toBeDefined();
        expect(policy!.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      }
    }
  });

  it('has lifecycle rules per zone: raw expires, curated goes to Intelligent-Tiering (over 128 KB), errors expire, old versions expire, uploads abort', () => {
    const rules = (lakeBucket()['LifecycleConfiguration'] as { Rules: Array<Record<string, unknown>> }).Rules;
    const rule = (id: string) => rules.find((r) => r['Id'] === id);
    expect(rule('raw-expires')).toMatchObject({ Prefix: 'prod/raw/', ExpirationInDays: 60, Status: 'Enabled' });
    expect(rule('curated-intelligent-tiering')).toMatchObject({ Prefix: 'prod/curated/', Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 }] });
    expect(Number(rule('curated-intelligent-tiering')!['ObjectSizeGreaterThan'])).toBe(131072);
    expect(rule('errors-expire')).toMatchObject({ Prefix: 'prod/errors/', ExpirationInDays: 30 });
    expect(rule('noncurrent-versions-expire')).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
    expect(rule('incomplete-uploads-abort')).toMatchObject({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
  });

  it('replicates every zone, KMS objects included, to the backup bucket and key in the other Region, through a role made for it', () => {
    const replication = resolve(lakeBucket()['ReplicationConfiguration']) as { Role: unknown; Rules: Array<Record<string, unknown>> };
    expect(replication.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Filter: { Prefix: '' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        Destination: { Bucket: `arn:aws:s3:::clicklake-backup-${ACCOUNT}-eu-west-1`, StorageClass: 'STANDARD_IA', EncryptionConfiguration: { ReplicaKmsKeyID: `arn:aws:kms:eu-west-1:${ACCOUNT}:alias/clicklake-backup` } },
      }),
    ]);
    const roleId = (replication.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = lake.toJSON().Resources[roleId].Properties as { AssumeRolePolicyDocument: { Statement: Array<{ Principal: unknown }> }; Policies: Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }> };
    expect(role.AssumeRolePolicyDocument.Statement[0]!.Principal).toEqual({ Service: 's3.amazonaws.com' });
    const actions = role.Policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => [s.Action].flat())).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 's3:GetObjectVersionAcl', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging', 's3:GetReplicationConfiguration', 's3:ListBucket', 's3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags']);
    backup.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    backup.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/clicklake-backup' });
    const b = only(backup, 'AWS::S3::Bucket');
    expect(resolve(b['BucketName'])).toBe(`clicklake-backup-${ACCOUNT}-eu-west-1`);
    expect(b['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    expect(b['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  });
});

describe('deploy synth: ingestion', () => {
  it('delivers with Firehose to exactly the raw layout compaction reads, GZIP, a newline per record, the lake key, logging', () => {
    const s = only(lake, 'AWS::KinesisFirehose::DeliveryStream');
    expect(s['DeliveryStreamType']).toBe('DirectPut');
    const d = s['ExtendedS3DestinationConfiguration'] as Record<string, unknown>;
    const layout = firehosePrefixes(DEFAULT_LAYOUT, 'click_events');
    expect(d['Prefix']).toBe(`prod/${layout.prefix}`);
    expect(d['Prefix']).toBe('prod/raw/click_events/!{timestamp:yyyy/MM/dd/HH}/');
    expect(d['ErrorOutputPrefix']).toBe(`prod/${layout.errorOutputPrefix}`);
    expect(String(d['ErrorOutputPrefix'])).toContain('!{firehose:error-output-type}');
    expect(d['BufferingHints']).toEqual({ IntervalInSeconds: 120, SizeInMBs: 32 });
    expect(d['CompressionFormat']).toBe('GZIP');
    expect(d['ProcessingConfiguration']).toEqual({ Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord', Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }] }] });
    expect(d['EncryptionConfiguration']).toMatchObject({ KMSEncryptionConfig: { AWSKMSKeyARN: expect.anything() } });
    expect(d['CloudWatchLoggingOptions']).toMatchObject({ Enabled: true });
  });

  it('validates POST /events with the generated draft-4 model and integrates straight with Firehose PutRecord', async () => {
    const spec = await loadTable('click_events');
    expect(only(lake, 'AWS::ApiGateway::Model')['Schema']).toEqual(requestModel(spec).model);
    lake.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    const validatorId = Object.keys(lake.findResources('AWS::ApiGateway::RequestValidator', { Properties: { ValidateRequestBody: true } }));
    expect(validatorId).toHaveLength(1);
    const post = only(lake, 'AWS::ApiGateway::Method', { Properties: { HttpMethod: 'POST' } });
    expect(post['RequestValidatorId']).toEqual({ Ref: validatorId[0] });
    expect(Object.keys(post['RequestModels'] as object).sort()).toEqual(['application/json', 'text/plain']);
    const integration = resolve(post['Integration']) as Record<string, unknown>;
    expect(integration).toMatchObject({ Type: 'AWS', IntegrationHttpMethod: 'POST', PassthroughBehavior: 'NEVER', Uri: 'arn:aws:apigateway:us-east-1:firehose:action/PutRecord' });
    expect(integration['RequestTemplates']).toEqual({ 'application/json': putRecordTemplate('clicklake-click_events'), 'text/plain': putRecordTemplate('clicklake-click_events') });
    expect(lake.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })).toEqual({});
  });

  it('answers CORS preflights for the allowed origins, throttles the stage, logs access, and maps the error answers', () => {
    const options = only(lake, 'AWS::ApiGateway::Method', { Properties: { HttpMethod: 'OPTIONS' } });
    const headers = ((options['Integration'] as { IntegrationResponses: Array<{ ResponseParameters: Record<string, string> }> }).IntegrationResponses[0]!).ResponseParameters;
    expect(headers['method.response.header.Access-Control-Allow-Origin']).toBe("'https://menu.example.com'");
    expect(headers['method.response.header.Access-Control-Allow-Methods']).toMatch(/POST/);
    const stage = only(lake, 'AWS::ApiGateway::Stage');
    expect(stage['MethodSettings']).toEqual([expect.objectContaining({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400, HttpMethod: '*', ResourcePath: '/*' })]);
    expect(stage['AccessLogSetting']).toMatchObject({ DestinationArn: expect.anything() });
    const answers = Object.values(lake.findResources('AWS::ApiGateway::GatewayResponse')).map((r) => (r as { Properties: { ResponseType: string; StatusCode: string } }).Properties);
    expect(answers.map((a) => [a.ResponseType, a.StatusCode]).sort()).toEqual([['BAD_REQUEST_BODY', '400'], ['DEFAULT_5XX', '503'], ['REQUEST_TOO_LARGE', '413'], ['THROTTLED', '429'], ['UNSUPPORTED_MEDIA_TYPE', '415']]);
  });

  it("the mapping template, rendered by a Velocity engine with API Gateway's $input and $util, makes ONE record whose data is the body byte for byte", async () => {
    const bodies = [
      JSON.stringify({ event_id: 'a', item_name: 'Phở bò "special" \\ 焼き', event_type: 'item_view' }),
      JSON.stringify([{ event_id: 'b' }, { event_id: 'c', section: 'Desserts\n' }], null, 2),
    ];
    for (const body of bodies) {
      const rendered = velocity.render(putRecordTemplate('clicklake-click_events'), {
        input: { body, json: (p: string) => (p === '$' ? body : ''), path: () => JSON.parse(body) as unknown },
        util: { base64Encode: (s: string) => Buffer.from(s, 'utf8').toString('base64') },
      });
      const request = JSON.parse(rendered) as { DeliveryStreamName: string; Record: { Data: string } };
      expect(request.DeliveryStreamName).toBe('clicklake-click_events');
      expect(Buffer.from(request.Record.Data, 'base64').toString('utf8')).toBe(body);
    }
    const headers = { Origin: 'https://menu.example.com' };
    const context = { responseOverride: { header: {} as Record<string, string> } };
    const answer = velocity.render(acceptedTemplate(['https://menu.example.com', 'https://other.example.com']), {
      input: { params: () => ({ header: { get: (name: string) => headers[name as 'Origin'] } }), path: () => 'rec-1' },
      context,
    });
    expect(JSON.parse(answer)).toEqual({ accepted: true, recordId: 'rec-1' });
    expect(context.responseOverride.header['Access-Control-Allow-Origin']).toBe('https://menu.example.com');
  });
});

describe('deploy synth: compaction, catalog, monitoring', () => {
  it('runs the compaction Lambda on arm64 / nodejs22.x with the advised memory, timeout and storage, one at a time, on the schedule, failures to a DLQ', () => {
    const fn = only(lake, 'AWS::Lambda::Function', { Properties: { Handler: 'index.handler', ReservedConcurrentExecutions: 1 } });
    expect(fn).toMatchObject({ Architectures: ['arm64'], Runtime: 'nodejs22.x', MemorySize: 3538, Timeout: 900, ReservedConcurrentExecutions: 1, EphemeralStorage: { Size: 4096 } });
    expect((fn['DeadLetterConfig'] as { TargetArn: unknown }).TargetArn).toBeDefined();
    expect(resolve((fn['Environment'] as { Variables: Record<string, unknown> }).Variables)).toMatchObject({ CLICKLAKE_LAKE: 's3://acme-clicks/prod', CLICKLAKE_TABLE: 'click_events', CLICKLAKE_SSE: 'aws:kms' });
    lake.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    lake.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED' });
    lake.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it("gives the Lambda exactly the policy `clicklake iam-policy` prints, plus its log group", async () => {
    await writeFile(path.join(work, 'clicklake.config.json'), JSON.stringify({ lake: 's3://acme-clicks/prod', sse: { mode: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/the-lake-key' } }));
    const printed = await runCli(['iam-policy', '--region', 'us-east-1', '--account', ACCOUNT], work);
    expect(printed.code, printed.stderr).toBe(0);
    const expected = JSON.parse(printed.stdout) as { Statement: Array<{ Sid: string; Resource: unknown }> };
    const fn = only(lake, 'AWS::Lambda::Function', { Properties: { Handler: 'index.handler', ReservedConcurrentExecutions: 1 } });
    const roleId = (fn['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const role = lake.toJSON().Resources[roleId].Properties as { Policies: Array<{ PolicyName: string; PolicyDocument: { Statement: Array<{ Sid: string; Resource: unknown }> } }> };
    const deployed = resolve(role.Policies.find((p) => p.PolicyName === 'compaction')!.PolicyDocument) as { Statement: Array<{ Sid: string; Resource: unknown }> };
    const kms = deployed.Statement.find((s) => s.Sid === 'UseLakeKmsKey')!;
    expect(kms.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StorageLakeKey/), 'Arn'] });
    // CloudFormation's IAM takes a one-item list and the item alike; CDK writes the item.
    const one = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);
    const withoutKey = (doc: { Statement: Array<{ Sid: string; Resource: unknown; Action?: unknown }> }) =>
      doc.Statement.map((s) => ({ ...s, Action: one(s.Action), Resource: s.Sid === 'UseLakeKmsKey' ? 'the lake key' : one(s.Resource) }));
    expect(withoutKey(deployed)).toEqual(withoutKey(expected));
    expect(role.Policies.map((p) => p.PolicyName).sort()).toEqual(['compaction', 'logs']);
  });

  it('creates the Glue tables with exactly the TableInputs `clicklake catalog table-input` prints, and a limited Athena workgroup', async () => {
    const printed = await runCli(['catalog', 'table-input', '--bucket', 'acme-clicks', '--prefix', 'prod'], work);
    expect(printed.code, printed.stderr).toBe(0);
    const expected = JSON.parse(printed.stdout) as Array<{ Name: string }>;
    const tables = Object.values(lake.findResources('AWS::Glue::Table')).map((t) => (t as { Properties: { TableInput: { Name: string }; DatabaseName: string } }).Properties);
    expect(tables.map((t) => t.TableInput).sort((a, b) => a.Name.localeCompare(b.Name))).toEqual([...expected].sort((a, b) => a.Name.localeCompare(b.Name)));
    expect(new Set(tables.map((t) => t.DatabaseName))).toEqual(new Set(['clicklake']));
    lake.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'clicklake' } });
    lake.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'clicklake',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 5 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }) }),
      }),
    });
  });

  it('fans backfills out with a Distributed Map over the backfill function: the same definition the tests run, the configured concurrency, a role for just that', () => {
    const scheduled = only(lake, 'AWS::Lambda::Function', { Properties: { Handler: 'index.handler', ReservedConcurrentExecutions: 1 } });
    const functions = Object.entries(lake.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    expect(functions).toHaveLength(2);
    const [backfillId, backfillFn] = functions.find(([, r]) => (r as { Properties: Record<string, unknown> }).Properties['ReservedConcurrentExecutions'] === undefined)! as [string, { Properties: Record<string, unknown> }];
    // Same code, role, memory and environment as the scheduled function; no schedule targets it.
    for (const k of ['Code', 'Role', 'MemorySize', 'Timeout', 'Architectures', 'Runtime', 'Environment', 'EphemeralStorage']) expect(backfillFn.Properties[k]).toEqual(scheduled[k]);
    const rules = Object.values(lake.findResources('AWS::Events::Rule')).flatMap((r) => ((r as { Properties: { Targets?: Array<{ Arn: unknown }> } }).Properties.Targets ?? []).map((t) => JSON.stringify(t.Arn)));
    expect(rules.some((arn) => arn.includes(backfillId))).toBe(false);

    const machine = only(lake, 'AWS::StepFunctions::StateMachine');
    expect(machine).toMatchObject({ StateMachineName: 'clicklake-backfill-click_events', StateMachineType: 'STANDARD', LoggingConfiguration: { Level: 'ALL' } });
    expect(machine['DefinitionSubstitutions']).toEqual({ CompactFunctionArn: { 'Fn::GetAtt': [backfillId, 'Arn'] } });
    const definition = JSON.parse(machine['DefinitionString'] as string) as { States: Record<string, { Type: string; MaxConcurrency: number; ItemProcessor: { ProcessorConfig: unknown; States: Record<string, { Parameters?: Record<string, unknown> }> } }> };
    expect(definition).toEqual(backfillDefinition({ maxConcurrency: 50 }));
    const map = definition.States['CompactHours']!;
    expect(map).toMatchObject({ Type: 'Map', MaxConcurrency: 50, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } } });
    expect(map.ItemProcessor.States['Compact']!.Parameters).toEqual({ FunctionName: '${CompactFunctionArn}', 'Payload.$': '$' });

    const roleId = (machine['RoleArn'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const policy = Object.values(lake.findResources('AWS::IAM::Policy')).map((p) => (p as { Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties).find((p) => p.Roles.some((r) => r.Ref === roleId))!;
    const actions = policy.PolicyDocument.Statement.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(['lambda:InvokeFunction', 'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:UpdateLogDelivery', 'states:DescribeExecution', 'states:StartExecution', 'states:StopExecution'].sort());
    const invoke = policy.PolicyDocument.Statement.find((st) => st.Action === 'lambda:InvokeFunction')!;
    expect(JSON.stringify(invoke.Resource)).toContain(backfillId);
    const scheduledId = functions.find(([id]) => id !== backfillId)![0];
    expect(JSON.stringify(invoke.Resource)).not.toContain(scheduledId);
    lake.hasOutput('BackfillStateMachine', {});
  });

  it('alarms on API errors, Firehose freshness and failures, Lambda errors and duration, the DLQ, compaction lag and the rejected share, to the mailed topic', () => {
    const alarms = Object.values(lake.findResources('AWS::CloudWatch::Alarm')).map((a) => (a as { Properties: Record<string, unknown> }).Properties);
    const named = (name: string) => alarms.find((a) => a['AlarmName'] === `clicklake-${name}`);
    expect(named('Api5xxRate')).toMatchObject({ MetricName: '5XXError', Namespace: 'AWS/ApiGateway', Threshold: 0.01 });
    expect(named('Api4xxRate')).toMatchObject({ MetricName: '4XXError' });
    expect(named('FirehoseFreshness')).toMatchObject({ MetricName: 'DeliveryToS3.DataFreshness', Threshold: 120 + 900 });
    expect(named('FirehoseDeliveryFailed')).toMatchObject({ MetricName: 'DeliveryToS3.Success', ComparisonOperator: 'LessThanThreshold' });
    expect(named('CompactionErrors')).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    expect(named('CompactionDurationNearTimeout')).toMatchObject({ MetricName: 'Duration', Threshold: 720_000 });
    expect(named('DeadLetters')).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible' });
    expect(named('CompactionLag')).toMatchObject({ MetricName: 'CompactionLagMinutes', Namespace: 'clicklake', TreatMissingData: 'breaching' });
    expect(named('RejectedShare')!['Metrics']).toBeDefined();
    for (const a of alarms) expect((a['AlarmActions'] as unknown[]).length).toBe(1);
    lake.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    lake.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('deploy synth: checks', () => {
  it("cdk-nag's AwsSolutions pack reports nothing unacknowledged", () => {
    const findings = assembly.stacks.flatMap((s) => s.messages.filter((m) => m.level !== 'info' && String(m.entry.data).includes('AwsSolutions-')).map((m) => `${s.stackName} ${m.id}: ${String(m.entry.data).split('\n')[0]}`));
    expect(findings).toEqual([]);
  });

  const cfnLint = 'cfn-lint';
  it('cfn-lint reports no error on any template', async (ctx) => {
    const which = await promisify(execFile)('sh', ['-c', `command -v ${cfnLint}`]).catch(() => undefined);
    if (!which) {
      console.warn('skipping cfn-lint: not installed (pip install cfn-lint)');
      ctx.skip();
      return;
    }
    const templates = ['ClicklakeLake', 'ClicklakeBackup'].map((s) => path.join(work, 'cdk.out', `${s}.template.json`));
    const result = await promisify(execFile)(cfnLint, ['--format', 'parseable', ...templates]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    // cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    expect(result.code & 2, result.out).toBe(0);
  });

  it('`clicklake deploy synth` writes the templates from the config, with no AWS credentials', async () => {
    await writeFile(path.join(work, 'clicklake.config.json'), JSON.stringify(CONFIG));
    const run = await runCli(['deploy', 'synth', '--out', 'assembly'], work, {});
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/wrote .*assembly\/ClicklakeBackup\.template\.json\nwrote .*assembly\/ClicklakeLake\.template\.json\nwrote .*manifest\.json/);
    const template = JSON.parse(await readFile(path.join(work, 'assembly', 'ClicklakeLake.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::KinesisFirehose::DeliveryStream')).toHaveLength(1);
    const bad = await runCli(['deploy', 'synth', '--config', 'bad.json'], work, {});
    expect(bad.code).toBe(1);
  });
});

describe('deploy synth: the optional Cognito ingestion and QuickSight datasets', () => {
  const PRINCIPAL = `arn:aws:quicksight:us-east-1:${ACCOUNT}:group/default/analysts`;
  const OPTIONAL: ClicklakeConfig = { ...CONFIG, deploy: { ...CONFIG.deploy, cognito: { enabled: true }, quicksight: { enabled: true, principalArn: PRINCIPAL }, backfill: { maxConcurrency: 7 } } };
  let optional: DeployApp;
  let template: Template;
  let optionalAssembly: CloudAssembly;
  beforeAll(async () => {
    optional = await buildDeployApp({ config: OPTIONAL, settings: resolveSettings(OPTIONAL), outdir: path.join(work, 'cdk.out.optional'), account: ACCOUNT });
    optionalAssembly = optional.app.synth();
    template = Template.fromStack(optional.lake);
  }, 120_000);

  it('takes the fan-out concurrency from deploy.backfill.maxConcurrency', () => {
    const definition = JSON.parse(only(template, 'AWS::StepFunctions::StateMachine')['DefinitionString'] as string) as unknown;
    expect(definition).toEqual(backfillDefinition({ maxConcurrency: 7 }));
  });

  it('are off by default', () => {
    for (const type of ['AWS::Cognito::IdentityPool', 'AWS::QuickSight::DataSource', 'AWS::QuickSight::DataSet']) expect(Object.keys(lake.findResources(type))).toEqual([]);
  });

  it('lets Cognito guests do exactly one thing: PutRecordBatch on the click stream', () => {
    const poolId = Object.keys(template.findResources('AWS::Cognito::IdentityPool'))[0]!;
    expect(only(template, 'AWS::Cognito::IdentityPool')).toMatchObject({ AllowUnauthenticatedIdentities: true, AllowClassicFlow: false });
    const streamId = Object.keys(template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0]!;
    const guest = only(template, 'AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRoleWithWebIdentity' })] } } });
    expect(guest['AssumeRolePolicyDocument']).toMatchObject({
      Statement: [{ Effect: 'Allow', Principal: { Federated: 'cognito-identity.amazonaws.com' }, Condition: { StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: poolId } }, 'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'unauthenticated' } } }],
    });
    const policies = guest['Policies'] as Array<{ PolicyDocument: { Statement: unknown[] } }>;
    expect(policies.flatMap((p) => p.PolicyDocument.Statement)).toEqual([{ Effect: 'Allow', Action: 'firehose:PutRecordBatch', Resource: { 'Fn::GetAtt': [streamId, 'Arn'] } }]);
    expect(guest['ManagedPolicyArns']).toBeUndefined();
    const guestId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Action: 'sts:AssumeRoleWithWebIdentity' })] } } }))[0]!;
    expect(only(template, 'AWS::Cognito::IdentityPoolRoleAttachment')).toEqual({ IdentityPoolId: { Ref: poolId }, Roles: { unauthenticated: { 'Fn::GetAtt': [guestId, 'Arn'] } } });
    template.hasOutput('GuestIdentityPoolId', { Value: { Ref: poolId } });
  });

  it('adds a QuickSight Athena source on the clicklake workgroup and one direct-query dataset per curated view, with the view\'s columns', async () => {
    const workgroupId = Object.keys(template.findResources('AWS::Athena::WorkGroup'))[0]!;
    const source = only(template, 'AWS::QuickSight::DataSource');
    expect(source).toMatchObject({ Type: 'ATHENA', AwsAccountId: { Ref: 'AWS::AccountId' }, DataSourceParameters: { AthenaParameters: { WorkGroup: { Ref: workgroupId } } } });
    expect((source['Permissions'] as Array<{ Principal: string }>).map((p) => p.Principal)).toEqual([PRINCIPAL]);
    const datasets = Object.values(template.findResources('AWS::QuickSight::DataSet')).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
    const views = (await loadViews()).map((v) => v.name);
    expect(datasets.map((d) => (Object.values(d['PhysicalTableMap'] as object)[0] as { RelationalTable: { Name: string } }).RelationalTable.Name).sort()).toEqual([...views].sort());
    for (const d of datasets) {
      expect(d).toMatchObject({ ImportMode: 'DIRECT_QUERY', Permissions: [{ Principal: PRINCIPAL }] });
      for (const key of Object.keys(d['PhysicalTableMap'] as object)) expect(key).toMatch(/^[0-9a-zA-Z-]{1,64}$/);
    }
    // item_conversion.sql selects these, in this order (counts are bigint, the rate a double).
    const conversion = datasets.map((d) => Object.values(d['PhysicalTableMap'] as object)[0] as { RelationalTable: { Name: string; Schema: string; Catalog: string; InputColumns: unknown[] } }).find((t) => t.RelationalTable.Name === 'item_conversion')!;
    expect(conversion.RelationalTable).toMatchObject({ Catalog: 'AwsDataCatalog', Schema: 'clicklake' });
    expect(conversion.RelationalTable.InputColumns).toEqual([
      { Name: 'restaurant_id', Type: 'STRING' },
      { Name: 'dt', Type: 'STRING' },
      { Name: 'item_id', Type: 'STRING' },
      { Name: 'item_name', Type: 'STRING' },
      { Name: 'views', Type: 'INTEGER' },
      { Name: 'order_clicks', Type: 'INTEGER' },
      { Name: 'conversion_rate', Type: 'DECIMAL' },
    ]);
  });

  it('passes cdk-nag and cfn-lint with them on', async (ctx) => {
    const findings = optionalAssembly.stacks.flatMap((s) => s.messages.filter((m) => m.level !== 'info' && String(m.entry.data).includes('AwsSolutions-')).map((m) => `${s.stackName} ${m.id}: ${String(m.entry.data).split('\n')[0]}`));
    expect(findings).toEqual([]);
    const which = await promisify(execFile)('sh', ['-c', 'command -v cfn-lint']).catch(() => undefined);
    if (!which) {
      console.warn('skipping cfn-lint: not installed (pip install cfn-lint)');
      ctx.skip();
      return;
    }
    const result = await promisify(execFile)('cfn-lint', ['--format', 'parseable', path.join(work, 'cdk.out.optional', 'ClicklakeLake.template.json')]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.code & 2, result.out).toBe(0);
  });

  it('refuses QuickSight without the principal to share with, naming the setting', () => {
    expect(() => validateConfig({ deploy: { quicksight: { enabled: true } } }, 'clicklake.config.json')).toThrow(/deploy\/quicksight\/principalArn/);
  });
});
