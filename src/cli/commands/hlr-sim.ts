import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../domain/errors.ts';
import { HlrSim, type HlrSimOptions } from '../../hlr/hlr-sim.ts';

export interface HlrSimArgs {
  port: number;
  host: string;
  reachable?: string[];
  invalid?: string[];
  fail?: string[];
  network?: string[];
  ported?: string[];
  latencyMs: number;
  token?: string;
}

const digits = (name: string, list: (string | number)[] | undefined): string[] =>
  (list ?? []).map((raw) => {
    const value = String(raw).replace(/^\+/, '');
    if (!/^\d{1,20}$/.test(value)) throw new ConfigError(`--${name} takes digit prefixes, got ${JSON.stringify(raw)}.`);
    return value;
  });

export function hlrSimOptionsFromArgs(argv: HlrSimArgs): HlrSimOptions {
  if (!Number.isInteger(argv.latencyMs) || argv.latencyMs < 0 || argv.latencyMs > 600_000)
    throw new ConfigError(`--latency-ms must be 0 to 600000, got ${argv.latencyMs}.`);
  const networks: Record<string, string> = {};
  for (const rule of argv.network ?? []) {
    const match = /^\+?(\d{1,20})=(\S{1,32})$/.exec(String(rule));
    if (!match) throw new ConfigError(`--network takes PREFIX=NAME (e.g. 4477=23415), got ${JSON.stringify(rule)}.`);
    networks[match[1]] = match[2];
  }
  return {
    port: argv.port,
    host: argv.host,
    reachable: digits('reachable', argv.reachable),
    invalid: digits('invalid', argv.invalid),
    fail: digits('fail', argv.fail),
    ported: digits('ported', argv.ported),
    networks,
    latencyMs: argv.latencyMs,
    ...(argv.token ? { token: argv.token } : {}),
  };
}

/** `smsc hlr-sim [--port N] [--reachable PREFIX…] [--latency-ms N]`: an HLR provider for tests and demos. */
export const hlrSimCommand: CommandModule<object, HlrSimArgs> = {
  command: 'hlr-sim',
  describe: 'Run an HLR provider simulator (HTTP JSON) with configurable answers and latency',
  builder: (yargs: Argv<object>) =>
    yargs
      .option('port', {
        type: 'number',
        default: 8090,
        describe: 'HTTP port; 0 picks a free one (printed on the first line)',
        requiresArg: true,
      })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on', requiresArg: true })
      .option('reachable', {
        type: 'string',
        array: true,
        describe: 'Prefixes of reachable numbers (default: every number not otherwise listed); others are unreachable',
      })
      .option('invalid', { type: 'string', array: true, describe: 'Prefixes of numbers that do not exist' })
      .option('fail', { type: 'string', array: true, describe: 'Prefixes answered with HTTP 500' })
      .option('network', { type: 'string', array: true, describe: 'PREFIX=NAME: the serving network reported (e.g. a ported range)' })
      .option('ported', { type: 'string', array: true, describe: 'Prefixes reported as ported' })
      .option('latency-ms', { type: 'number', default: 0, describe: 'Delay before every answer', requiresArg: true })
      .option('token', { type: 'string', describe: 'Require "Authorization: Bearer TOKEN"', requiresArg: true })
      .example('$0 hlr-sim --port 8090 --reachable 4477 --invalid 4479 --latency-ms 50', '4477… reachable, 4479… invalid, the rest absent')
      .example(
        'HLR_URL="http://127.0.0.1:8090/lookup?msisdn={msisdn}" HLR_POLICY=reject-unreachable $0 inserter',
        'an inserter that uses it',
      ) as unknown as Argv<HlrSimArgs>,
  handler: async (argv) => {
    const sim = new HlrSim(hlrSimOptionsFromArgs(argv));
    const { host, port } = await sim.start();
    const write = (line: string) => process.stdout.write(`${line}\n`);
    write(JSON.stringify({ event: 'listening', host, port, url: `http://${host}:${port}/lookup?msisdn={msisdn}` }));
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await sim.close();
    write(JSON.stringify({ event: 'closed', signal, requests: sim.requests }));
  },
};
