import { describe, expect, it } from 'vitest';
import {
  CommandStatus,
  SmppClosedError,
  SmppError,
  SmppTimeoutError,
  decodePdu,
  encodePdu,
  MAX_SEQUENCE_NUMBER,
  type WirePdu,
  nextSequenceNumber,
  RequestWindow,
} from '../../../src/smpp/index.ts';

/** A window whose session records every frame it writes and numbers requests from 1. */
function windowOf(size: number, timeoutMs = 5_000) {
  const written: WirePdu[] = [];
  let sequence = 0;
  const transport = { writable: true, isClosed: false };
  const window = new RequestWindow(
    {
      nextSequence: () => ++sequence,
      write: (frame) => {
        if (!transport.writable) return false;
        written.push(decodePdu(frame));
        return true;
      },
      closed: () => transport.isClosed,
    },
    { size, timeoutMs },
  );
  return { window, written, transport };
}

const respond = (request: WirePdu, command = `${request.command}_resp`, commandStatus = 0, params: Record<string, unknown> = {}) =>
  decodePdu(encodePdu({ command, sequenceNumber: request.sequenceNumber, commandStatus, params }));

const submit = (window: RequestWindow, destination: string, options = {}) =>
  window.send('submit_sm', { destination_addr: destination }, {}, options);

describe('nextSequenceNumber', () => {
  it('counts 1..0x7FFFFFFF and wraps to 1 (SMPP 3.4 5.1.4)', () => {
    expect(nextSequenceNumber(0)).toBe(1);
    expect(nextSequenceNumber(41)).toBe(42);
    expect(nextSequenceNumber(MAX_SEQUENCE_NUMBER - 1)).toBe(MAX_SEQUENCE_NUMBER);
    expect(nextSequenceNumber(MAX_SEQUENCE_NUMBER)).toBe(1);
    expect(nextSequenceNumber(-5)).toBe(1);
  });
});

describe('RequestWindow', () => {
  it('writes at most `size` windowed requests; each response lets the next one waiting out, in order', async () => {
    const { window, written } = windowOf(2);
    const replies = ['a', 'b', 'c', 'd'].map((d) => submit(window, d));
    expect(written.map((p) => p.params.destination_addr)).toEqual(['a', 'b']);
    expect(window.outstanding).toBe(2);
    expect(window.settle(respond(written[1], 'submit_sm_resp', 0, { message_id: 'B' }))).toBe(true);
    expect(written.map((p) => p.params.destination_addr)).toEqual(['a', 'b', 'c']);
    for (const request of [written[0], written[2]]) window.settle(respond(request));
    window.settle(respond(written[3]));
    const settled = await Promise.all(replies);
    expect(settled.map((r) => r.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(settled[1].params.message_id).toBe('B');
    expect(window.outstanding).toBe(0);
  });

  it('sends an unwindowed request (enquire_link) even when the window is full', async () => {
    const { window, written } = windowOf(1);
    void submit(window, 'a');
    const probe = window.send('enquire_link', {}, {}, { windowed: false });
    expect(written.map((p) => p.command)).toEqual(['submit_sm', 'enquire_link']);
    window.settle(respond(written[1]));
    await expect(probe).resolves.toMatchObject({ command: 'enquire_link_resp' });
  });

  it('rejects a non-zero status, a generic_nack and the wrong response with SmppError, and frees their slots', async () => {
    const { window, written } = windowOf(1);
    const refused = submit(window, 'a');
    const nacked = submit(window, 'b');
    const confused = submit(window, 'c');
    window.settle(respond(written[0], 'submit_sm_resp', CommandStatus.ESME_RTHROTTLED));
    window.settle(respond(written[1], 'generic_nack', CommandStatus.ESME_RINVCMDLEN));
    window.settle(respond(written[2], 'query_sm_resp'));
    await expect(refused).rejects.toMatchObject({ commandStatus: CommandStatus.ESME_RTHROTTLED });
    await expect(nacked).rejects.toMatchObject({
      commandStatus: CommandStatus.ESME_RINVCMDLEN,
      message: expect.stringContaining('generic_nack'),
    });
    await expect(confused).rejects.toMatchObject({ commandStatus: CommandStatus.ESME_RINVCMDID });
    await expect(confused).rejects.toBeInstanceOf(SmppError);
    expect(window.outstanding).toBe(0);
  });

  it('ignores a response no request awaits', () => {
    const { window, written } = windowOf(1);
    void submit(window, 'a');
    expect(window.settle(decodePdu(encodePdu({ command: 'submit_sm_resp', sequenceNumber: 99 })))).toBe(false);
    expect(window.settle(respond(written[0]))).toBe(true);
    expect(window.settle(respond(written[0]))).toBe(false);
  });

  it('times out an unanswered request and gives its slot to the next; a late response to it is ignored', async () => {
    const { window, written } = windowOf(1);
    const silent = submit(window, 'a', { timeoutMs: 20 });
    const next = submit(window, 'b');
    await expect(silent).rejects.toBeInstanceOf(SmppTimeoutError);
    expect(written.map((p) => p.params.destination_addr)).toEqual(['a', 'b']);
    expect(window.settle(respond(written[0]))).toBe(false);
    window.settle(respond(written[1]));
    await expect(next).resolves.toMatchObject({ sequenceNumber: 2 });
  });

  it('times out a request still waiting for a slot, which then never goes out', async () => {
    const { window, written } = windowOf(1);
    void submit(window, 'a');
    const starved = submit(window, 'b', { timeoutMs: 20 });
    await expect(starved).rejects.toThrow(/no window slot/);
    window.settle(respond(written[0]));
    expect(written).toHaveLength(1);
  });

  it('rejects with SmppClosedError when the socket takes no more writes, without holding the slot', async () => {
    const { window, written, transport } = windowOf(1);
    transport.writable = false;
    await expect(submit(window, 'a')).rejects.toBeInstanceOf(SmppClosedError);
    transport.writable = true;
    const next = submit(window, 'b');
    expect(written).toHaveLength(1);
    window.settle(respond(written[0]));
    await expect(next).resolves.toBeDefined();
  });

  it('rejects every request on the wire and every one waiting when the session closes', async () => {
    const { window, written } = windowOf(1);
    const sent = submit(window, 'a');
    const waiting = submit(window, 'b');
    window.rejectAll(new SmppClosedError('closed'));
    await expect(sent).rejects.toBeInstanceOf(SmppClosedError);
    await expect(waiting).rejects.toBeInstanceOf(SmppClosedError);
    expect(window.outstanding).toBe(0);
    expect(written).toHaveLength(1);
  });
});
