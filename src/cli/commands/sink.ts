import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../domain/errors.ts';
import { createLogger } from '../../logging/logger.ts';
import type { DestinationRule, OutcomeRef, ReceiptStatName } from '../../sink/outcomes.ts';
import { ReceiptStat } from '../../sink/outcomes.ts';
import { Sink, type ReceivedMessage, type SinkOptions } from '../../sink/sink.ts';
import { configureLoggingFromEnv } from '../shared-options.ts';
import { answerSupervisorProbes } from '../../app/supervised-child.ts';
import { createMetrics } from '../../metrics/metrics.ts';

export interface SinkArgs {
  port: number;
  host: string;
  systemId: string;
  bindSystemId?: string;
  bindPassword?: string;
  latencyMs?: number;
  latencyMin?: number;
  latencyMax?: number;
  failRate: number;
  throttleRate: number;
  invalidRate: number;
  rule?: string[];
  dlr: boolean;
  dlrDelayMs: number;
  dlrFailRate: number;
  dlrAlways: boolean;
  print: boolean;
  moStdin: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

/** `--tls-cert` and `--tls-key` as PEM contents; one sentence when a file cannot be read. */
function tlsOf(argv: SinkArgs): SinkOptions['tls'] {
  if (argv.tlsCert === undefined && argv.tlsKey === undefined) {
    if (argv.tlsClientCa !== undefined) throw new ConfigError('--tls-client-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  if (argv.tlsCert === undefined || argv.tlsKey === undefined) throw new ConfigError('--tls-cert and --tls-key go together');
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`--${flag} ${file}: cannot read it (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
  };
  return {
    cert: read('tls-cert', argv.tlsCert),
    key: read('tls-key', argv.tlsKey),
    ...(argv.tlsClientCa !== undefined ? { clientCa: read('tls-client-ca', argv.tlsClientCa) } : {}),
  };
}

function rate(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`--${name} must be between 0 and 1, got ${value}`);
  return value;
}

/** `--rule 4477=invalidDest`, `--rule 3312=throttled`, `--rule 49=DELIVRD/UNDELIV`… */
function parseRule(text: string): DestinationRule {
  const match = /^([0-9+]*)=(.+)$/.exec(text.trim());
  if (!match) throw new ConfigError(`--rule ${JSON.stringify(text)}: expected PREFIX=OUTCOME (e.g. 4477=invalidDest or 4478=UNDELIV)`);
  const [, prefix, what] = match;
  if (what in ReceiptStat) return { prefix, stat: what as ReceiptStatName };
  return { prefix, status: /^\d+$/.test(what) ? Number(what) : (what as OutcomeRef) };
}

/** Turns the command line into sink options; every problem is one ConfigError sentence. */
export function sinkOptionsFromArgs(argv: SinkArgs): SinkOptions {
  const failRate = rate(argv.failRate, 'fail-rate');
  const throttleRate = rate(argv.throttleRate, 'throttle-rate');
  const invalidRate = rate(argv.invalidRate, 'invalid-rate');
  const okRate = 1 - failRate - throttleRate - invalidRate;
  if (okRate < 0) throw new ConfigError('--fail-rate, --throttle-rate and --invalid-rate add up to more than 1');
  if (argv.latencyMs !== undefined && (argv.latencyMin !== undefined || argv.latencyMax !== undefined)) {
    throw new ConfigError('give either --latency-ms or --latency-min/--latency-max, not both');
  }
  const latencyMs =
    argv.latencyMin !== undefined || argv.latencyMax !== undefined
      ? { min: argv.latencyMin ?? 0, max: argv.latencyMax ?? argv.latencyMin ?? 0 }
      : (argv.latencyMs ?? 0);
  const dlrFailRate = rate(argv.dlrFailRate, 'dlr-fail-rate');
  if ((argv.bindSystemId === undefined) !== (argv.bindPassword === undefined)) {
    throw new ConfigError('--bind-system-id and --bind-password go together');
  }
  const options: SinkOptions = {
    port: argv.port,
    host: argv.host,
    systemId: argv.systemId,
    latencyMs,
    outcomes: { ok: okRate, systemError: failRate, throttled: throttleRate, invalidDest: invalidRate },
    rules: (argv.rule ?? []).map(parseRule),
    receipts: {
      enabled: argv.dlr,
      delayMs: argv.dlrDelayMs,
      when: argv.dlrAlways ? 'always' : 'requested',
      stats: { DELIVRD: 1 - dlrFailRate, UNDELIV: dlrFailRate },
    },
    ...(argv.bindSystemId !== undefined ? { credentials: [{ systemId: argv.bindSystemId, password: argv.bindPassword! }] } : {}),
  };
  const tls = tlsOf(argv);
  if (tls) options.tls = tls;
  try {
    Sink.validate(options);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  return options;
}

function messageLine(m: ReceivedMessage): string {
  return JSON.stringify({
    event: 'message',
    index: m.index,
    command: m.command,
    session: m.sessionId,
    systemId: m.systemId,
    from: m.source.addr,
    to: m.dest.addr,
    text: m.text,
    hex: m.text === null ? m.bytes.toString('hex') : undefined,
    dataCoding: m.dataCoding,
    esmClass: m.esmClass,
    registeredDelivery: m.registeredDelivery,
    part: m.part ?? undefined,
    status: m.status,
    messageId: m.messageId,
    arrivedAt: m.arrivedAt.toISOString(),
  });
}

export function sinkBuilder(yargs: Argv<object>): Argv<SinkArgs> {
  return yargs
    .option('port', {
      type: 'number',
      default: 2776,
      describe: 'SMPP port; 0 picks a free one (printed on the first line)',
      requiresArg: true,
    })
    .option('host', { type: 'string', default: '0.0.0.0', describe: 'Address to listen on', requiresArg: true })
    .option('system-id', { type: 'string', default: 'SINK', describe: 'Our system_id in bind responses', requiresArg: true })
    .option('bind-system-id', { type: 'string', describe: 'Accept only this system_id (default: any credentials)', requiresArg: true })
    .option('bind-password', { type: 'string', describe: 'Password for --bind-system-id', requiresArg: true })
    .option('latency-ms', { type: 'number', describe: 'Fixed submit_sm_resp latency', requiresArg: true })
    .option('latency-min', { type: 'number', describe: 'Random latency: lower bound (ms)', requiresArg: true })
    .option('latency-max', { type: 'number', describe: 'Random latency: upper bound (ms)', requiresArg: true })
    .option('fail-rate', { type: 'number', default: 0, describe: 'Fraction answered ESME_RSYSERR', requiresArg: true })
    .option('throttle-rate', { type: 'number', default: 0, describe: 'Fraction answered ESME_RTHROTTLED', requiresArg: true })
    .option('invalid-rate', { type: 'number', default: 0, describe: 'Fraction answered ESME_RINVDSTADR', requiresArg: true })
    .option('rule', {
      type: 'string',
      array: true,
      describe:
        'PREFIX=OUTCOME for destinations starting with PREFIX: ok, throttled, invalidDest, systemError, queueFull, an ESME_… name or number, or a receipt stat (UNDELIV, EXPIRED, REJECTD…)',
      requiresArg: true,
    })
    .option('dlr', { type: 'boolean', default: false, describe: 'Send delivery receipts (when registered_delivery asks)' })
    .option('dlr-delay-ms', { type: 'number', default: 0, describe: 'Delay before a receipt', requiresArg: true })
    .option('dlr-fail-rate', { type: 'number', default: 0, describe: 'Fraction of receipts with stat UNDELIV', requiresArg: true })
    .option('dlr-always', { type: 'boolean', default: false, describe: 'Send receipts even when registered_delivery is 0' })
    .option('print', { type: 'boolean', default: false, describe: 'Print a JSON line per message received' })
    .option('mo-stdin', {
      type: 'boolean',
      default: false,
      describe: 'Send an MO for each JSON line read on stdin: {"from":"…","to":"…","text":"…"[,"systemId":"…"]}',
    })
    .option('tls-cert', {
      type: 'string',
      describe: 'Listen for SMPP over TLS with this PEM certificate (with --tls-key)',
      requiresArg: true,
    })
    .option('tls-key', { type: 'string', describe: 'PEM private key for --tls-cert', requiresArg: true })
    .option('tls-client-ca', { type: 'string', describe: 'Demand client certificates signed by this PEM CA (TLS)', requiresArg: true })
    .example('$0 sink --port 2776 --latency-min 5 --latency-max 50 --dlr', 'an operator with jittery latency that sends receipts')
    .example('$0 sink --rule 4477=invalidDest --rule 4478=UNDELIV --print', 'deterministic failures by destination prefix')
    .example(
      'echo \'{"from":"491701234567","to":"5550","text":"STOP"}\' | $0 sink --mo-stdin',
      'a subscriber texts STOP to short code 5550',
    )
    .example(
      '$0 sink --port 3551 --tls-cert sink.pem --tls-key sink.key',
      'a downstream that speaks SMPP over TLS',
    ) as unknown as Argv<SinkArgs>;
}

/** `smsc sink`: the downstream simulator, until SIGINT/SIGTERM. JSON lines on stdout. */
export const sinkCommand: CommandModule<object, SinkArgs> = {
  command: 'sink',
  describe: 'Run the downstream simulator (an SMPP server that plays the operator)',
  builder: sinkBuilder,
  handler: async (argv) => {
    const options = sinkOptionsFromArgs(argv);
    configureLoggingFromEnv();
    // Under smsc up, the simulator answers its probes like every child (with an empty metric set of its own).
    answerSupervisorProbes(createMetrics().registry);
    const write = (line: string) => process.stdout.write(`${line}\n`);
    const sink = new Sink({
      ...options,
      logger: createLogger('sink'),
      recordLimit: 0,
      ...(argv.print ? { onMessage: (m: ReceivedMessage) => write(messageLine(m)) } : {}),
    });
    await sink.start();
    write(JSON.stringify({ event: 'listening', port: sink.port, host: argv.host, ...(options.tls ? { tls: true } : {}) }));
    // One MO per line; each is answered with a line saying whether the SMSC took it.
    const moLines = argv.moStdin ? createInterface({ input: process.stdin }) : undefined;
    if (moLines) {
      moLines.on('line', (line) => {
        if (line.trim() === '') return;
        let mo: { from?: unknown; to?: unknown; text?: unknown; systemId?: unknown };
        try {
          mo = JSON.parse(line) as typeof mo;
        } catch {
          write(JSON.stringify({ event: 'mo-error', error: 'not a JSON line' }));
          return;
        }
        if (typeof mo.from !== 'string' || typeof mo.to !== 'string' || typeof mo.text !== 'string') {
          write(JSON.stringify({ event: 'mo-error', error: 'from, to and text must be strings' }));
          return;
        }
        sink
          .sendMo({ from: mo.from, to: mo.to, text: mo.text, ...(typeof mo.systemId === 'string' ? { systemId: mo.systemId } : {}) })
          .then(() => write(JSON.stringify({ event: 'mo-sent', from: mo.from, to: mo.to })))
          .catch((error: Error) => write(JSON.stringify({ event: 'mo-error', from: mo.from, to: mo.to, error: error.message })));
      });
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (moLines) {
      moLines.close();
      process.stdin.destroy();
    }
    await sink.close();
    write(
      JSON.stringify({ event: 'closed', signal, counters: sink.counters, maxConcurrentPerDestination: sink.maxConcurrentPerDestination }),
    );
  },
};
