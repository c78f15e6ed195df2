/**
 * The optional dashboards side (deploy.quicksight): a QuickSight Athena data source on the
 * clicklake workgroup (so its scan cutoff and encrypted results apply) and one direct-query
 * dataset per curated view, both shared with one QuickSight user or group. The datasets' columns
 * are the views' own, typed by running the views locally over empty tables (src/query/view-columns.ts).
 *
 * The account must already subscribe to QuickSight, and QuickSight's service role must be allowed
 * to read the lake bucket and use its key (QuickSight's "Security & permissions" page): both are
 * account-wide settings outside this stack. See the README's "Deploy to AWS".
 */
import { Aws } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import * as quicksight from 'aws-cdk-lib/aws-quicksight';
import { Construct } from 'constructs';
import { ClicklakeError } from '../errors.js';
import type { ViewColumn } from '../query/view-columns.js';

export interface QuickSightProps {
  workgroup: athena.CfnWorkGroup;
  database: string;
  principalArn: string;
  /** Columns per curated view, in the views' order. */
  views: Map<string, ViewColumn[]>;
}

const DATA_SOURCE_ACTIONS = [
  'quicksight:DescribeDataSource',
  'quicksight:DescribeDataSourcePermissions',
  'quicksight:PassDataSource',
  'quicksight:UpdateDataSource',
  'quicksight:DeleteDataSource',
  'quicksight:UpdateDataSourcePermissions',
];

const DATASET_ACTIONS = [
  'quicksight:DescribeDataSet',
  'quicksight:DescribeDataSetPermissions',
  'quicksight:PassDataSet',
  'quicksight:DescribeIngestion',
  'quicksight:ListIngestions',
  'quicksight:UpdateDataSet',
  'quicksight:DeleteDataSet',
  'quicksight:CreateIngestion',
  'quicksight:CancelIngestion',
  'quicksight:UpdateDataSetPermissions',
];

/** QuickSight's input column type for a DuckDB type of a view column. */
export function quickSightType(duckdbType: string): 'STRING' | 'INTEGER' | 'DECIMAL' | 'DATETIME' | 'BOOLEAN' | 'JSON' {
  const t = duckdbType.toUpperCase();
  if (t === 'VARCHAR' || t === 'UUID') return 'STRING';
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)$/.test(t)) return 'INTEGER';
  if (t === 'DOUBLE' || t === 'FLOAT' || t === 'REAL' || t.startsWith('DECIMAL')) return 'DECIMAL';
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return 'DATETIME';
  if (t === 'BOOLEAN') return 'BOOLEAN';
  if (t.endsWith('[]') || t.startsWith('STRUCT') || t.startsWith('MAP')) return 'JSON';
  throw new ClicklakeError('unsupported_view_type', `a curated view has a column of type ${duckdbType}, which the QuickSight datasets cannot map: cast it in the view, or set deploy.quicksight.enabled to false`, { duckdbType });
}

/** Dataset id of a view: stable, so a redeploy updates the dataset in place. */
export function datasetId(view: string): string {
  return `clicklake-${view.replace(/_/g, '-')}`;
}

export class QuickSightDatasets extends Construct {
  readonly dataSource: quicksight.CfnDataSource;
  readonly datasets: quicksight.CfnDataSet[] = [];

  constructor(scope: Construct, id: string, props: QuickSightProps) {
    super(scope, id);
    this.dataSource = new quicksight.CfnDataSource(this, 'Athena', {
      awsAccountId: Aws.ACCOUNT_ID,
      dataSourceId: 'clicklake-athena',
      name: 'clicklake (Athena)',
      type: 'ATHENA',
      dataSourceParameters: { athenaParameters: { workGroup: props.workgroup.ref } },
      sslProperties: { disableSsl: false },
      permissions: [{ principal: props.principalArn, actions: DATA_SOURCE_ACTIONS }],
    });
    for (const [view, columns] of props.views) {
      const dataset = new quicksight.CfnDataSet(this, `DataSet-${view}`, {
        awsAccountId: Aws.ACCOUNT_ID,
        dataSetId: datasetId(view),
        name: `clicklake ${view}`,
        // Direct query: each visual asks Athena (pay per query), no SPICE capacity to buy.
        importMode: 'DIRECT_QUERY',
        physicalTableMap: {
          // Keys allow letters, digits and hyphens only.
          [view.replace(/_/g, '-')]: {
            relationalTable: {
              dataSourceArn: this.dataSource.attrArn,
              catalog: 'AwsDataCatalog',
              schema: props.database,
              name: view,
              inputColumns: columns.map((c) => ({ name: c.name, type: quickSightType(c.duckdbType) })),
            },
          },
        },
        permissions: [{ principal: props.principalArn, actions: DATASET_ACTIONS }],
      });
      this.datasets.push(dataset);
    }
  }
}
