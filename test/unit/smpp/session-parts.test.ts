// The small parts SmppSession is built from, each on its own: the write corking, the read flow
// control, the enquire_link keep-alive and the bind rules. The session as a whole is tested on
// real sockets in test/integration/smpp.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BindState, CommandStatus, CorkedWriter, InboundFlow, KeepAlive, type KeepAliveOptions } from '../../../src/smpp/index.ts';

/** A socket stand-in that records each write the kernel would get: one entry per syscall. */
class RecordingSink extends Writable {
  readonly syscalls: Buffer[][] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.syscalls.push([chunk]);
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.syscalls.push(chunks.map((c) => c.chunk));
    done();
  }
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('CorkedWriter', () => {
  it('sends the frames written in one tick in one write, and those of the next tick in another', async () => {
    const sink = new RecordingSink();
    const writer = new CorkedWriter(sink);
    for (const n of [1, 2, 3]) expect(writer.write(Buffer.from([n]))).toBe(true);
    expect(sink.syscalls).toEqual([]);
    await nextTick();
    expect(sink.syscalls.map((call) => Buffer.concat(call))).toEqual([Buffer.from([1, 2, 3])]);
    writer.write(Buffer.from([4]));
    writer.write(Buffer.from([5]));
    await nextTick();
    expect(sink.syscalls.map((call) => Buffer.concat(call))).toEqual([Buffer.from([1, 2, 3]), Buffer.from([4, 5])]);
  });

  it('answers false and writes nothing once the socket is no longer writable', async () => {
    const sink = new RecordingSink();
    const writer = new CorkedWriter(sink);
    sink.end();
    expect(writer.write(Buffer.from([1]))).toBe(false);
    await nextTick();
    expect(sink.syscalls).toEqual([]);
  });
});

describe('InboundFlow', () => {
  const flowOf = (max: number, stopped = () => false) => {
    const socket = new PassThrough();
    return { socket, flow: new InboundFlow(socket, max, stopped) };
  };

  it('stops reading at the limit of unanswered requests and reads again once half of them are answered', () => {
    const { socket, flow } = flowOf(4);
    for (let i = 0; i < 3; i++) flow.dispatched();
    expect(socket.isPaused()).toBe(false);
    expect(flow.flowing).toBe(true);
    flow.dispatched();
    expect(socket.isPaused()).toBe(true);
    expect(flow.flowing).toBe(false);
    expect(flow.answered()).toBe(false); // 3 left, above half
    expect(socket.isPaused()).toBe(true);
    expect(flow.answered()).toBe(true); // 2 left: half
    expect(socket.isPaused()).toBe(false);
    expect(flow.flowing).toBe(true);
    expect(flow.unanswered).toBe(2);
  });

  it("keeps the owner's pause when backpressure ends, and backpressure when the owner resumes", () => {
    const { socket, flow } = flowOf(2);
    flow.dispatched();
    flow.dispatched();
    flow.pause();
    flow.answered();
    expect(socket.isPaused()).toBe(true);
    expect(flow.flowing).toBe(false);
    flow.resume();
    expect(socket.isPaused()).toBe(false);
    expect(flow.flowing).toBe(true);

    flow.dispatched(); // at the limit again
    flow.pause();
    flow.resume();
    expect(socket.isPaused()).toBe(true);
    expect(flow.flowing).toBe(false);
  });

  it('never resumes a stopped session', () => {
    let stopped = false;
    const { socket, flow } = flowOf(1, () => stopped);
    flow.dispatched();
    stopped = true;
    flow.answered();
    expect(socket.isPaused()).toBe(true);
  });

  it('waitIdle resolves when the last request is answered, or after its timeout', async () => {
    const { flow } = flowOf(10);
    await flow.waitIdle(60_000); // nothing unanswered: at once
    flow.dispatched();
    flow.dispatched();
    let idle = false;
    const waiting = flow.waitIdle(60_000).then(() => (idle = true));
    flow.answered();
    await nextTick();
    expect(idle).toBe(false);
    flow.answered();
    await waiting;
    flow.dispatched();
    await flow.waitIdle(10); // never answered: the timeout ends the wait
  });
});

