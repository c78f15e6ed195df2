/**
 * Bad input at every command: the whole command tree is walked, and every command gets an
 * unknown flag, a missing config file, a config that is not JSON, and for every option that takes
 * a value a few wrong ones (empty, negative, nonsense, a path that does not exist), with the AWS
 * endpoints unreachable. Whatever happens, the answer is exit 0, 1 or 2 with, on failure, one
 * `error:` line that says what to do: never an internal error, never a stack trace.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { runCli } from './support/cli.js';

/** Commands that run until stopped or for long (a server; the demo's whole pipeline): only their flag checks run here. */
const LONG_RUNNING = new Set(['serve', 'demo']);
const WRONG_VALUES = ['', '-1', 'not-a-valid-value', '/nonexistent/dir/file.json'];

interface Leaf {
  path: string[];
  /** Positional arguments, filled with a placeholder. */
  args: string[];
  options: Array<{ flag: string; takesValue: boolean }>;
}

function leaves(cmd: Command, prefix: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const sub of cmd.commands) {
    const p = [...prefix, sub.name()];
    if (sub.commands.length) out.push(...leaves(sub, p));
    else {
      // Required arguments and mandatory options get a placeholder, so the flag under test is what is judged.
      const args = [...(sub.registeredArguments ?? []).filter((a) => a.required).map(() => 'x'), ...sub.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'placeholder.out'])];
      out.push({ path: p, args, options: sub.options.filter((o) => o.long).map((o) => ({ flag: o.long!, takesValue: o.required || o.optional })) });
    }
  }
  return out;
}

let cwd: string;
const commands = leaves(buildProgram({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/' }));

beforeAll(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'clicklake-bad-input-'));
  await writeFile(path.join(cwd, 'broken.json'), '{ "lake": ');
  // Every AWS client the commands make points at a closed port, with no retries to wait for.
  for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDBADINPUT', AWS_SECRET_ACCESS_KEY: 'bad-input', AWS_MAX_ATTEMPTS: '1', AWS_PROFILE: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' })) vi.stubEnv(k, v);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(cwd, { recursive: true, force: true });
});

function expectOneLineAnswer(run: { code: number; stdout: string; stderr: string }, what: string): void {
  expect([0, 1, 2], `${what}: exit ${run.code}\n${run.stderr}`).toContain(run.code);
  expect(run.stderr, what).not.toMatch(/internal error/);
  expect(run.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  if (run.code === 1) expect(run.stderr.split('\n').filter((l) => l.startsWith('error:')).length, `${what}: ${run.stderr}`).toBe(1);
}

describe('bad input at every command', () => {
  it('walks a command tree of every command', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.map((c) => c.path.join(' '))).toEqual(expect.arrayContaining(['compact', 'catalog plan', 'deploy synth', 'cost', 'query']));
  });

  it.each(commands.map((c) => [c.path.join(' '), c] as const))('%s: an unknown flag, a missing config, a broken config', async (_name, c) => {
    const unknown = await runCli([...c.path, ...c.args, '--no-such-flag'], cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown option '--no-such-flag'/m);
    if (c.options.some((o) => o.flag === '--config')) {
      const missing = await runCli([...c.path, ...c.args, '--config', 'nowhere.json'], cwd);
      expect(missing.code, missing.stderr).toBe(1);
      expect(missing.stderr).toMatch(/nowhere\.json/);
      expectOneLineAnswer(missing, `${c.path.join(' ')} --config nowhere.json`);
      const broken = await runCli([...c.path, ...c.args, '--config', 'broken.json'], cwd);
      expect(broken.code, broken.stderr).toBe(1);
      expect(broken.stderr).toMatch(/broken\.json/);
      expectOneLineAnswer(broken, `${c.path.join(' ')} --config broken.json`);
    }
  });

  const valueCases = commands
    .filter((c) => !LONG_RUNNING.has(c.path[0]!))
    .flatMap((c) => c.options.filter((o) => o.takesValue && o.flag !== '--config').map((o) => [`${c.path.join(' ')} ${o.flag}`, c, o.flag] as const));

  it.each(valueCases)('%s with wrong values', async (_name, c, flag) => {
    for (const value of WRONG_VALUES) {
      const run = await runCli([...c.path, ...c.args, flag, value], cwd);
      expectOneLineAnswer(run, `${c.path.join(' ')} ${flag} '${value}'`);
    }
  }, 120_000);
});
