import { beforeAll, describe, expect, it } from 'vitest';
import { createAjv } from '../src/schema/ajv.js';
import { loadTable } from '../src/schema/load.js';
import type { TableSpec } from '../src/schema/types.js';
import { clickstream } from '../src/synth/clickstream.js';
import { DRAFT_04, MAX_BATCH_EVENTS, requestModel } from '../src/ingest/request-model.js';
import { compileRequestValidator } from '../src/ingest/request-validator.js';

let spec: TableSpec;
beforeAll(async () => {
  spec = await loadTable('click_events');
});

const valid = () => ({
  event_id: '0b9f4a3e-8d6c-4f0a-9a51-6f2d7e1c3b42',
  event_type: 'item_view',
  event_time: '2024-05-06T12:00:00.000+02:00',
  session_id: 's-1',
  anonymous_id: 'a-1',
  restaurant_id: 'rest-001',
  menu_id: 'menu-1',
  item_id: 'r0-s1-d2',
});

describe('the draft-4 request model generated from the event schema', () => {
  it('is draft 4 with no 2020-12 keyword left in it', () => {
    const { model } = requestModel(spec);
    expect(model['$schema']).toBe(DRAFT_04);
    const text = JSON.stringify(model);
    for (const keyword of ['"if"', '"then"', '"const"', '"format"', '"x-lake"', '"$defs"', '"$id"']) expect(text).not.toContain(keyword);
  });

  it('lists what only compaction checks: the per-type rules and the formats', () => {
    const { leftToCompaction } = requestModel(spec);
    const pointers = leftToCompaction.map((c) => c.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/properties/event_id/format', '/properties/event_time/format', '/allOf/0/if', '/allOf/0/then', '/allOf/2/then']));
  });

  it('accepts every event the demo generator makes, alone and in batches, wherever the full schema accepts it', () => {
    const check = compileRequestValidator(requestModel(spec).model);
    const full = createAjv().compile(spec.jsonSchema);
    const events = [...clickstream({ seed: 7, events: 3000, startMs: Date.UTC(2024, 4, 6), spanMs: 86_400_000 })];
    let accepted = 0;
    for (const event of events) {
      expect(full(event)).toBe(true);
      const result = check(event);
      expect(result.errors).toEqual([]);
      accepted += 1;
    }
    expect(events.length).toBeGreaterThan(2500);
    expect(accepted).toBe(events.length);
    for (let i = 0; i < events.length; i += 25) expect(check(events.slice(i, i + 25)).ok).toBe(true);
    expect(check(events.slice(0, MAX_BATCH_EVENTS)).ok).toBe(true);
  });

  it.each([
    ['a missing envelope field', (e: Record<string, unknown>) => delete e['restaurant_id'], "must have required property 'restaurant_id'"],
    ['an unknown event type', (e: Record<string, unknown>) => (e['event_type'] = 'tap'), 'must be one of'],
    ['a wrong type', (e: Record<string, unknown>) => (e['price_cents'] = '12'), '/price_cents must be integer,null'],
    ['a bound', (e: Record<string, unknown>) => (e['scroll_depth_pct'] = 101), '/scroll_depth_pct must be <= 100'],
    ['an empty id', (e: Record<string, unknown>) => (e['session_id'] = ''), '/session_id must NOT have fewer than 1 characters'],
    ['a non-string attribute', (e: Record<string, unknown>) => (e['attributes'] = { table: 7 }), '/attributes/table must be string'],
  ])('rejects %s, alone and inside a batch, saying where', (_name, breakIt, message) => {
    const check = compileRequestValidator(requestModel(spec).model);
    const event = valid();
    breakIt(event);
    const alone = check(event);
    expect(alone.ok).toBe(false);
    expect(alone.errors.join('\n')).toContain(message);
    const batch = check([valid(), event]);
    expect(batch.ok).toBe(false);
    expect(batch.errors.join('\n')).toContain('/1');
  });

  it('rejects an empty batch, a batch over the limit and bodies that are neither event nor array', () => {
    const check = compileRequestValidator(requestModel(spec).model);
    expect(check([]).ok).toBe(false);
    expect(check(Array.from({ length: MAX_BATCH_EVENTS + 1 }, valid)).ok).toBe(false);
    expect(check('hello').ok).toBe(false);
    expect(check(null).ok).toBe(false);
    expect(check([valid(), 5]).ok).toBe(false);
  });

  it('leaves the per-type rule to compaction: a section_view without its section passes the edge', () => {
    const check = compileRequestValidator(requestModel(spec).model);
    const full = createAjv().compile(spec.jsonSchema);
    const event = { ...valid(), event_type: 'section_view' };
    delete (event as Record<string, unknown>)['item_id'];
    expect(check(event).ok).toBe(true);
    expect(full(event)).toBe(false);
  });

  it('rewrites const, exclusive bounds and $defs into their draft-4 forms', () => {
    const { model, leftToCompaction } = requestModel({
      name: 't',
      jsonSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: { pos: { type: 'integer', exclusiveMinimum: 0 } },
        properties: { kind: { const: 'a' }, n: { $ref: '#/$defs/pos' }, m: { type: 'number', exclusiveMaximum: 5, maximum: 9 } },
      },
    });
    expect(leftToCompaction).toEqual([]);
    const check = compileRequestValidator(model);
    expect(check({ kind: 'a', n: 1, m: 4.9 }).ok).toBe(true);
    expect(check({ kind: 'b' }).ok).toBe(false);
    expect(check({ n: 0 }).ok).toBe(false);
    expect(check({ m: 5 }).ok).toBe(false);
    expect(check([{ n: 2 }]).ok).toBe(true);
  });
});
