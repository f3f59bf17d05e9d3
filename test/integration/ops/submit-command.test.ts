import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSubmit, type SubmitArgs } from '../../../src/cli/index.ts';
import { SmscError } from '../../../src/domain/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';

let sink: Sink;

beforeAll(async () => {
  sink = await startSink({ port: 0, credentials: [{ systemId: 'demo', password: 'demo' }], receipts: { enabled: true } });
});
afterAll(async () => {
  await sink?.close();
});

async function submit(args: Partial<SubmitArgs>): Promise<{ lines: string[]; result: Awaited<ReturnType<typeof runSubmit>> }> {
  const lines: string[] = [];
  const result = await runSubmit(
    {
      to: '447700900123',
      from: 'ACME',
      text: 'Hello',
      host: '127.0.0.1',
      port: sink.port,
      systemId: 'demo',
      password: 'demo',
      timeout: 10,
      long: 'udh8',
      ...args,
    },
    { print: (s) => lines.push(s) },
  );
  return { lines, result };
}

describe('smsc submit against the downstream simulator', () => {
  it('submits, waits for the receipt with --dlr, answers it, and prints both', async () => {
    sink.reset();
    const { lines, result } = await submit({ dlr: true });
    expect(result.messageIds).toHaveLength(1);
    expect(result.messageIds[0]).not.toBe('');
    expect(lines[0]).toBe(`Submitted: message_id ${result.messageIds[0]}`);
    expect(result.receipts).toHaveLength(1);
    expect(result.receipts[0]).toMatchObject({ messageId: result.messageIds[0], stat: 'DELIVRD' });
    expect(lines[1]).toBe(`Receipt for ${result.messageIds[0]}: DELIVRD`);
    expect(sink.received.at(-1)).toMatchObject({
      text: 'Hello',
      registeredDelivery: 1,
      dest: { addr: '447700900123' },
      source: { ton: 5, addr: 'ACME' },
    });
  });

  it('--json prints the ids and the receipt for scripts', async () => {
    const { lines } = await submit({ dlr: true, json: true, to: '+447700900124', from: '+447700900999' });
    const out = JSON.parse(lines.join('\n'));
    expect(out.messageIds).toHaveLength(1);
    expect(out.receipts[0].stat).toBe('DELIVRD');
    expect(out.receipts[0].messageId).toBe(out.messageIds[0]);
    expect(out.receipts[0].text).toMatch(/^id:\S+ .*stat:DELIVRD/);
    expect(sink.received.at(-1)).toMatchObject({
      dest: { ton: 1, npi: 1, addr: '447700900124' },
      source: { ton: 1, addr: '447700900999' },
    });
  });

  it('splits a long text into concatenated parts and waits for a receipt per part', async () => {
    sink.reset();
    const text = 'x'.repeat(200);
    const { result, lines } = await submit({ text, dlr: true });
    expect(result.parts).toBe(2);
    expect(result.messageIds).toHaveLength(2);
    expect(result.receipts).toHaveLength(2);
    expect(lines[0]).toMatch(/^Submitted in 2 parts \(GSM7\): message_id /);
    const parts = sink.received.map((m) => m.part);
    expect(parts.map((p) => [p?.form, p?.sequence, p?.total])).toEqual([
      ['udh8', 1, 2],
      ['udh8', 2, 2],
    ]);
    expect(sink.received.map((m) => m.text).join('')).toBe(text);
  });

  it('without --dlr asks for no receipt', async () => {
    sink.reset();
    const { result } = await submit({});
    expect(result.receipts).toEqual([]);
    expect(sink.received.at(-1)?.registeredDelivery).toBe(0);
  });

  it('a refused bind, a missing receipt and bad input are one sentence each', async () => {
    await expect(submit({ password: 'wrong' })).rejects.toThrow(
      /^Bind to 127\.0\.0\.1:\d+ as demo failed: ESME_RINVPASWD \(0x0000000e\)\.$/,
    );
    sink.configure({ receipts: { enabled: false } });
    try {
      const error = await submit({ dlr: true, timeout: 1 }).catch((e: unknown) => e);
      expect((error as SmscError).code).toBe('RECEIPT_TIMEOUT');
      expect((error as Error).message).toMatch(/^No receipt for \S+ within 1 s\.$/);
    } finally {
      sink.configure({ receipts: { enabled: true } });
    }
    await expect(submit({ to: 'abc' })).rejects.toThrow('--to must be a number');
    await expect(submit({ from: 'A very long sender' })).rejects.toThrow('--from must be');
    await expect(submit({ port: 1, timeout: 2 })).rejects.toThrow(/^Cannot connect to 127\.0\.0\.1:1/);
  });
});
