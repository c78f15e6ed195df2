/**
 * The compaction contract over a real S3-compatible server (s3rver on 127.0.0.1, AWS SDK v3 over
 * HTTP): the scenarios of test/support/compaction-scenarios.ts, one key prefix per lake.
 */
import { describe } from 'vitest';
import { openStore } from '../src/storage/open.js';
import { compactionScenarios, type LakeProvider } from './support/compaction-scenarios.js';
import { startTestS3, type TestS3 } from './support/s3-server.js';

function s3Lakes(): LakeProvider {
  let s3: TestS3 | undefined;
  const server = (): TestS3 => {
    if (!s3) throw new Error('s3rver is not started');
    return s3;
  };
  return {
    name: 'an s3:// lake on s3rver',
    async setup() {
      s3 = await startTestS3({ bucket: 'clicklake-compaction' });
    },
    async teardown() {
      await s3?.close();
    },
    async newLake(label) {
      const uri = `${server().uri}/${label}`;
      return { uri, store: openStore(uri, { s3Client: server().client }) };
    },
    // The CLI builds its own client from the standard AWS environment.
    cliEnv: () => ({
      AWS_ENDPOINT_URL_S3: server().endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    }),
  };
}

describe.each([s3Lakes()])('$name', (provider) => {
  compactionScenarios(provider);
});
