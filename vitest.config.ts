import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One Ceph RGW for the run (the production-grade S3 of the storage and compaction suites).
    globalSetup: ['test/support/global-ceph.ts'],
    // The SDK's notice that its 2027 releases need Node 22 (we pin the SDK) would repeat in every test file.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
