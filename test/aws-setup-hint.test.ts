import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLiveCatalog } from '../src/catalog/glue-live.js';
import { ClicklakeError } from '../src/errors.js';
import { S3Store } from '../src/storage/s3-store.js';

/**
 * The real SDK clients, set up the way a new user's machine often is: no region, no credentials,
 * or an endpoint nothing listens on. The errors must name the variables that fix them.
 */
const SETUP_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];
let saved: NodeJS.ProcessEnv;

beforeEach(() => {
  saved = { ...process.env };
  for (const name of SETUP_VARIABLES) delete process.env[name];
  process.env.AWS_CONFIG_FILE = '/nonexistent/clicklake-test/config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/clicklake-test/credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(() => {
  process.env = saved;
});

async function listError(client: S3Client): Promise<ClicklakeError> {
  const store = new S3Store(client, 'acme-clicks', 'prod');
  try {
    for await (const _ of store.list('raw/')) break;
  } catch (err) {
    expect(err).toBeInstanceOf(ClicklakeError);
    return err as ClicklakeError;
  }
  throw new Error('the listing did not fail');
}

describe('AWS setup problems name their fix', () => {
  it('no region: set AWS_REGION', async () => {
    const err = await listError(new S3Client({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }));
    expect(err.message).toMatch(/^S3 list of s3:\/\/acme-clicks\/prod\/raw\/ failed: .*Region is missing; no AWS region is set: set AWS_REGION/);
  });

  it('no credentials: set AWS_PROFILE or the access key variables', async () => {
    const err = await listError(new S3Client({ region: 'eu-west-1', maxAttempts: 1 }));
    expect(err.message).toMatch(/CredentialsProviderError: .*; no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('an endpoint nothing listens on: check the network and AWS_ENDPOINT_URL', async () => {
    const client = new S3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const err = await listError(client);
    expect(err.message).toMatch(/the endpoint could not be reached \(ECONNREFUSED\): check the network, AWS_REGION and, for S3-compatible servers, AWS_ENDPOINT_URL/);
  });

  it('Glue says the same', async () => {
    const glue = new GlueClient({ credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const err = await readLiveCatalog(glue, 'clicklake', ['click_events']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClicklakeError);
    expect((err as ClicklakeError).message).toMatch(/^Glue GetDatabase failed: .*Region is missing \(no AWS region is set: set AWS_REGION/);
  });
});
