import { describe, expect, it } from 'vitest';
import { isClicklakeError } from '../src/errors.js';
import {
  closedHours,
  DAY_MS,
  formatHour,
  HOUR_MS,
  hourOf,
  hourPath,
  hourStem,
  isClosed,
  parseHour,
  parseHourPath,
  utcDate,
} from '../src/partitions/hours.js';
import {
  curatedFileKey,
  curatedTablePrefix,
  DEFAULT_LAYOUT,
  errorsKey,
  firehosePrefixes,
  manifestKey,
  manifestKeyHour,
  manifestsTablePrefix,
  parseCuratedKey,
  rawHourPrefix,
  rawKeyHour,
  rawTablePrefix,
  type LakeLayout,
} from '../src/partitions/layout.js';
import { curatedProjection, rawProjection, s3Url } from '../src/partitions/projection.js';
import { buildTableSpec } from '../src/schema/load.js';

const MINUTE = 60_000;
const at = (iso: string): number => Date.parse(iso);

const spec = buildTableSpec({
  type: 'object',
  'x-lake': { table: 'click_events', eventTime: 'ts', eventId: 'id', partitionStart: '2024-03-15', sortKeys: [] },
  required: ['id', 'ts'],
  properties: { id: { type: 'string' }, ts: { type: 'string', format: 'date-time' } },
});

describe('partition projection', () => {
  it('raw table: hourly arrival-time partitions', () => {
    expect(rawProjection(spec, DEFAULT_LAYOUT, { bucket: 'b' })).toEqual({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy/MM/dd/HH',
      'projection.dt.range': '2024/03/15/00,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'HOURS',
      'storage.location.template': 's3://b/raw/click_events/${dt}/',
    });
  });

  it('curated table: daily event-date partitions', () => {
    expect(curatedProjection(spec, DEFAULT_LAYOUT, { bucket: 'b' })).toEqual({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-03-15,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': 's3://b/curated/click_events/dt=${dt}/',
    });
  });

  it('a root prefix and a custom layout move both templates', () => {
    const layout: LakeLayout = { ...DEFAULT_LAYOUT, rawPrefix: 'landing/firehose', curatedPrefix: 'warehouse' };
    for (const rootPrefix of ['lakes/prod', '/lakes/prod/', 'lakes/prod/']) {
      const location = { bucket: 'b', rootPrefix };
      expect(rawProjection(spec, layout, location)['storage.location.template']).toBe('s3://b/lakes/prod/landing/firehose/click_events/${dt}/');
      expect(curatedProjection(spec, layout, location)['storage.location.template']).toBe('s3://b/lakes/prod/warehouse/click_events/dt=${dt}/');
    }
  });

  it('s3Url joins bucket, root prefix and key prefix', () => {
    expect(s3Url({ bucket: 'b' }, 'raw/t/')).toBe('s3://b/raw/t/');
    expect(s3Url({ bucket: 'b', rootPrefix: '' }, 'raw/t/')).toBe('s3://b/raw/t/');
    expect(s3Url({ bucket: 'b', rootPrefix: 'p/q' }, 'raw/t/')).toBe('s3://b/p/q/raw/t/');
  });
});

