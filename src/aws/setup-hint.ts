const NETWORK_CODES = /\b(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN)\b/;

/**
 * What to do about an AWS SDK error that comes from the caller's setup (no region, no or expired
 * credentials, an endpoint that cannot be reached) rather than from the request itself. The SDK's
 * own messages ("Region is missing", "Could not load credentials from any providers") name the
 * symptom, not the variables that fix it.
 */
export function awsSetupHint(err: unknown): string | undefined {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  const code = (err as { code?: string } | undefined)?.code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (/\bRegion is missing\b/i.test(message)) {
    return 'no AWS region is set: set AWS_REGION (or a region in the profile AWS_PROFILE names)';
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role provides them';
  }
  if (/^(ExpiredToken|ExpiredTokenException|TokenRefreshRequired)$/.test(name) || /token .*expired|expired .*token/i.test(message)) {
    return 'the AWS credentials have expired: refresh them (for SSO: aws sso login) and retry';
  }
  if (/^(InvalidAccessKeyId|UnrecognizedClientException|InvalidClientTokenId|SignatureDoesNotMatch)$/.test(name)) {
    return 'AWS did not accept these credentials: check AWS_PROFILE / AWS_ACCESS_KEY_ID and that they belong to this account and endpoint';
  }
  const network = NETWORK_CODES.test(code) ? code : NETWORK_CODES.exec(message)?.[0];
  if (network) {
    return `the endpoint could not be reached (${network}): check the network, AWS_REGION and, for S3-compatible servers, AWS_ENDPOINT_URL`;
  }
  return undefined;
}
