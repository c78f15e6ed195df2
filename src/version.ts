import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The package version, recorded in manifests so a lake says which clicklake wrote it. */
export const CLICKLAKE_VERSION: string = (require('../package.json') as { version: string }).version;
