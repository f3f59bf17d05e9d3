import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IndexEntries } from '../storage/index-entries.ts';

type Entry = [number, number, number];

/** The model's order: first field ascending, second descending, then record id. */
const cmp = (a: Entry, b: Entry): number => a[0] - b[0] || b[1] - a[1] || a[2] - b[2];

describe('IndexEntries (index storage)', () => {
  it('matches a sorted array of compound keys under any mix of inserts, removals and range reads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('ins', 'ins', 'del'),
            fc.integer({ min: 0, max: 40 }),
            fc.integer({ min: 0, max: 3 }),
            fc.integer({ min: 1, max: 50 }),
          ),
          {
            maxLength: 3000,
          },
        ),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (ops, a, b) => {
          const list = new IndexEntries(2, [1, -1]);
          const model: Entry[] = [];
          for (const [op, x, y, rid] of ops) {
            const at = model.findIndex((e) => e[0] === x && e[1] === y && e[2] === rid);
            if (op === 'ins') {
              if (at >= 0) continue;
              list.insert([x, y], rid);
              model.push([x, y, rid]);
            } else {
              expect(list.remove([x, y], rid)).toBe(at >= 0);
              if (at >= 0) model.splice(at, 1);
            }
          }
          model.sort(cmp);
          expect(list.size).toBe(model.length);
          expect([...list.all()].map((e) => [...e.k, e.r])).toEqual(model);
          expect([...list.all(true)].map((e) => [...e.k, e.r])).toEqual([...model].reverse());
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          // Every entry whose first field lies in [lo, hi] (the second field spans its whole range).
          const inRange = model.filter((e) => e[0] >= lo && e[0] <= hi).map((e) => e[2]);
          expect([...list.range([lo, 3], -Infinity, [hi, 0], Infinity)]).toEqual(inRange);
          expect([...list.range([lo, 3], -Infinity, [hi, 0], Infinity, true)]).toEqual([...inRange].reverse());
          const holders = model.filter((e) => e[0] === a && e[1] === 1).map((e) => e[2]);
          expect(list.otherWith([a, 1], -1)).toBe(holders[0] ?? -1);
          expect(list.otherWith([a, 1], holders[0] ?? -1)).toBe(holders[1] ?? -1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps ascending appends in order across chunk splits', () => {
    const list = new IndexEntries(1, [1]);
    for (let i = 0; i < 5000; i++) list.insert([i], i + 1);
    list.insert([-1], 9000);
    list.insert([2500.5], 9001);
    const all = [...list.all()].map((e) => e.k[0] as number);
    expect(all).toHaveLength(5002);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect([...list.range([4998], -Infinity, [10_000], Infinity)]).toEqual([4999, 5000]);
    expect(list.remove([2500.5], 9001)).toBe(true);
    expect(list.remove([2500.5], 9001)).toBe(false);
    expect(list.size).toBe(5001);
  });
});
