import { describe, expect, it } from 'vitest';
import { Wakeup } from '../../../src/delivery/index.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Wakeup', () => {
  function waiters(wakeup: Wakeup, n: number): { woken: () => number } {
    let woken = 0;
    const seen = wakeup.generation;
    for (let i = 0; i < n; i++) void wakeup.wait(seen, undefined).then(() => woken++);
    return { woken: () => woken };
  }

  it('wakeOne wakes a single waiter; each recruit one more; wake all of them', async () => {
    const wakeup = new Wakeup();
    const lanes = waiters(wakeup, 5);
    wakeup.wakeOne();
    await tick();
    expect(lanes.woken()).toBe(1);
    wakeup.recruit();
    wakeup.recruit();
    await tick();
    expect(lanes.woken()).toBe(3);
    wakeup.wake();
    await tick();
    expect(lanes.woken()).toBe(5);
  });

  it('a wake while a lane was busy is not lost: its next wait returns at once', async () => {
    const wakeup = new Wakeup();
    const seen = wakeup.generation;
    wakeup.wakeOne();
    let done = false;
    void wakeup.wait(seen, undefined).then(() => (done = true));
    await tick();
    expect(done).toBe(true);
  });

  it('recruit is not a wake: a lane that saw no new wake keeps waiting after it found nothing', async () => {
    const wakeup = new Wakeup();
    const seen = wakeup.generation;
    wakeup.recruit(); // nobody waiting: nothing happens, nothing is remembered
    let done = false;
    void wakeup.wait(seen, 20).then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(done).toBe(true);
  });
});
