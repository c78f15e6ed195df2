import { describe, expect, it } from 'vitest';
import { frameRecords } from '../src/compaction/read/framing.js';
import { KeyTable, newWitness, scanEvent, witnessText } from '../src/compaction/read/witness.js';

const keys = new KeyTable(['id', 'n', 'name', 'flag', 'obj', 'list', 'é']);

function witnessOf(text: string): { ok: boolean; witness: string; unknown: string[] | null; duplicate: boolean; at: number } {
  const b = Buffer.from(text);
  const w = newWitness(keys);
  const r = scanEvent(b, 0, b.length, keys, w);
  return { ok: r.ok, witness: witnessText(w), unknown: w.unknown, duplicate: w.duplicateKey, at: r.at };
}

describe('type witness', () => {
  it('records the JSON kind of every declared property, in declared order', () => {
    const r = witnessOf('{"list":[1,{"a":"]"}],"obj":{"x":"}"},"flag":true,"name":"a\\"b","n":-1.5e3,"id":42}');
    expect(r.ok).toBe(true);
    expect(r.witness).toBe('ifsboa-');
  });

  it('tells integers written without fraction or exponent from other numbers', () => {
    expect(witnessOf('{"n":5}').witness[1]).toBe('i');
    expect(witnessOf('{"n":-0}').witness[1]).toBe('i');
    expect(witnessOf('{"n":5.0}').witness[1]).toBe('f');
    expect(witnessOf('{"n":1E3}').witness[1]).toBe('f');
  });

  it('marks absent properties, null, and false as boolean', () => {
    expect(witnessOf('{"id":null,"flag":false}').witness).toBe('z--b---');
  });

  it('lists undeclared property names, including escaped and non-ASCII ones', () => {
    const r = witnessOf('{"id":"x","extra":1,"caf\\u00e9":2,"ünï":3}');
    expect(r.unknown).toEqual(['extra', 'café', 'ünï']);
    expect(r.witness).toBe('s------');
  });

  it('finds declared names written with escapes or in UTF-8', () => {
    expect(witnessOf('{"\\u0069d":"x","é":1}').witness).toBe('s-----i');
  });

  it('flags a duplicated declared property for the slow path', () => {
    expect(witnessOf('{"id":"a","id":"b"}').duplicate).toBe(true);
    expect(witnessOf('{"id":"a"}').duplicate).toBe(false);
  });

  it('gives the same witness whatever key order the records before it used (the next-key guess)', () => {
    const shared = new KeyTable(['id', 'n', 'name', 'flag', 'obj', 'list', 'é']);
    const properties = ['"id":"x"', '"n":1', '"name":"y"', '"flag":true', '"obj":{}', '"list":[]', '"é":null', '"nam":2', '"id2":0'];
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const picked = properties.filter(() => random() < 0.7).sort(() => random() - 0.5);
      const b = Buffer.from(`{${picked.join(',')}}`);
      const learned = newWitness(shared);
      const fresh = new KeyTable(shared.names);
      const reference = newWitness(fresh);
      expect(scanEvent(b, 0, b.length, shared, learned)).toEqual(scanEvent(b, 0, b.length, fresh, reference));
      expect([witnessText(learned), learned.unknown, learned.duplicateKey]).toEqual([witnessText(reference), reference.unknown, reference.duplicateKey]);
    }
  });

  it('never guesses a declared name that JSON has to escape', () => {
    const quoted = new KeyTable(['a","b', 'z']);
    const scan = (text: string): boolean => scanEvent(Buffer.from(text), 0, text.length, quoted, newWitness(quoted)).ok;
    expect(scan('{"a\\",\\"b":1,"z":2}')).toBe(true);
    // The raw bytes spell the name, but they are the key "a", a comma where ":" belongs, and more.
    expect(scan('{"a","b":1,"z":2}')).toBe(false);
    expect(scan('{"z":2,"a","b":1}')).toBe(false);
  });

  it('fails exactly where a truncated record breaks', () => {
    const text = '{"id":"abc","na{"id":"next"}';
    const r = witnessOf(text);
    expect(r.ok).toBe(false);
    expect(r.at).toBe(text.indexOf('id":"next') );
  });

  it('rejects structure errors a loose scanner would accept', () => {
    expect(witnessOf('{"id" "x"}').ok).toBe(false);
    expect(witnessOf('{"id":"x",}').ok).toBe(false);
    expect(witnessOf('{"id":tru}').ok).toBe(false);
    expect(witnessOf('{"id":"x" "n":1}').ok).toBe(false);
  });

  it('gives batched arrays one witness per event, and sends a batch of non-events to the slow path', () => {
    const spans = [...frameRecords(Buffer.from('[{"id":"a"},{"n":2,"zz":1}] [{"id":"b"},7]'), keys)];
    expect(spans.map((s) => s.kind)).toEqual(['array', 'array']);
    expect(spans[0]!.witnesses!.map(witnessText)).toEqual(['s------', '-i-----']);
    expect(spans[0]!.witnesses![1]!.unknown).toEqual(['zz']);
    expect(spans[0]!.exotic).toBe(false);
    expect(spans[1]!.exotic).toBe(true);
  });

  it('still frames the good records after a truncated one', () => {
    const spans = [...frameRecords(Buffer.from('{"id":"a"}{"id":"trunc{"id":"b"}\n{"id":"c"}'), keys)];
    expect(spans.map((s) => s.kind)).toEqual(['object', 'garbage', 'object', 'object']);
  });
});

describe('JSON strictness where DuckDB is lenient', () => {
  it('refuses trailing commas, NaN and Infinity, which DuckDB reads but JSON.parse does not', () => {
    for (const text of ['{"obj":{"x":1,}}', '{"list":[1,2,]}', '{"n":NaN}', '{"obj":{"x":Infinity}}', '{"list":[-Infinity]}', '{"id":"x",}']) {
      expect(() => JSON.parse(text)).toThrow();
      expect(witnessOf(text).ok, text).toBe(false);
    }
    expect(witnessOf('{"obj":{"x":[1,{"y":"NaN,}"}],"z":null},"list":[true,false,1e5]}').ok).toBe(true);
  });
});
