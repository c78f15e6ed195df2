import { createRequire } from 'node:module';

/** Set by the Lambda bundler (esbuild `define`), where package.json is not beside the code. */
declare const __CLICKLAKE_VERSION__: string | undefined;

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

/** The package version, recorded in manifests so a lake says which clicklake wrote it. */
export const CLICKLAKE_VERSION: string = typeof __CLICKLAKE_VERSION__ === 'string' ? __CLICKLAKE_VERSION__ : packageVersion();
