/**
 * The compaction contract over a file:// lake in a temp directory (scenarios in
 * test/support/compaction-scenarios.ts; the same ones run over s3rver in compaction-s3.test.ts).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from 'vitest';
import { openStore } from '../src/storage/open.js';
import { compactionScenarios, type LakeProvider } from './support/compaction-scenarios.js';

function localLakes(): LakeProvider {
  let root = '';
  return {
    name: 'a file:// lake',
    async setup() {
      root = await mkdtemp(path.join(tmpdir(), 'clicklake-local-lakes-'));
    },
    async teardown() {
      if (root) await rm(root, { recursive: true, force: true });
    },
    async newLake(label) {
      const dir = path.join(root, label);
      await mkdir(dir, { recursive: true });
      const uri = pathToFileURL(dir).href;
      return { uri, store: openStore(uri) };
    },
    cliEnv: () => ({}),
  };
}

describe.each([localLakes()])('$name', (provider) => {
  compactionScenarios(provider);
});
