/**
 * What the reliability tests check on a lake after whatever they did to it: the lake itself
 * (manifests without their timing, and the md5 of every curated and errors object, for equality
 * with a run nothing happened to) and the commit invariant (every output a manifest names exists
 * with the size and ETag it recorded; a manifest withdrawn by a recompaction names none).
 */
import { createHash } from 'node:crypto';
import type { UnitManifest } from '../../src/manifest/manifest.js';
import type { ObjectStore } from '../../src/storage/types.js';

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

/**
 * Every disagreement between a manifest and the objects it names (none, if the commit protocol
 * held), for every manifest present: committed ones, and withdrawn ones (`state: 'replacing'`),
 * which must name no object at all (what they withdrew is in `withdrawn`, claimed by nobody).
 */
export async function manifestsAgreeWithObjects(store: ObjectStore): Promise<string[]> {
  const problems: string[] = [];
  for (const key of await keysUnder(store, '_manifests/')) problems.push(...(await disagreements(store, key, await readManifestAt(store, key))));
  return problems;
}

async function readManifestAt(store: ObjectStore, key: string): Promise<UnitManifest> {
  return JSON.parse((await store.getBytes(key)).toString()) as UnitManifest;
}

/** The keys of the manifests a recompaction has withdrawn and not yet replaced. */
export async function withdrawnManifests(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for (const key of await keysUnder(store, '_manifests/')) if ((await readManifestAt(store, key)).state !== undefined) out.push(key);
  return out;
}

async function disagreements(store: ObjectStore, key: string, m: UnitManifest): Promise<string[]> {
  const problems: string[] = [];
  if (m.state !== undefined) {
    if (m.state !== 'replacing') problems.push(`${key} has state ${JSON.stringify(m.state)}, not 'replacing'`);
    if (m.outputs.length > 0 || m.errorsKey !== null) problems.push(`${key} is withdrawn but still names ${[...m.outputs.map((o) => o.key), ...(m.errorsKey ? [m.errorsKey] : [])].join(', ')}`);
    if (!m.withdrawn) problems.push(`${key} is withdrawn but does not say what it withdrew`);
  } else if (m.withdrawn) problems.push(`${key} is committed but lists withdrawn objects`);
  for (const o of m.outputs) {
    const head = await store.head(o.key);
    if (!head) problems.push(`${key} names ${o.key}, which is missing`);
    else if (head.size !== o.bytes || head.etag !== o.etag) problems.push(`${key} names ${o.key} with ${o.bytes} B / ${o.etag}, the object has ${head.size} B / ${head.etag}`);
  }
  if (m.errorsKey && !(await store.head(m.errorsKey))) problems.push(`${key} names ${m.errorsKey}, which is missing`);
  return problems;
}
