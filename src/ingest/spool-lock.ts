/**
 * One server per spool: two processes appending to and delivering from the same spool would
 * deliver each other's open segments. The lock file holds the owner's pid; a lock whose process
 * is gone (a server killed with SIGKILL) is taken over.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ClicklakeError } from '../errors.js';
import { processExists } from '../base/process.js';

export interface SpoolLock {
  release(): Promise<void>;
}

export async function lockSpool(dir: string): Promise<SpoolLock> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'serve.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => unlink(file).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && processExists(owner)) {
        throw new ClicklakeError('spool_in_use', `another clicklake serve (pid ${owner}) is using the spool ${dir}: stop it, or give this server its own --spool DIR`, { dir, pid: owner });
      }
      await unlink(file).catch(() => undefined);
    }
  }
  throw new ClicklakeError('spool_in_use', `cannot take the lock ${file}: remove it if no clicklake serve is running`, { dir });
}