describe('hours', () => {
  it('formatHour / parseHour round trip', () => {
    for (const text of ['2024-05-01T00', '2024-05-01T13', '2024-02-29T23', '1999-12-31T23', '2100-01-01T00']) {
      const hour = parseHour(text);
      expect(formatHour(hour)).toBe(text);
      expect(hour % HOUR_MS).toBe(0);
    }
    expect(parseHour('2024-05-01T13')).toBe(at('2024-05-01T13:00:00Z'));
  });

  it.each(['2024-02-30T10', '2023-02-29T00', '2024-05-01T24', '2024-05-01T25', '2024-13-01T00', '2024-05-01 10', '2024-05-01T1', '2024-05-01T10:00', ''])(
    'parseHour refuses %j with a one-line ClicklakeError',
    (text) => {
      let caught: unknown;
      try {
        parseHour(text);
      } catch (err) {
        caught = err;
      }
      expect(isClicklakeError(caught)).toBe(true);
      if (!isClicklakeError(caught)) return;
      expect(caught.code).toBe('bad_hour');
      expect(caught.message).toBe(`"${text}" is not an hour: write it as YYYY-MM-DDTHH in UTC, e.g. 2024-05-01T13`);
      expect(caught.message).not.toContain('\n');
    },
  );

  it('hourPath / parseHourPath round trip, hourStem', () => {
    const hour = at('2024-05-01T07:00:00Z');
    expect(hourPath(hour)).toBe('2024/05/01/07');
    expect(parseHourPath('2024/05/01/07')).toBe(hour);
    expect(hourStem(hour)).toBe('2024050107');
    for (let h = at('2024-02-28T20:00:00Z'); h < at('2024-03-01T04:00:00Z'); h += HOUR_MS) {
      expect(parseHourPath(hourPath(h))).toBe(h);
    }
  });

  it.each(['2024/02/30/10', '2023/02/29/00', '2024/05/01/25', '2024/05/01/24', '2024/13/01/00', '2024/5/1/7', '2024-05-01-07', '2024/05/01', '2024/05/01/07/'])(
    'parseHourPath refuses %j',
    (text) => {
      expect(parseHourPath(text)).toBeUndefined();
    },
  );

  it('hourOf floors to the hour, also before 1970', () => {
    expect(hourOf(at('2024-05-01T10:59:59.999Z'))).toBe(at('2024-05-01T10:00:00Z'));
    expect(hourOf(at('2024-05-01T10:00:00Z'))).toBe(at('2024-05-01T10:00:00Z'));
    expect(hourOf(at('1969-12-31T23:30:00Z'))).toBe(at('1969-12-31T23:00:00Z'));
  });

  it.each([
    ['2024-05-01T23:30:00-02:00', '2024-05-02'],
    ['2024-05-02T00:30:00+02:00', '2024-05-01'],
    ['2024-05-01T23:59:59.999Z', '2024-05-01'],
    ['2024-05-02T00:00:00Z', '2024-05-02'],
    ['2024-05-02T05:29:59+05:30', '2024-05-01'],
    ['2024-12-31T20:00:00-05:00', '2025-01-01'],
    ['2024-03-01T01:00:00+14:00', '2024-02-29'],
    ['1969-12-31T23:00:00Z', '1969-12-31'],
  ])('utcDate(%s) = %s', (iso, date) => {
    expect(utcDate(at(iso))).toBe(date);
  });
});

