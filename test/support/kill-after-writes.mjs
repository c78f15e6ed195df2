// Preloaded (node --import) into a CLI child by test/compaction-crash.test.ts. Two ways to die,
// both on the lake of CLICKLAKE_TEST_LAKE_DIR (only its curated/, errors/ and _manifests/ count;
// the leases and the raw zone do not):
//
// - CLICKLAKE_TEST_KILL_AFTER_WRITES=k: SIGKILL right after the k-th write took effect (a file
//   renamed or linked into place, or one removed).
// - CLICKLAKE_TEST_KILL_MID_WRITE=k: SIGKILL in the middle of writing the k-th file the process
//   opens for writing there (temp files included): the first write to it puts only half of its
//   bytes on disk, then the process dies. A store that wrote in place would leave half a file
//   under the object's own name; the local store's temp file (".<name>.tmp-...") is no key.
//
// Without either variable it only counts, and prints at exit, one per line, the writes
// (`write: <op> <key>`) and the files opened for writing (`open: <key>`, a temp file named by the
// key it will become), so the test learns the steps of an uncrashed run.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const lake = path.resolve(process.env.CLICKLAKE_TEST_LAKE_DIR ?? '/nonexistent');
const killAt = Number(process.env.CLICKLAKE_TEST_KILL_AFTER_WRITES ?? 0);
const killMidAt = Number(process.env.CLICKLAKE_TEST_KILL_MID_WRITE ?? 0);
const zones = ['curated', 'errors', '_manifests'].map((z) => `${path.join(lake, z)}${path.sep}`);
const writes = [];
const opens = [];

/** The key a file in the zones is or will become (temp files: `.<name>.tmp-<hex>`), else undefined. */
function zoneKey(target) {
  const file = path.resolve(String(target));
  if (!zones.some((z) => file.startsWith(z))) return undefined;
  const base = path.basename(file);
  if (!base.startsWith('.')) return path.relative(lake, file);
  const temp = /^\.(.+)\.tmp-[0-9a-f]+$/.exec(base);
  return temp ? path.relative(lake, path.join(path.dirname(file), temp[1])) : undefined; // lock files are not writes
}

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

/** Whether open flags write (string flags such as 'w', 'wx', 'a+', 'r+', or numeric ones). */
function writesFlags(flags) {
  if (typeof flags === 'number') return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0;
  return typeof flags === 'string' && /[wa+]/.test(flags);
}

/** Records a file opened for writing; true when it is the one to die in. */
function openedForWriting(target, flags) {
  if (!writesFlags(flags)) return false;
  const key = zoneKey(target);
  if (key === undefined) return false;
  opens.push(key);
  return opens.length === killMidAt;
}

/** Puts the first half of `bytes` into the file and dies: a crash in the middle of a write. */
function halfAndDie(fd, bytes) {
  const half = Math.max(1, Math.floor(bytes.length / 2));
  fs.writeSync(fd, bytes, 0, Math.min(half, bytes.length));
  fs.fsyncSync(fd);
  process.kill(process.pid, 'SIGKILL');
}

if (killMidAt || !killAt) {
  // Callback fs (what fs.createWriteStream, and so the store's putFile, writes through).
  const doomed = new Set();
  const { open, write, writev } = fs;
  fs.open = function (target, ...rest) {
    const cb = rest.pop();
    const die = openedForWriting(target, typeof rest[0] === 'function' || rest[0] == null ? 'r' : rest[0]);
    return open.call(fs, target, ...rest, (err, fd) => {
      if (!err && die) doomed.add(fd);
      cb(err, fd);
    });
  };
  fs.write = function (fd, buffer, ...rest) {
    if (doomed.has(fd)) {
      if (typeof buffer === 'string') return halfAndDie(fd, Buffer.from(buffer));
      const offset = typeof rest[0] === 'number' ? rest[0] : 0;
      const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
      return halfAndDie(fd, Buffer.from(buffer.buffer, buffer.byteOffset + offset, length));
    }
    return write.call(fs, fd, buffer, ...rest);
  };
  fs.writev = function (fd, buffers, ...rest) {
    if (doomed.has(fd)) return halfAndDie(fd, Buffer.concat(buffers));
    return writev.call(fs, fd, buffers, ...rest);
  };
  // Promise fs (the store's put and putIf: a FileHandle's writeFile or write).
  const popen = p.open;
  p.open = async (target, flags = 'r', ...rest) => {
    const die = openedForWriting(target, flags);
    const handle = await popen.call(p, target, flags, ...rest);
    if (die) {
      const fd = handle.fd;
      handle.writeFile = async (data) => halfAndDie(fd, Buffer.from(data));
      handle.write = async (data, offset = 0, length) => halfAndDie(fd, typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset + offset, length ?? data.byteLength - offset));
    }
    return handle;
  };
}
syncBuiltinESMExports();
if (!killAt && !killMidAt) {
  process.on('exit', () => process.stderr.write([...writes.map((w) => `write: ${w}\n`), ...opens.map((o) => `open: ${o}\n`)].join('')));
}
