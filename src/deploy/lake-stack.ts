/** The primary stack: storage, ingestion, compaction, catalog and monitoring of one lake. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Settings } from '../config/settings.js';
import type { TableSpec } from '../schema/types.js';
import { Catalog } from './catalog.js';
import { Compaction } from './compaction.js';
import type { DeploySettings } from './config.js';
import type { ViewColumn } from '../query/view-columns.js';
import { Backfill } from './backfill.js';
import { BrowserIngestion } from './browser-ingestion.js';
import { Ingestion } from './ingestion.js';
import { Monitoring } from './monitoring.js';
import { QuickSightDatasets } from './quicksight.js';
import { LakeStorage } from './storage.js';

export interface LakeStackInputs {
  settings: Settings;
  deploy: DeploySettings;
  specs: TableSpec[];
  /** The table the collection endpoint feeds (the click events). */
  ingestTable: string;
  lambdaCodeDir: string;
  /** Columns of each curated view; needed when deploy.quicksight is on. */
  viewColumns?: Map<string, ViewColumn[]>;
}

export class LakeStack extends Stack {
  readonly storage: LakeStorage;
  readonly ingestion: Ingestion;
  readonly compactions: Compaction[];
  readonly backfills: Backfill[];
  readonly catalog: Catalog;
  readonly monitoring: Monitoring;
  readonly browserIngestion?: BrowserIngestion;
  readonly quicksight?: QuickSightDatasets;

  constructor(scope: Construct, id: string, inputs: LakeStackInputs, props: StackProps) {
    super(scope, id, props);
    const { settings, deploy, specs } = inputs;
    this.storage = new LakeStorage(this, 'Storage', settings, deploy);
    const bucketName = this.storage.bucketName;
    const ingestSpec = specs.find((s) => s.name === inputs.ingestTable) ?? specs[0]!;
    this.ingestion = new Ingestion(this, 'Ingestion', { settings, deploy, spec: ingestSpec, bucket: this.storage.bucket, key: this.storage.key });
    this.compactions = specs.map((spec) => new Compaction(this, specs.length === 1 ? 'Compaction' : `Compaction-${spec.name}`, { settings, deploy, spec, bucketName, key: this.storage.key, codeDir: inputs.lambdaCodeDir }));
    this.backfills = specs.map((spec, i) => new Backfill(this, specs.length === 1 ? 'Backfill' : `Backfill-${spec.name}`, { deploy, table: spec.name, fn: this.compactions[i]!.backfillFn }));
    this.catalog = new Catalog(this, 'Catalog', { settings, deploy, specs, bucketName, key: this.storage.key, logs: this.storage.logs });
    const ingestCompaction = this.compactions[specs.indexOf(ingestSpec)]!;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      deploy,
      table: ingestSpec.name,
      api: this.ingestion.api,
      streamName: this.ingestion.streamName,
      fn: ingestCompaction.fn,
      dlq: ingestCompaction.dlq,
      key: this.storage.key,
    });
    if (deploy.cognito) {
      this.browserIngestion = new BrowserIngestion(this, 'BrowserIngestion', { stream: this.ingestion.stream, streamName: this.ingestion.streamName });
      new CfnOutput(this, 'GuestIdentityPoolId', { value: this.browserIngestion.identityPool.ref, description: 'menu pages get guest credentials here and PutRecordBatch straight to the stream' });
      new CfnOutput(this, 'DeliveryStreamName', { value: this.ingestion.streamName, description: 'the Firehose stream guests put record batches on' });
    }
    if (deploy.quicksightPrincipalArn) {
      if (!inputs.viewColumns) throw new Error('LakeStack: deploy.quicksight needs the views\' columns (viewColumns)');
      this.quicksight = new QuickSightDatasets(this, 'QuickSight', { workgroup: this.catalog.workgroup, database: settings.database, principalArn: deploy.quicksightPrincipalArn, views: inputs.viewColumns });
    }
    new CfnOutput(this, 'EventsEndpoint', { value: `${this.ingestion.api.url}events`, description: 'POST the click events here (the tracker\'s data-endpoint)' });
    new CfnOutput(this, 'LakeUri', { value: `s3://${bucketName}${settings.prefix ? `/${settings.prefix}` : ''}`, description: 'the lake: set "lake" in clicklake.config.json to this' });
    new CfnOutput(this, 'BackfillStateMachine', { value: this.backfills[specs.indexOf(ingestSpec)]!.stateMachine.stateMachineArn, description: 'clicklake compact --from H --to H --fan-out starts this (found by name by default)' });
    new CfnOutput(this, 'AthenaWorkgroup', { value: this.catalog.workgroup.ref, description: 'set athena.workgroup in clicklake.config.json to this' });
  }
}