describe('closed hours', () => {
  const grace = 20 * MINUTE;
  const lookback = 48 * HOUR_MS;

  it('an hour closes exactly at its end + grace', () => {
    const hour = at('2024-05-01T10:00:00Z');
    expect(isClosed(hour, at('2024-05-01T11:19:59.999Z'), grace)).toBe(false);
    expect(isClosed(hour, at('2024-05-01T11:20:00Z'), grace)).toBe(true);
    expect(isClosed(hour, at('2024-05-01T10:30:00Z'), 0)).toBe(false);
    expect(isClosed(hour, at('2024-05-01T11:00:00Z'), 0)).toBe(true);
  });

  it('lists the closed hours of the lookback window, oldest first', () => {
    const now = at('2024-05-03T12:30:00Z');
    const hours = closedHours(now, grace, lookback);
    expect(hours).toHaveLength(48);
    expect(formatHour(hours[0]!)).toBe('2024-05-01T12');
    expect(formatHour(hours.at(-1)!)).toBe('2024-05-03T11');
    for (let i = 1; i < hours.length; i++) expect(hours[i]! - hours[i - 1]!).toBe(HOUR_MS);
  });

  it('agrees with isClosed at the grace boundary', () => {
    for (const now of [at('2024-05-03T12:19:59.999Z'), at('2024-05-03T12:20:00Z'), at('2024-05-03T12:00:00Z'), at('2024-05-03T13:00:00Z')]) {
      const hours = closedHours(now, grace, lookback);
      const newest = hours.at(-1)!;
      expect(isClosed(newest, now, grace)).toBe(true);
      expect(isClosed(newest + HOUR_MS, now, grace)).toBe(false);
    }
    expect(formatHour(closedHours(at('2024-05-03T12:19:59.999Z'), grace, lookback).at(-1)!)).toBe('2024-05-03T10');
    expect(formatHour(closedHours(at('2024-05-03T12:20:00Z'), grace, lookback).at(-1)!)).toBe('2024-05-03T11');
  });

  it('the oldest hour is the one holding now - lookback', () => {
    expect(formatHour(closedHours(at('2024-05-03T12:00:00Z'), grace, lookback)[0]!)).toBe('2024-05-01T12');
    expect(formatHour(closedHours(at('2024-05-03T12:59:00Z'), grace, 3 * HOUR_MS)[0]!)).toBe('2024-05-03T09');
  });

  it('is empty when the lookback is shorter than the grace', () => {
    expect(closedHours(at('2024-05-03T12:10:00Z'), grace, 30 * MINUTE)).toEqual([]);
  });

  it('crosses day and month boundaries', () => {
    const hours = closedHours(at('2024-03-01T01:30:00Z'), grace, 3 * HOUR_MS).map(formatHour);
    expect(hours).toEqual(['2024-02-29T22', '2024-02-29T23', '2024-03-01T00']);
    expect(DAY_MS).toBe(24 * HOUR_MS);
  });
});

