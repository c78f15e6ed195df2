/**
 * The catalog: the Glue database and, per schema, the raw and curated tables with exactly the
 * TableInput `clicklake catalog table-input` prints (the same function), and an Athena workgroup
 * (engine v3, enforced settings, encrypted results that expire, a per-query scan cutoff).
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tableInputs, type CatalogTarget } from '../catalog/table-input.js';
import type { Settings } from '../config/settings.js';
import type { TableSpec } from '../schema/types.js';
import type { DeploySettings } from './config.js';
import { privateKmsBucket } from './storage.js';

export interface CatalogProps {
  settings: Settings;
  deploy: DeploySettings;
  specs: TableSpec[];
  bucketName: string;
  key: kms.IKey;
  logs: s3.IBucket;
}

/** The deployed workgroup: the config's, unless that is Athena's built-in `primary`. */
export function workgroupName(settings: Settings): string {
  return settings.athena.workgroup === 'primary' ? 'clicklake' : settings.athena.workgroup;
}

export function catalogTargetFor(settings: Settings, bucketName: string): CatalogTarget {
  const target: CatalogTarget = { bucket: bucketName, layout: settings.layout, compression: settings.compaction.compression };
  if (settings.prefix) target.rootPrefix = settings.prefix;
  return target;
}

export class Catalog extends Construct {
  readonly workgroup: athena.CfnWorkGroup;
  readonly results: s3.Bucket;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    const { settings, deploy } = props;
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: settings.database, description: 'clicklake: click events, raw JSON and curated Parquet' },
    });
    const target = catalogTargetFor(settings, props.bucketName);
    for (const spec of props.specs) {
      for (const input of tableInputs(spec, target)) {
        const table = new glue.CfnTable(this, `Table-${input.Name}`, { catalogId: Aws.ACCOUNT_ID, databaseName: settings.database, tableInput: {} });
        // The TableInput exactly as the CLI prints it (Glue's own field names), not re-mapped.
        table.addPropertyOverride('TableInput', input);
        table.addResourceDependency(database);
      }
    }
    this.results = new s3.Bucket(this, 'AthenaResults', {
      ...privateKmsBucket(props.key),
      serverAccessLogsBucket: props.logs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        { id: 'results-expire', expiration: Duration.days(deploy.retention.athenaResultsDays), noncurrentVersionExpiration: Duration.days(1) },
        { id: 'incomplete-uploads-abort', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: workgroupName(settings),
      description: 'clicklake curated views',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: deploy.athenaScanCutoffBytes,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.results.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
  }
}
