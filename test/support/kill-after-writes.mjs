// Preloaded (node --import) into a CLI child by test/compaction-crash.test.ts: SIGKILLs the process
// right after its k-th write into the lake took effect (a file renamed or linked into place, or
// one removed, under curated/, errors/ or _manifests/ of CLICKLAKE_TEST_LAKE_DIR), where
// k = CLICKLAKE_TEST_KILL_AFTER_WRITES. Without that variable it only counts, and prints the
// writes to stderr at exit, one per line, so the test learns the steps of an uncrashed run.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const lake = path.resolve(process.env.CLICKLAKE_TEST_LAKE_DIR ?? '/nonexistent');
const killAt = Number(process.env.CLICKLAKE_TEST_KILL_AFTER_WRITES ?? 0);
const zones = ['curated', 'errors', '_manifests'].map((z) => `${path.join(lake, z)}${path.sep}`);
const writes = [];

function counted(op, target) {
  const file = path.resolve(String(target));
  // The local store's temp files (".<name>.tmp-...") are not writes of the lake.
  if (!zones.some((z) => file.startsWith(z)) || path.basename(file).startsWith('.')) return;
  writes.push(`${op} ${path.relative(lake, file)}`);
  if (writes.length === killAt) process.kill(process.pid, 'SIGKILL');
}

const p = fs.promises;
for (const [name, targetArg] of [['rename', 1], ['link', 1], ['unlink', 0]]) {
  const original = p[name];
  p[name] = async (...args) => {
    const result = await original.apply(p, args);
    counted(name, args[targetArg]);
    return result;
  };
}
syncBuiltinESMExports();
if (!killAt) process.on('exit', () => process.stderr.write(writes.map((w) => `write: ${w}\n`).join('')));
