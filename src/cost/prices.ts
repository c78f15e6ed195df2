/**
 * A Region's list prices, one file per Region (`prices/<region>.json`), each price with its unit,
 * source and the date it was read. A file missing a price is refused naming it: a bill computed
 * with a silent zero would be wrong without saying so.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ClicklakeError } from '../errors.js';

export const PRICE_NAMES = [
  'apiGatewayRestPerMillionRequests',
  'firehoseIngestionPerGB',
  'firehoseFormatConversionPerGB',
  'firehoseDynamicPartitioningPerGB',
  'firehoseDynamicPartitioningPer1000Objects',
  's3StandardPerGBMonth',
  's3StandardIaPerGBMonth',
  's3IntelligentTieringFrequentPerGBMonth',
  's3IntelligentTieringInfrequentPerGBMonth',
  's3IntelligentTieringMonitoringPer1000Objects',
  's3PutPer1000',
  's3GetPer1000',
  's3InterRegionTransferPerGB',
  'kmsKeyPerMonth',
  'kmsPer10000Requests',
  'lambdaArmPerGBSecond',
  'lambdaPerMillionRequests',
  'glueDpuHour',
  'glueCatalogPer100000ObjectsMonth',
  'athenaPerTBScanned',
  'stepFunctionsPer1000Transitions',
] as const;

export type PriceName = (typeof PRICE_NAMES)[number];
export type Prices = Record<PriceName, number>;

/** The prices clicklake ships, per Region. */
export const PRICES_DIR = fileURLToPath(new URL('../../prices/', import.meta.url));

/** Checks a parsed prices document and returns its USD amounts by name. */
export function parsePrices(doc: unknown, source: string): Prices {
  const prices = (doc as { prices?: Record<string, { usd?: unknown; source?: unknown }> } | null)?.prices;
  if (typeof prices !== 'object' || prices === null) {
    throw new ClicklakeError('prices_invalid', `${source} has no "prices" object: see prices/us-east-1.json for the format`, { source });
  }
  const out = {} as Prices;
  for (const name of PRICE_NAMES) {
    const entry = prices[name];
    if (!entry || typeof entry.usd !== 'number' || !Number.isFinite(entry.usd) || entry.usd < 0) {
      throw new ClicklakeError('price_missing', `${source} has no price "${name}": add it as { "usd": <number>, "unit", "source", "asOf" } (see prices/us-east-1.json)`, { source, name });
    }
    if (typeof entry.source !== 'string' || entry.source === '') {
      throw new ClicklakeError('price_unsourced', `${source}: price "${name}" has no "source": say where the price was read`, { source, name });
    }
    out[name] = entry.usd;
  }
  return out;
}

export interface LoadedPrices {
  amounts: Prices;
  file: string;
  /** The file's `asOf` date: when its prices were read. */
  asOf: string;
}

/** Reads a prices file: `file`, or the shipped one of `region`. */
export async function loadPrices(options: { file?: string; region?: string }): Promise<LoadedPrices> {
  const file = options.file ?? `${PRICES_DIR}${options.region ?? 'us-east-1'}.json`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const hint = options.file ? 'check the path' : `clicklake ships prices for us-east-1 only: pass --region us-east-1, or --prices FILE with your Region's prices`;
    throw new ClicklakeError('prices_not_found', `cannot read prices file ${file}: ${hint}`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ClicklakeError('prices_invalid', `${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
  const asOf = (doc as { asOf?: unknown }).asOf;
  return { amounts: parsePrices(doc, file), file, asOf: typeof asOf === 'string' ? asOf : 'an unknown date' };
}
