/**
 * The lake's storage: a customer-managed key with rotation; the lake bucket (SSE-KMS with a bucket
 * key, versioning, Block Public Access, TLS only, access logs) with lifecycle rules per zone; the
 * access-log bucket; replication of every zone to the backup bucket in the other Region.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Settings } from '../config/settings.js';
import type { DeploySettings } from './config.js';
import { BACKUP_KEY_ALIAS, backupBucketName, lakeBucketName } from './names.js';

/** `prefix/zone/` under the lake root. */
export function zonePrefix(settings: Settings, zone: string): string {
  return `${settings.prefix ? `${settings.prefix}/` : ''}${zone}/`;
}

/** What every KMS-encrypted bucket of the app has: the key with a bucket key, versions, no public access, TLS only, no ACLs. */
export function privateKmsBucket(key: kms.IKey): Pick<s3.BucketProps, 'encryption' | 'encryptionKey' | 'bucketKeyEnabled' | 'versioned' | 'blockPublicAccess' | 'enforceSSL' | 'objectOwnership' | 'removalPolicy'> {
  return {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/** Transitions of objects smaller than this never pay off: IA and Glacier IR bill 128 KB minimum. */
export const MIN_TRANSITION_BYTES = 128 * 1024;

export class LakeStorage extends Construct {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;
  /** The lake bucket's name as a string (no reference to the bucket: the replication role needs it before the bucket). */
  readonly bucketName: string;

  constructor(scope: Construct, id: string, settings: Settings, deploy: DeploySettings) {
    super(scope, id);
    this.key = new kms.Key(this, 'LakeKey', {
      description: 'clicklake lake: raw, curated, errors, manifests, Firehose and Athena results',
      enableKeyRotation: true,
      alias: 'alias/clicklake-lake',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // S3 server access logs can only be delivered to a bucket with SSE-S3.
    this.logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const zone = (z: string): string => zonePrefix(settings, z);
    this.bucketName = lakeBucketName(deploy.region, deploy.bucketName);
    this.bucket = new s3.Bucket(this, 'Lake', {
      bucketName: this.bucketName,
      ...privateKmsBucket(this.key),
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        { id: 'raw-expires', prefix: zone(settings.layout.rawPrefix), expiration: Duration.days(deploy.retention.rawDays) },
        {
          id: 'curated-intelligent-tiering',
          prefix: zone(settings.layout.curatedPrefix),
          objectSizeGreaterThan: MIN_TRANSITION_BYTES,
          transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }],
        },
        { id: 'errors-expire', prefix: zone(settings.layout.errorsPrefix), expiration: Duration.days(deploy.retention.errorsDays) },
        { id: 'noncurrent-versions-expire', noncurrentVersionExpiration: Duration.days(deploy.retention.noncurrentDays) },
        { id: 'incomplete-uploads-abort', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    this.replicate(deploy);
  }

  /** Every zone to the backup bucket, SSE-KMS objects re-encrypted with the backup Region's key. */
  private replicate(deploy: DeploySettings): void {
    // Built from the name, not the bucket's attributes: the bucket refers to this role.
    const sourceArn = `arn:${Aws.PARTITION}:s3:::${this.bucketName}`;
    const destinationArn = `arn:${Aws.PARTITION}:s3:::${backupBucketName(deploy.backupRegion)}`;
    const replicaKey = `arn:${Aws.PARTITION}:kms:${deploy.backupRegion}:${Aws.ACCOUNT_ID}:${BACKUP_KEY_ALIAS}`;
    const role = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'clicklake: replicate the lake to the backup Region, nothing else',
      inlinePolicies: {
        replication: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'], resources: [sourceArn] }),
            new iam.PolicyStatement({ actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], resources: [`${sourceArn}/*`] }),
            new iam.PolicyStatement({ actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], resources: [`${destinationArn}/*`] }),
            new iam.PolicyStatement({
              actions: ['kms:Decrypt'],
              resources: [this.key.keyArn],
              conditions: { StringLike: { 'kms:ViaService': `s3.${deploy.region}.amazonaws.com` } },
            }),
            new iam.PolicyStatement({
              actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
              resources: [`arn:${Aws.PARTITION}:kms:${deploy.backupRegion}:${Aws.ACCOUNT_ID}:key/*`],
              conditions: {
                StringLike: { 'kms:ViaService': `s3.${deploy.backupRegion}.amazonaws.com` },
                'ForAnyValue:StringEquals': { 'kms:ResourceAliases': BACKUP_KEY_ALIAS },
              },
            }),
          ],
        }),
      },
    });
    const cfn = this.bucket.node.defaultChild as s3.CfnBucket;
    cfn.replicationConfiguration = {
      role: role.roleArn,
      rules: [
        {
          id: 'every-zone-to-backup',
          status: 'Enabled',
          priority: 1,
          filter: { prefix: '' },
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: destinationArn,
            storageClass: deploy.replicaStorageClass,
            encryptionConfiguration: { replicaKmsKeyId: replicaKey },
          },
        },
      ],
    };
  }
}
