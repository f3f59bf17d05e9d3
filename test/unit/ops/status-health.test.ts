import { describe, expect, it } from 'vitest';
import { formatStatus, type StatusReport } from '../../../src/ops/index.ts';

const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

function report(nodes: StatusReport['nodes']): StatusReport {
  return {
    at,
    queue: {
      byState: { queued: 0, locked: 0, submitted: 0, delivered: 0, undeliverable: 0, expired: 0, rejected: 0, cancelled: 0 },
      otherStates: {},
      total: 0,
      due: 0,
      waiting: 0,
    },
    locks: { destinations: { held: 0, expired: 0, oldest: [] }, messages: { held: 0, expired: 0 } },
    oldestDue: null,
    nodes,
    connectors: [],
    queueSampler: null,
  };
}

const node = (over: Partial<StatusReport['nodes'][number]>): StatusReport['nodes'][number] => ({
  name: 'x',
  kind: 'deliverer',
  host: 'h',
  pid: 1,
  startedAt: at,
  lastSeenAt: at,
  live: true,
  ...over,
});

describe('smsc status: health and what smsc up started', () => {
  it('shows each process as its /healthz last said, with the reasons when unavailable', () => {
    const text = formatStatus(
      report([
        node({ name: 'deliverer-a', health: { status: 'ok', problems: [] } }),
        node({
          name: 'deliverer-b',
          health: {
            status: 'unavailable',
            problems: [
              { check: 'events-tail', reason: 'events tail down: connection 4 to 127.0.0.1:27017 closed', since: at.toISOString() },
            ],
          },
        }),
        node({ name: 'old', kind: 'cleanup' }),
      ]),
    );
    expect(text).toMatch(/deliverer-a .* ok$/m);
    expect(text).toMatch(/deliverer-b .* UNAVAILABLE: events-tail: events tail down: connection 4 to 127\.0\.0\.1:27017 closed$/m);
    // A process that reports no health (an older version) shows none rather than a guess.
    expect(text).toMatch(/old {2}pid 1 on h .* ago$/m);
  });

  it("shows each process's clock offset from MongoDB, loudly when it stops delivery", () => {
    const text = formatStatus(
      report([
        node({ name: 'in-bounds', info: { clock: { offsetMs: -12, ok: true } }, health: { status: 'ok', problems: [] } }),
        node({ name: 'skewed', info: { clock: { offsetMs: 20_150, ok: false } } }),
        node({ name: 'unmeasured', info: { clock: { offsetMs: null, ok: true } } }),
      ]),
    );
    expect(text).toMatch(/in-bounds .* clock -12 ms {2}ok$/m);
    expect(text).toMatch(/skewed .* CLOCK OFF BY \+20150 ms \(not delivering\)$/m);
    expect(text).toMatch(/unmeasured .* ago$/m);
  });

  it('lists the children of an smsc up under it, with restarts and the last exit', () => {
    const text = formatStatus(
      report([
        node({
          name: 'up-h-9',
          kind: 'up',
          pid: 9,
          health: { status: 'ok', problems: [] },
          info: {
            children: [
              { name: 'mongodb', kind: 'mongodb', state: 'running', pid: 10, restarts: 0 },
              { name: 'deliverer-1', kind: 'deliverer', state: 'running', pid: 12, restarts: 2, lastExit: { exit: 'signal SIGKILL', at } },
              { name: 'cleanup', kind: 'cleanup', state: 'restarting', restarts: 0 },
            ],
          },
        }),
      ]),
    );
    expect(text).toMatch(/^ {6}mongodb {7}running {4}pid 10$/m);
    expect(text).toMatch(/^ {6}deliverer-1 {3}running {4}pid 12, restarted 2x \(last: signal SIGKILL\)$/m);
    expect(text).toMatch(/^ {6}cleanup {7}restarting no pid$/m);
  });
});
