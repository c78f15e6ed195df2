#!/usr/bin/env node
// npm run build:lambda [-- --arch x64|arm64]
//
// Bundles the compaction handler (src/compaction/lambda/handler.ts) with esbuild into
// dist-lambda/<arch>/index.mjs (with stage-worker.mjs, the staging worker thread), next to the schemas it loads and DuckDB's native binding for
// Linux (linux-x64 from node_modules; linux-arm64 fetched with `npm pack` from the registry).
// The AWS SDK is bundled too, so the package does not depend on the runtime's SDK version.
// Zip the directory's contents and upload it; the handler is `index.handler`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const archIndex = args.indexOf('--arch');
const arch = archIndex >= 0 ? args[archIndex + 1] : 'x64';
if (arch !== 'x64' && arch !== 'arm64') {
  console.error(`--arch ${arch} is not a Lambda architecture: use x64 or arm64`);
  process.exit(1);
}
const out = path.join(root, 'dist-lambda', arch);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const bundle = { bundle: true, platform: 'node', target: 'node20', format: 'esm', sourcemap: true, logLevel: 'warning' };
await build({
  ...bundle,
  entryPoints: [path.join(root, 'src/compaction/lambda/handler.ts')],
  outfile: path.join(out, 'index.mjs'),
  // The native binding resolves its platform package at run time: ship it as files instead.
  external: ['@duckdb/node-bindings'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  define: { __CLICKLAKE_VERSION__: JSON.stringify(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version) },
});
// Staging frames objects on worker threads; the handler finds this file next to itself.
await build({ ...bundle, entryPoints: [path.join(root, 'src/compaction/read/stage-worker.ts')], outfile: path.join(out, 'stage-worker.mjs') });

const modules = path.join(out, 'node_modules');
const copyModule = (name) => cpSync(path.join(root, 'node_modules', name), path.join(modules, name), { recursive: true, dereference: true });
copyModule('@duckdb/node-bindings');
copyModule('detect-libc');
const bindingVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/@duckdb/node-bindings/package.json'), 'utf8')).version;
const platformPackage = `@duckdb/node-bindings-linux-${arch}`;
if (existsSync(path.join(root, 'node_modules', platformPackage))) {
  copyModule(platformPackage);
} else {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clicklake-binding-'));
  let tarball;
  try {
    tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp, `${platformPackage}@${bindingVersion}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop();
  } catch (err) {
    console.error(`cannot fetch ${platformPackage}@${bindingVersion} (the binding must match @duckdb/node-bindings exactly): ${String(err.stderr ?? err.message).split('\n').find((l) => l.includes('error')) ?? err.message}`);
    console.error('build for x64, or pin @duckdb/node-api to a version whose linux-arm64 binding is published (npm view @duckdb/node-bindings-linux-arm64 versions)');
    process.exit(1);
  }
  mkdirSync(path.join(modules, platformPackage), { recursive: true });
  execFileSync('tar', ['xzf', path.join(tmp, tarball), '-C', path.join(modules, platformPackage), '--strip-components=1']);
  rmSync(tmp, { recursive: true, force: true });
}
cpSync(path.join(root, 'schemas'), path.join(out, 'schemas'), { recursive: true });
writeFileSync(path.join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2));
console.log(`built ${path.relative(root, out)}/ (handler: index.handler, runtime: nodejs20.x or newer, architecture: ${arch === 'x64' ? 'x86_64' : 'arm64'})`);
console.log(`zip it with: (cd ${path.relative(root, out)} && zip -qr ../clicklake-compaction-${arch}.zip .)`);