describe('key layout', () => {
  const hour = at('2024-05-01T07:00:00Z');
  const layout = DEFAULT_LAYOUT;

  it('builds the default keys of DESIGN.md', () => {
    expect(rawTablePrefix(layout, 'click_events')).toBe('raw/click_events/');
    expect(rawHourPrefix(layout, 'click_events', hour)).toBe('raw/click_events/2024/05/01/07/');
    expect(curatedTablePrefix(layout, 'click_events')).toBe('curated/click_events/');
    expect(curatedFileKey(layout, 'click_events', '2024-04-30', hour)).toBe('curated/click_events/dt=2024-04-30/2024050107.parquet');
    expect(errorsKey(layout, 'click_events', hour)).toBe('errors/click_events/2024/05/01/07.ndjson.gz');
    expect(manifestsTablePrefix(layout, 'click_events')).toBe('_manifests/click_events/');
    expect(manifestKey(layout, 'click_events', hour)).toBe('_manifests/click_events/2024/05/01/07.json');
  });

  it('honours a custom layout, with or without slashes', () => {
    const custom: LakeLayout = { rawPrefix: '/in/firehose/', curatedPrefix: 'out', errorsPrefix: 'bad/', manifestsPrefix: 'meta' };
    expect(rawHourPrefix(custom, 't', hour)).toBe('in/firehose/t/2024/05/01/07/');
    expect(curatedFileKey(custom, 't', '2024-05-01', hour)).toBe('out/t/dt=2024-05-01/2024050107.parquet');
    expect(errorsKey(custom, 't', hour)).toBe('bad/t/2024/05/01/07.ndjson.gz');
    expect(manifestKey(custom, 't', hour)).toBe('meta/t/2024/05/01/07.json');
    expect(rawKeyHour(custom, 't', 'in/firehose/t/2024/05/01/07/obj-1')).toBe(hour);
    expect(manifestKeyHour(custom, 't', manifestKey(custom, 't', hour))).toBe(hour);
  });

  it('rawKeyHour reads the arrival hour of a Firehose object key', () => {
    expect(rawKeyHour(layout, 'click_events', 'raw/click_events/2024/05/01/07/click-stream-1-2024-05-01-07-12-00-abc')).toBe(hour);
    expect(rawKeyHour(layout, 'click_events', 'raw/click_events/2024/05/01/07/sub/dir/obj.gz')).toBe(hour);
  });

  it.each([
    'raw/click_events/2024/05/01/07/',
    'raw/click_events/2024/05/01/07',
    'raw/click_events/2024/05/01/obj',
    'raw/click_events/2024/02/30/07/obj',
    'raw/click_events/2024/05/01/25/obj',
    'raw/click_events/2024/5/1/07/obj',
    'raw/click_events/manifest.json',
    'raw/click_events_firehose_errors/2024/05/01/07/obj',
    'raw/other/2024/05/01/07/obj',
    'curated/click_events/2024/05/01/07/obj',
    'xraw/click_events/2024/05/01/07/obj',
  ])('rawKeyHour ignores %s', (key) => {
    expect(rawKeyHour(layout, 'click_events', key)).toBeUndefined();
  });

  it('curated keys round trip through parseCuratedKey', () => {
    for (const [dt, h] of [['2024-04-30', hour], ['2024-12-31', at('2025-01-01T00:00:00Z')]] as const) {
      const key = curatedFileKey(layout, 'click_events', dt, h);
      expect(parseCuratedKey(layout, 'click_events', key)).toEqual({ dt, stem: hourStem(h) });
    }
    for (const key of [
      'curated/click_events/dt=2024-04-30/2024050107.parquet.tmp',
      'curated/click_events/dt=2024-04-30/part-0.parquet',
      'curated/click_events/2024-04-30/2024050107.parquet',
      'curated/other/dt=2024-04-30/2024050107.parquet',
      'curated/click_events_v2/dt=2024-04-30/2024050107.parquet',
    ]) {
      expect(parseCuratedKey(layout, 'click_events', key), key).toBeUndefined();
    }
  });

  it('manifest keys round trip through manifestKeyHour', () => {
    expect(manifestKeyHour(layout, 'click_events', manifestKey(layout, 'click_events', hour))).toBe(hour);
    for (const key of ['_manifests/click_events/2024/05/01/07.json.tmp', '_manifests/click_events/2024/02/30/07.json', '_manifests/other/2024/05/01/07.json']) {
      expect(manifestKeyHour(layout, 'click_events', key), key).toBeUndefined();
    }
  });

  it('the errors key and the manifest key of one hour differ only by zone and suffix', () => {
    expect(errorsKey(layout, 't', hour).replace(/^errors\//, '').replace(/\.ndjson\.gz$/, '')).toBe(manifestKey(layout, 't', hour).replace(/^_manifests\//, '').replace(/\.json$/, ''));
  });

  it('firehosePrefixes produce the raw hour layout and keep errors out of the raw table', () => {
    const prefixes = firehosePrefixes(layout, 'click_events');
    expect(prefixes).toEqual({
      prefix: 'raw/click_events/!{timestamp:yyyy/MM/dd/HH}/',
      errorOutputPrefix: 'raw/click_events_firehose_errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/',
    });
    // What Firehose writes under the prefix for an hour is what rawKeyHour reads back.
    const delivered = `${prefixes.prefix.replace('!{timestamp:yyyy/MM/dd/HH}', hourPath(hour))}stream-1-2024-05-01-07-00-00-uuid`;
    expect(rawKeyHour(layout, 'click_events', delivered)).toBe(hour);
    expect(delivered.startsWith(rawHourPrefix(layout, 'click_events', hour))).toBe(true);
    // Firehose's error objects never land under the raw table's location.
    expect(prefixes.errorOutputPrefix.startsWith(rawTablePrefix(layout, 'click_events'))).toBe(false);
    expect(firehosePrefixes({ ...layout, rawPrefix: 'landing/' }, 't').prefix).toBe('landing/t/!{timestamp:yyyy/MM/dd/HH}/');
  });
});
