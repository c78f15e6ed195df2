/**
 * Physical names shared between stacks in different Regions (CloudFormation cannot export across
 * Regions): the lake stack finds the backup bucket and key by these names.
 */
import { Aws } from 'aws-cdk-lib';

export const STACKS = { backup: 'ClicklakeBackup', lake: 'ClicklakeLake' } as const;

export const BACKUP_KEY_ALIAS = 'alias/clicklake-backup';

export function backupBucketName(region: string): string {
  return `clicklake-backup-${Aws.ACCOUNT_ID}-${region}`;
}

export function lakeBucketName(region: string, configured?: string): string {
  return configured ?? `clicklake-lake-${Aws.ACCOUNT_ID}-${region}`;
}

export function deliveryStreamName(table: string): string {
  return `clicklake-${table}`;
}
