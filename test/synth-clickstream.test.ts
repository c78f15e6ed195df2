import { describe, expect, it } from 'vitest';
import { clickstream } from '../src/synth/clickstream.js';

const HOUR = Date.UTC(2024, 4, 1, 10);
const take = (events: number) => [...clickstream({ seed: 5, events, startMs: HOUR, spanMs: 3_000_000, restaurants: 3 })];

describe('clickstream generator', () => {
  it('gives exactly the number of events asked for, also when a session is cut mid-step', () => {
    // Sessions emit in steps of up to three events (view, click, order), so some counts end inside a step.
    for (const n of [0, 1, 2, 3, 7, 101, 1_000, 4_999]) expect(take(n)).toHaveLength(n);
  });

  it('a smaller count is a prefix of a larger one (same seed)', () => {
    const small = take(997);
    const large = take(2_000);
    expect(small).toEqual(large.slice(0, 997));
    expect(new Set(large.map((e) => e.event_id)).size).toBe(2_000);
  });
});
