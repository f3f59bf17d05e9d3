import type { Argv, CommandModule } from 'yargs';
import { OpsError, OpsErrorCode } from '../../ops/errors.ts';
import { submitAsEsme, type EsmeSubmitResult } from '../../tools/esme-submit.ts';
import { submitOverHttp, type HttpSubmitResult } from '../../tools/http-submit.ts';
import { toJsonText } from '../../ops/plain-json.ts';
import { stdoutPrinter, withJsonOption, type JsonArgs, type Printer } from '../shared-options.ts';

const LONG_FORMS = ['udh8', 'udh16', 'sar', 'payload'] as const;

export interface SubmitArgs extends JsonArgs {
  to: string;
  from: string;
  text: string;
  dlr?: boolean;
  host: string;
  port: number;
  systemId: string;
  password: string;
  timeout: number;
  long: (typeof LONG_FORMS)[number];
  /** Submit through the HTTP API at `url` instead of SMPP. */
  http?: boolean;
  url?: string;
}

/** What both ways of submitting send: credentials, addresses, text, receipt request, timeout. */
function messageOf(argv: SubmitArgs) {
  return {
    systemId: String(argv.systemId),
    password: String(argv.password),
    from: String(argv.from),
    to: String(argv.to),
    text: String(argv.text),
    dlr: argv.dlr === true,
    timeoutMs: Math.round(argv.timeout * 1000),
  };
}

/** `smsc submit`: prints the message id(s) and, with --dlr, the receipt(s). Non-zero exit on any failure. */
export async function runSubmit(argv: SubmitArgs, deps: { print?: Printer } = {}): Promise<EsmeSubmitResult> {
  const print = deps.print ?? stdoutPrinter;
  if (!Number.isFinite(argv.port) || argv.port < 1 || argv.port > 65535 || !Number.isInteger(argv.port)) {
    throw new OpsError(OpsErrorCode.submitInvalid, `--port must be a port number (1-65535), got ${argv.port}.`);
  }
  if (!Number.isFinite(argv.timeout) || argv.timeout <= 0) {
    throw new OpsError(OpsErrorCode.submitInvalid, `--timeout must be a positive number of seconds, got ${argv.timeout}.`);
  }
  if (String(argv.text) === '') throw new OpsError(OpsErrorCode.submitInvalid, '--text must not be empty.');
  const result = await submitAsEsme({ host: argv.host, port: argv.port, ...messageOf(argv), long: argv.long });
  if (argv.json) {
    print(toJsonText({ ...result, receipts: result.receipts.map(({ parsed: _parsed, ...r }) => r) }));
    return result;
  }
  const plural = result.parts > 1 ? ` in ${result.parts} parts (${result.encoding})` : '';
  print(`Submitted${plural}: message_id ${result.messageIds.join(', ')}`);
  for (const r of result.receipts) {
    print(`Receipt for ${r.messageId}: ${r.stat ?? 'unknown'}${r.err && r.err !== '000' ? ` err:${r.err}` : ''}`);
    print(`  ${r.text}`);
  }
  return result;
}

/** `smsc submit --http`: the same, through POST /api/v1/messages; --dlr reads each part back until it is final. */
export async function runHttpSubmit(argv: SubmitArgs, deps: { print?: Printer } = {}): Promise<HttpSubmitResult> {
  const print = deps.print ?? stdoutPrinter;
  const url = argv.url ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\/[^\s]+$/.test(url))
    throw new OpsError(OpsErrorCode.submitInvalid, `--url must be an http:// or https:// URL, got "${url}".`);
  if (!Number.isFinite(argv.timeout) || argv.timeout <= 0) {
    throw new OpsError(OpsErrorCode.submitInvalid, `--timeout must be a positive number of seconds, got ${argv.timeout}.`);
  }
  if (String(argv.text) === '') throw new OpsError(OpsErrorCode.submitInvalid, '--text must not be empty.');
  const result = await submitOverHttp({ url, ...messageOf(argv) });
  if (argv.json) {
    print(toJsonText(result));
    return result;
  }
  print(`Submitted${result.parts > 1 ? ` in ${result.parts} parts` : ''}: message_id ${result.messageIds.join(', ')}`);
  for (const outcome of result.outcomes) print(`Outcome for ${outcome.messageId}: ${outcome.stat} (${outcome.state})`);
  return result;
}

export const submitCommand: CommandModule<object, SubmitArgs> = {
  command: 'submit',
  describe: 'A small ESME: bind, submit one text (split when long), optionally wait for its delivery receipt',
  builder: (yargs: Argv<object>) =>
    withJsonOption(yargs)
      .option('to', { type: 'string', demandOption: true, describe: 'Destination number (digits, optional +)', requiresArg: true })
      .option('from', { type: 'string', demandOption: true, describe: 'Sender: a number or up to 11 letters', requiresArg: true })
      .option('text', {
        type: 'string',
        demandOption: true,
        describe: 'Message text (GSM 03.38 when it fits, else UCS-2)',
        requiresArg: true,
      })
      .option('dlr', { type: 'boolean', describe: 'Ask for a delivery receipt and wait for it' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'SMSC host', requiresArg: true })
      .option('port', { type: 'number', default: 2775, describe: 'SMSC SMPP port', requiresArg: true })
      .option('system-id', { type: 'string', default: 'demo', describe: 'ESME system_id', requiresArg: true })
      .option('password', { type: 'string', default: 'demo', describe: 'ESME password', requiresArg: true })
      .option('timeout', { type: 'number', default: 30, describe: 'Seconds for the whole exchange (receipt included)', requiresArg: true })
      .option('long', { choices: LONG_FORMS, default: 'udh8' as const, describe: 'How a long text is split (SMPP only)' })
      .option('http', {
        type: 'boolean',
        describe: 'Submit through the HTTP API (--url) instead of SMPP; --dlr then waits until every part is final',
      })
      .option('url', { type: 'string', describe: 'The HTTP API with --http (default http://127.0.0.1:8080)', requiresArg: true })
      .example('$0 submit --to 447700900123 --from ACME --text "Hello"', 'submit to the local inserter as demo:demo')
      .example('$0 submit --to 447700900123 --from ACME --text "Hello" --dlr --json', 'wait for the receipt; JSON for scripts')
      .example(
        '$0 submit --http --to 447700900123 --from ACME --text "Hello" --dlr',
        'through the HTTP API on :8080',
      ) as unknown as Argv<SubmitArgs>,
  handler: async (argv) => {
    if (argv.http) await runHttpSubmit(argv);
    else await runSubmit(argv);
  },
};