describe('KeepAlive', () => {
  function keepAliveOf(options: Partial<KeepAliveOptions> = {}) {
    let now = 0;
    const log: string[] = [];
    let answer: (() => void) | undefined;
    const keepAlive = new KeepAlive({
      enquireLinkIntervalMs: 100,
      inactivityTimeoutMs: 300,
      enquireLink: () => {
        log.push(`enquire at ${now}`);
        return new Promise<void>((resolve) => (answer = resolve));
      },
      mayEnquire: () => true,
      onSilent: (idleMs) => log.push(`silent ${idleMs}`),
      onEnquireFailed: () => log.push('failed'),
      now: () => now,
      ...options,
    });
    return { keepAlive, log, advance: (ms: number) => (now += ms), answer: () => answer?.() };
  }

  it('probes a peer idle past the interval once at a time, and gives up on it past the inactivity timeout', async () => {
    const { keepAlive, log, advance, answer } = keepAliveOf();
    advance(99);
    keepAlive.check();
    expect(log).toEqual([]);
    advance(1);
    keepAlive.check();
    advance(50);
    keepAlive.check(); // the first enquire_link is still unanswered: no second one
    expect(log).toEqual(['enquire at 100']);
    answer();
    await nextTick();
    await nextTick();
    keepAlive.check();
    expect(log).toEqual(['enquire at 100', 'enquire at 150']);
    advance(150);
    keepAlive.check();
    expect(log.at(-1)).toBe('silent 300');
  });

  it('counts any PDU received as a sign of life', () => {
    const { keepAlive, log, advance } = keepAliveOf();
    advance(250);
    expect(keepAlive.received()).toBe(250);
    advance(99);
    keepAlive.check();
    expect(log).toEqual([]);
    expect(keepAlive.lastReceivedAt).toBe(250);
  });

  it('sends no enquire_link while the session may not (closing), and none at all with an interval of 0', () => {
    const closing = keepAliveOf({ mayEnquire: () => false });
    closing.advance(200);
    closing.keepAlive.check();
    expect(closing.log).toEqual([]);
    const never = keepAliveOf({ enquireLinkIntervalMs: 0, inactivityTimeoutMs: 0 });
    never.advance(1e9);
    never.keepAlive.check();
    expect(never.log).toEqual([]);
  });

  it('reports a failed enquire_link and probes again later', async () => {
    const { keepAlive, log, advance } = keepAliveOf({ enquireLink: () => Promise.reject(new Error('timeout')) });
    advance(100);
    keepAlive.check();
    await nextTick();
    await nextTick();
    expect(log).toEqual(['failed']);
    keepAlive.check();
    await nextTick();
    await nextTick();
    expect(log).toEqual(['failed', 'failed']);
  });
});

describe('BindState (SMPP 3.4 section 2.3, the SMSC side)', () => {
  const refusal = (state: BindState, command: string) => state.refusalOf(command);

  it('before bind: a bind is allowed, anything else gets generic_nack ESME_RINVBNDSTS', () => {
    const state = new BindState();
    expect(refusal(state, 'bind_transceiver')).toBeUndefined();
    expect(refusal(state, 'submit_sm')).toEqual({ status: CommandStatus.ESME_RINVBNDSTS, genericNack: true });
  });

  it('while a bind is decided or once bound, another bind gets ESME_RALYBND', () => {
    const state = new BindState();
    state.startDeciding();
    expect(refusal(state, 'bind_transmitter')).toEqual({ status: CommandStatus.ESME_RALYBND, genericNack: false });
    state.doneDeciding();
    state.bound('transmitter', 'acme');
    expect(refusal(state, 'bind_receiver')).toEqual({ status: CommandStatus.ESME_RALYBND, genericNack: false });
    expect(refusal(state, 'submit_sm')).toBeUndefined();
    expect(refusal(state, 'deliver_sm')).toBeUndefined(); // peer SMSCs deliver MO with it
  });

  it('a receiver may send data_sm only', () => {
    const state = new BindState();
    state.bound('receiver', 'acme');
    expect(refusal(state, 'data_sm')).toBeUndefined();
    for (const command of ['submit_sm', 'query_sm', 'deliver_sm']) {
      expect(refusal(state, command)).toEqual({ status: CommandStatus.ESME_RINVBNDSTS, genericNack: false });
    }
  });

  it('after unbind nothing but a bind is allowed again; the system_id is kept for logs', () => {
    const state = new BindState();
    state.bound('transceiver', 'acme');
    state.unbound();
    expect(state.mode).toBeNull();
    expect(state.systemId).toBe('acme');
    expect(refusal(state, 'submit_sm')).toEqual({ status: CommandStatus.ESME_RINVBNDSTS, genericNack: true });
  });
});
