/** The backup stack, in `deploy.backupRegion`: its own KMS key and a versioned, private, TLS-only bucket. */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DeploySettings } from './config.js';
import { BACKUP_KEY_ALIAS, backupBucketName } from './names.js';
import { privateKmsBucket } from './storage.js';

export class BackupStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, deploy: DeploySettings, props: StackProps) {
    super(scope, id, props);
    this.key = new kms.Key(this, 'BackupKey', {
      description: 'clicklake backup bucket (replicas of the lake)',
      enableKeyRotation: true,
      alias: BACKUP_KEY_ALIAS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'BackupBucket', {
      bucketName: backupBucketName(deploy.backupRegion),
      ...privateKmsBucket(this.key),
      lifecycleRules: [
        { id: 'noncurrent-versions', noncurrentVersionExpiration: Duration.days(deploy.retention.noncurrentDays) },
        { id: 'incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
  }
}
