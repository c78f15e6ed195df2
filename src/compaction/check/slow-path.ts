import { open, writeFile } from 'node:fs/promises';
import type { ObjectInfo } from '../../storage/types.js';
import type { LineRef, RejectRef } from '../write/pipeline.js';
import { hasLoneSurrogate, type ReferenceValidator } from './reasons.js';
import type { RejectedRecord } from './rejects.js';
import { rescueLine } from '../read/stage-lines.js';
import { stagedPosition, type StagedUnit } from '../read/staging.js';
import type { KeyTable } from '../read/witness.js';

/**
 * Reads records back from the staging file at their (p, n) through one open handle and a read
 * window: rejects arrive in staging order, so most reads are served from the window.
 */
export class StageReader {
  private static readonly WINDOW = 4 << 20;
  private handle: Awaited<ReturnType<typeof open>> | undefined;
  private buffer = Buffer.alloc(0);
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly file: string) {}

  async slice(p: number, n: number): Promise<Buffer> {
    if (p < this.windowStart || p + n > this.windowStart + this.window.length) {
      this.handle ??= await open(this.file, 'r');
      // One buffer, reused as the window moves (slices are copies): a fresh 4 MiB per move made
      // the process's memory swing by tens of MB while DuckDB sorts alongside.
      if (this.buffer.length < n) this.buffer = Buffer.allocUnsafeSlow(Math.max(n, StageReader.WINDOW));
      const { bytesRead } = await this.handle.read(this.buffer, 0, this.buffer.length, p);
      this.window = this.buffer.subarray(0, bytesRead);
      this.windowStart = p;
    }
    return Buffer.from(this.window.subarray(p - this.windowStart, p - this.windowStart + n));
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

/**
 * The JS slow path for lines DuckDB could not take: explains broken JSON, and rescues events
 * of batches it could not convert (for example an array mixing events and other values) by
 * restaging each valid event on its own.
 */
export async function settleProblemLines(
  refs: LineRef[],
  staged: StagedUnit,
  reader: StageReader,
  inputs: readonly ObjectInfo[],
  reference: ReferenceValidator,
  rescueFile: string,
  keys: KeyTable,
): Promise<{ rejects: RejectedRecord[]; rescued: number; records: number }> {
  const rejects: RejectedRecord[] = [];
  const rescueLines: string[] = [];
  let records = 0;
  for (const ref of refs) {
    const sourceKey = inputs[ref.s]!.key;
    const stagedBytes = await reader.slice(stagedPosition(staged, ref.s, ref.p), ref.n);
    const original = staged.originals.get(`${ref.s}:${ref.o}`) ?? stagedBytes;
    if (ref.kind === 'empty_batch') {
      records++;
      rejects.push({ sourceKey, offset: ref.o, bytes: original, code: 'empty_batch', reasons: ['a batched record is an empty JSON array: it holds no event'] });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(stagedBytes.toString('utf8'));
    } catch (err) {
      records++;
      rejects.push({ sourceKey, offset: ref.o, bytes: original, code: 'json', reasons: [`invalid JSON: ${(err as Error).message}`] });
      continue;
    }
    const events = Array.isArray(parsed) ? parsed.map((ev, e) => ({ ev, e })) : [{ ev: parsed, e: undefined as number | undefined }];
    for (const { ev, e } of events) {
      records++;
      const verdict = reference.check(ev);
      if (!verdict.reasons.length && hasLoneSurrogate(ev)) {
        verdict.code = 'invalid_unicode';
        verdict.reasons.push('a string holds half of a UTF-16 surrogate pair (a \\ud800-\\udfff escape with no partner): it has no UTF-8 form, so no Parquet string can hold it');
      }
      const inexact = verdict.reasons.length ? undefined : reference.inexactBigint(ev);
      if (inexact) {
        verdict.code = 'schema:int64_precision';
        verdict.reasons.push(`/${inexact} is an integer beyond 2^53 in a record the JS path must re-encode (a duplicated key, or a batch DuckDB could not convert): it cannot be kept exactly, so the record is kept here instead`);
      }
      if (verdict.reasons.length) {
        rejects.push({ sourceKey, offset: ref.o, ...(e === undefined ? {} : { element: e }), bytes: original, code: verdict.code, reasons: verdict.reasons });
      } else {
        rescueLines.push(rescueLine(ref, e ?? null, ev, keys));
      }
    }
  }
  if (rescueLines.length) await writeFile(rescueFile, `${rescueLines.join('\n')}\n`);
  return { rejects, rescued: rescueLines.length, records };
}


/**
 * The records DuckDB's validator rejected, with Ajv's reasons, in DuckDB's (staging) order. A
 * record Ajv accepts is still rejected, as a reported validator disagreement: never dropped.
 */
export async function* explainRejects(
  refs: readonly RejectRef[],
  staged: StagedUnit,
  reader: StageReader,
  inputs: readonly ObjectInfo[],
  reference: ReferenceValidator,
): AsyncGenerator<RejectedRecord> {
  for (const ref of refs) {
    const sourceKey = inputs[ref.s]!.key;
    const stagedBytes = await reader.slice(stagedPosition(staged, ref.s, ref.p), ref.n);
    const original = staged.originals.get(`${ref.s}:${ref.o}`) ?? stagedBytes;
    const parsed = JSON.parse(stagedBytes.toString('utf8')) as unknown;
    const event = ref.e === null ? parsed : (parsed as unknown[])[ref.e];
    const verdict = reference.check(event);
    if (!verdict.reasons.length) {
      verdict.code = 'validator_disagreement';
      verdict.reasons.push('the fast-path (DuckDB) validator rejected this record but the reference validator (Ajv) accepts it: please report it as a clicklake bug');
    }
    yield { sourceKey, offset: ref.o, ...(ref.e === null ? {} : { element: ref.e }), bytes: original, code: verdict.code, reasons: verdict.reasons };
  }
}
