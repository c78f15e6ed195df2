/**
 * The deploy section of the config with every default filled in: what the CDK app builds. The
 * defaults are the advice of docs/aws.md (3,538 MB = two vCPUs, 900 s, every 15 minutes) and
 * DESIGN.md (raw kept 90 days, replicas in STANDARD_IA).
 */
import { ClicklakeError } from '../errors.js';
import type { DeployConfig } from '../config/schema.js';

export interface DeploySettings {
  region: string;
  backupRegion: string;
  bucketName?: string;
  allowedOrigins: string[];
  alarmEmail?: string;
  throttle: { rateLimit: number; burstLimit: number };
  firehose: { bufferIntervalSeconds: number; bufferSizeMiB: number };
  retention: { rawDays: number; errorsDays: number; noncurrentDays: number; athenaResultsDays: number };
  replicaStorageClass: 'STANDARD' | 'STANDARD_IA' | 'GLACIER_IR';
  lambda: { memoryMb: number; ephemeralStorageMb: number; timeoutSeconds: number; schedule: string; logRetentionDays: number };
  athenaScanCutoffBytes: number;
  domain?: { name: string; certificateArn: string };
  backfill: { maxConcurrency: number };
  cognito: boolean;
  /** The QuickSight user or group the data source and datasets are shared with; absent: no QuickSight. */
  quicksightPrincipalArn?: string;
}

export const DEPLOY_DEFAULTS = {
  region: 'us-east-1',
  backupRegion: 'us-west-2',
  throttle: { rateLimit: 500, burstLimit: 1000 },
  firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
  retention: { rawDays: 90, errorsDays: 90, noncurrentDays: 30, athenaResultsDays: 7 },
  replicaStorageClass: 'STANDARD_IA',
  lambda: { memoryMb: 3538, ephemeralStorageMb: 4096, timeoutSeconds: 900, schedule: 'rate(15 minutes)', logRetentionDays: 30 },
  // 10 GB: $0.05 at $5/TB, a hard stop for one runaway query.
  athenaScanCutoffBytes: 10 * 1024 ** 3,
  backfill: { maxConcurrency: 50 },
} as const;

export function resolveDeploySettings(deploy: DeployConfig = {}): DeploySettings {
  const region = deploy.region ?? DEPLOY_DEFAULTS.region;
  const backupRegion = deploy.backupRegion ?? (region === DEPLOY_DEFAULTS.backupRegion ? DEPLOY_DEFAULTS.region : DEPLOY_DEFAULTS.backupRegion);
  if (backupRegion === region) {
    throw new ClicklakeError('bad_config', `deploy.backupRegion "${backupRegion}" is the primary Region: the backup must be in another Region (e.g. us-west-2)`, { region, backupRegion });
  }
  const throttle = { ...DEPLOY_DEFAULTS.throttle, ...deploy.throttle };
  if (throttle.burstLimit < throttle.rateLimit) {
    throw new ClicklakeError('bad_config', `deploy.throttle.burstLimit ${throttle.burstLimit} is below rateLimit ${throttle.rateLimit}: the burst is the bucket above the rate`, throttle);
  }
  const settings: DeploySettings = {
    region,
    backupRegion,
    allowedOrigins: deploy.allowedOrigins ?? [],
    throttle,
    firehose: { ...DEPLOY_DEFAULTS.firehose, ...deploy.firehose },
    retention: { ...DEPLOY_DEFAULTS.retention, ...deploy.retention },
    replicaStorageClass: deploy.replicaStorageClass ?? DEPLOY_DEFAULTS.replicaStorageClass,
    lambda: { ...DEPLOY_DEFAULTS.lambda, ...deploy.lambda },
    athenaScanCutoffBytes: deploy.athenaScanCutoffBytes ?? DEPLOY_DEFAULTS.athenaScanCutoffBytes,
    backfill: { ...DEPLOY_DEFAULTS.backfill, ...deploy.backfill },
    cognito: deploy.cognito?.enabled ?? false,
  };
  if (deploy.quicksight?.enabled && deploy.quicksight.principalArn) settings.quicksightPrincipalArn = deploy.quicksight.principalArn;
  if (deploy.bucketName) settings.bucketName = deploy.bucketName;
  if (deploy.alarmEmail) settings.alarmEmail = deploy.alarmEmail;
  if (deploy.domain) settings.domain = deploy.domain;
  return settings;
}
