/** The lake location the Glue tables of the effective settings point at. */
import type { Settings } from '../config/settings.js';
import { ClicklakeError } from '../errors.js';
import type { CatalogTarget } from './table-input.js';

/**
 * Where the Glue tables point: needs a bucket.
 *
 * @throws ClicklakeError `bucket_required` saying where to set it.
 */
export function catalogTarget(settings: Settings): CatalogTarget {
  if (!settings.bucket) {
    throw new ClicklakeError(
      'bucket_required',
      'no S3 bucket configured for the Glue tables: pass --bucket <name> or set "lake": "s3://bucket/prefix" (or "bucket") in clicklake.config.json',
      {},
    );
  }
  const target: CatalogTarget = { bucket: settings.bucket, layout: settings.layout, compression: settings.compaction.compression };
  if (settings.prefix) target.rootPrefix = settings.prefix;
  return target;
}
