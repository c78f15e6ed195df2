import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * Builds the S3 client clicklake uses. Region, credentials (the default provider chain, profiles,
 * SSO, instance/task roles), retry mode (the SDK's default is 'standard') and endpoint settings
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `endpoint_url` in profiles) are all read by the SDK
 * itself; this function only adds what S3-compatible servers (s3rver, MinIO, Ceph RGW) need when a
 * custom endpoint is set in the environment or in `overrides.endpoint`: path-style addressing, and
 * checksums only where the S3 API requires them. `overrides` win over everything.
 *
 * @example
 * ```ts
 * const client = createS3Client({ region: 'eu-west-1' });
 * const local = createS3Client({ endpoint: 'http://127.0.0.1:4568', region: 'us-east-1' });
 * ```
 */
export function createS3Client(overrides: S3ClientConfig = {}): S3Client {
  const config: S3ClientConfig = hasCustomEndpoint(overrides)
    ? {
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...overrides,
      }
    : { ...overrides };
  config.requestHandler ??= timeouts();
  return new S3Client(config);
}

/**
 * The SDK waits forever by default: a server that stops answering mid-response would hang a run
 * (a Lambda until its 15 minutes). A connection gets 10 s, a socket may stay idle 60 s
 * (`CLICKLAKE_S3_IDLE_TIMEOUT_MS`); the SDK retries a timed-out request like any transient error.
 */
function timeouts(): { connectionTimeout: number; socketTimeout: number } {
  const idle = Number(process.env['CLICKLAKE_S3_IDLE_TIMEOUT_MS']);
  return { connectionTimeout: 10_000, socketTimeout: Number.isFinite(idle) && idle > 0 ? idle : 60_000 };
}

/** True when requests go somewhere other than AWS's own S3 endpoints. */
function hasCustomEndpoint(overrides: S3ClientConfig): boolean {
  if (overrides.endpoint !== undefined) return true;
  // With this variable set the SDK ignores the endpoint variables, and so do we.
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return false;
  return Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
}
