/**
 * The compaction contract over real S3-compatible servers on 127.0.0.1 (s3rver, moto_server and
 * Ceph RGW; AWS SDK v3 over HTTP): the scenarios of test/support/compaction-scenarios.ts, one key
 * prefix per lake.
 */
import { describe } from 'vitest';
import { openStore } from '../src/storage/open.js';
import { compactionScenarios, type LakeProvider } from './support/compaction-scenarios.js';
import { s3rverEnv, startTestS3, type TestS3 } from './support/s3-server.js';
import { cephS3, cephSkipReason, motoSkipReason, startMotoS3, type ThirdPartyS3 } from './support/third-party-s3.js';

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
    cliEnv: () => s3rverEnv(server().endpoint),
  };
}

/** The same scenarios on an S3 nobody here wrote: moto_server, or the run's Ceph RGW. */
function thirdPartyLakes(name: string, start: () => Promise<ThirdPartyS3>): LakeProvider {
  let server: ThirdPartyS3 | undefined;
  const live = (): ThirdPartyS3 => {
    if (!server) throw new Error(`${name} is not started`);
    return server;
  };
  return {
    name: `an s3:// lake on ${name}`,
    async setup() {
      server = await start();
    },
    async teardown() {
      await server?.close();
    },
    async newLake(label) {
      const uri = `${live().uri}/${label}`;
      return { uri, store: openStore(uri, { s3Client: live().client }) };
    },
    cliEnv: () => live().env,
  };
}

const providers = [s3Lakes()];
for (const [name, skip, start] of [
  ['moto_server', motoSkipReason(), () => startMotoS3({ bucket: 'clicklake-compaction' })],
  ['Ceph RGW', cephSkipReason(), () => cephS3({ bucket: 'clicklake-compaction' })],
] as const) {
  if (skip) console.warn(`skipping the compaction scenarios on ${name}: ${skip}`);
  else providers.push(thirdPartyLakes(name, start));
}

describe.each(providers)('$name', (provider) => {
  compactionScenarios(provider);
});
