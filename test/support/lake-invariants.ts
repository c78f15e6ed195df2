/**
 * What the reliability tests check on a lake after whatever they did to it: the lake itself
 * (manifests without their timing, and the md5 of every curated and errors object, for equality
 * with a run nothing happened to) and the commit invariant (every output a manifest names exists
 * with the size and ETag it recorded).
 */
import { createHash } from 'node:crypto';
import { fingerprintInputs, type UnitManifest } from '../../src/manifest/manifest.js';
import { parseHour } from '../../src/partitions/hours.js';
import { DEFAULT_LAYOUT, rawHourPrefix } from '../../src/partitions/layout.js';
import type { ObjectInfo, ObjectStore } from '../../src/storage/types.js';

export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

/** Manifests (without startedAt, finishedAt, durationMs) and the md5 of every curated and errors object. */
export async function finalLake(store: ObjectStore): Promise<{ manifests: Record<string, unknown>; files: Record<string, string> }> {
  const manifests: Record<string, unknown> = {};
  for (const key of await keysUnder(store, '_manifests/')) {
    const { startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = JSON.parse((await store.getBytes(key)).toString()) as UnitManifest;
    manifests[key] = rest;
  }
  const files: Record<string, string> = {};
  for (const zone of ['curated/', 'errors/']) for (const key of await keysUnder(store, zone)) files[key] = createHash('md5').update(await store.getBytes(key)).digest('hex');
  return { manifests, files };
}

/** Every disagreement between a manifest and the objects it names (none, if the commit protocol held). */
export async function manifestsAgreeWithObjects(store: ObjectStore): Promise<string[]> {
  const problems: string[] = [];
  for (const key of await keysUnder(store, '_manifests/')) problems.push(...(await disagreements(store, key, await readManifestAt(store, key))));
  return problems;
}

async function readManifestAt(store: ObjectStore, key: string): Promise<UnitManifest> {
  return JSON.parse((await store.getBytes(key)).toString()) as UnitManifest;
}

async function disagreements(store: ObjectStore, key: string, m: UnitManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const o of m.outputs) {
    const head = await store.head(o.key);
    if (!head) problems.push(`${key} names ${o.key}, which is missing`);
    else if (head.size !== o.bytes || head.etag !== o.etag) problems.push(`${key} names ${o.key} with ${o.bytes} B / ${o.etag}, the object has ${head.size} B / ${head.etag}`);
  }
  if (m.errorsKey && !(await store.head(m.errorsKey))) problems.push(`${key} names ${m.errorsKey}, which is missing`);
  return problems;
}

/**
 * The commit invariant as a recompaction can keep it: a manifest that is *current* (its
 * fingerprint matches its unit's raw objects now, so the scheduler leaves the unit alone) agrees
 * with every object it names. A *superseded* manifest (its unit's inputs changed: the scheduler
 * redoes the unit as `inputs_changed`) stays in place until the recompaction's own manifest
 * replaces it, because it is what tells a rerun after a crash which outputs to remove; meanwhile
 * it may name an output the recompaction already overwrote or removed. Those disagreements are
 * returned apart, for the caller to check they are confined to what the recompaction touched.
 * (Only the default layout's raw zone; settings changes are not looked at.)
 */
export async function currentManifestsAgreeWithObjects(store: ObjectStore): Promise<{ problems: string[]; superseded: string[] }> {
  const result = { problems: [] as string[], superseded: [] as string[] };
  for (const key of await keysUnder(store, '_manifests/')) {
    const m = await readManifestAt(store, key);
    const found = await disagreements(store, key, m);
    if (found.length === 0) continue;
    const inputs: ObjectInfo[] = [];
    for await (const o of store.list(rawHourPrefix(DEFAULT_LAYOUT, m.table, parseHour(m.hour)))) inputs.push(o);
    if (fingerprintInputs(inputs) === m.fingerprint) result.problems.push(...found);
    else result.superseded.push(...found);
  }
  return result;
}
