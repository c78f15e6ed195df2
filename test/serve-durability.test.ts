/**
 * Durable before it answers: concurrent clients post batches to a real `clicklake serve` process
 * that is killed with SIGKILL mid-stream and started again; the clients retry whatever got no 200
 * (same event ids, as the tracker does). After SIGTERM (which must deliver and exit 0) and
 * compaction, every acknowledged event is in the curated table exactly once.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clickstream } from '../src/synth/clickstream.js';
import { runCli } from './support/cli.js';
import { curatedRows, startServeChild, type ServeChild } from './support/serve-child.js';

const CLIENTS = 8;
const BATCH = 25;
const BATCHES_PER_CLIENT = 40;

let lakeDir = '';
afterAll(async () => {
  if (lakeDir) await rm(lakeDir, { recursive: true, force: true });
});

describe('clicklake serve survives SIGKILL', () => {
  it('loses no acknowledged event and writes none twice across a kill and a restart', async () => {
    lakeDir = await mkdtemp(path.join(tmpdir(), 'clicklake-durable-'));
    const args = ['--lake', lakeDir, '--flush-seconds', '0.2', '--flush-bytes', '64KiB'];
    const events = [...clickstream({ seed: 99, events: CLIENTS * BATCHES_PER_CLIENT * BATCH, startMs: Date.now() - 3_600_000, spanMs: 1_800_000 })];
    const batches = Array.from({ length: events.length / BATCH }, (_, i) => events.slice(i * BATCH, (i + 1) * BATCH));

    let server: ServeChild = await startServeChild(args);
    let url = server.url;
    const acknowledged = new Set<string>();
    let refusedWhileDown = 0;
    let posted = 0;

    const client = async (c: number): Promise<void> => {
      for (let b = c; b < batches.length; b += CLIENTS) {
        const body = JSON.stringify(batches[b]);
        for (;;) {
          try {
            posted++;
            const res = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5_000) });
            if (res.status === 200) {
              for (const e of batches[b]!) acknowledged.add(e.event_id);
              break;
            }
            expect(res.status).toBeGreaterThanOrEqual(500);
          } catch {
            refusedWhileDown++;
          }
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
        }
      }
    };
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    // Kill it once a good share has been acknowledged, while the clients keep posting.
    while (acknowledged.size < events.length / 3) await new Promise((r) => setTimeout(r, 10));
    const ackedBeforeKill = acknowledged.size;
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const spoolAfterKill = await readdir(path.join(lakeDir, '_spool', 'click_events'));
    await new Promise((r) => setTimeout(r, 300));
    server = await startServeChild(args);
    url = server.url;
    await clients;

    server.child.kill('SIGTERM');
    expect(await server.exited, server.stderr()).toBe(0);
    expect((await readdir(path.join(lakeDir, '_spool', 'click_events'))).filter((f) => f.endsWith('.spool'))).toEqual([]);

    const now = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const compact = await runCli(['compact', '--lake', lakeDir, '--all', '--now', now, '--json'], lakeDir);
    expect(compact.code, compact.stderr).toBe(0);
    const ids = (await curatedRows(lakeDir, 'click_events')).map((r) => String(r['event_id']));
    const counted = new Map<string, number>();
    for (const id of ids) counted.set(id, (counted.get(id) ?? 0) + 1);
    expect([...counted.values()].filter((n) => n > 1)).toEqual([]);
    expect([...acknowledged].filter((id) => !counted.has(id))).toEqual([]);
    expect(acknowledged.size).toBe(events.length);
    console.log(`durability: ${ackedBeforeKill} events acknowledged before SIGKILL, spool held ${spoolAfterKill.length} file(s), ${refusedWhileDown} request(s) failed while down, ${posted} posts in all; curated ${ids.length} rows`);
  }, 120_000);
});
