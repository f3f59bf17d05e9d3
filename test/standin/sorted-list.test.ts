import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SortedList } from '../../standin/storage/sorted-list.ts';

const cmp = (a: number, b: number): number => a - b;

describe('SortedList (index storage)', () => {
  it('matches a sorted array under any mix of inserts, removals and range reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('ins', 'ins', 'del'), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        (ops, a, b) => {
          const list = new SortedList<number>(cmp);
          const model: number[] = [];
          for (const [op, v] of ops) {
            if (op === 'ins') {
              if (model.includes(v)) continue;
              list.insert(v);
              model.push(v);
            } else {
              expect(list.remove(v)).toBe(model.includes(v));
              const at = model.indexOf(v);
              if (at >= 0) model.splice(at, 1);
            }
          }
          model.sort(cmp);
          expect(list.size).toBe(model.length);
          expect([...list.all()]).toEqual(model);
          expect([...list.all(true)]).toEqual([...model].reverse());
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const inRange = model.filter((x) => x >= lo && x <= hi);
          expect([...list.range(lo, hi)]).toEqual(inRange);
          expect([...list.range(lo, hi, true)]).toEqual([...inRange].reverse());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps ascending appends in order across chunk splits', () => {
    const list = new SortedList<number>(cmp);
    for (let i = 0; i < 5000; i++) list.insert(i);
    list.insert(-1);
    list.insert(2500.5);
    const all = [...list.all()];
    expect(all).toHaveLength(5002);
    expect(all).toEqual([...all].sort(cmp));
    expect([...list.range(4998, 10_000)]).toEqual([4998, 4999]);
  });
});
