import type { Argv, CommandModule } from 'yargs';
import { CodecError, CodecErrorCode, MessageState, parseReceipt, type DeliveryReceipt } from '../../codec/index.ts';
import { stdoutPrinter, withJsonOption, type JsonArgs, type Printer } from '../shared-options.ts';

export interface DlrParseArgs extends JsonArgs {
  receipt?: string;
}

export interface DlrParseJson {
  id: string;
  sub: number | null;
  dlvrd: number | null;
  submitDate: string | null;
  submitDateRaw: string | null;
  doneDate: string | null;
  doneDateRaw: string | null;
  stat: string | null;
  messageState: number | null;
  messageStateName: string | null;
  err: string | null;
  text: string | null;
}

const STATE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(MessageState).map(([name, value]) => [value, name])),
);

export function receiptToJson(r: DeliveryReceipt): DlrParseJson {
  return {
    id: r.id,
    sub: r.sub,
    dlvrd: r.dlvrd,
    submitDate: r.submitDate?.date?.toISOString() ?? null,
    submitDateRaw: r.submitDate?.raw ?? null,
    doneDate: r.doneDate?.date?.toISOString() ?? null,
    doneDateRaw: r.doneDate?.raw ?? null,
    stat: r.stat,
    messageState: r.messageState,
    messageStateName: r.messageState === null ? null : STATE_NAMES[r.messageState],
    err: r.err,
    text: r.text,
  };
}

function show(v: string | number | null): string {
  return v === null ? '-' : String(v);
}

export function formatReceiptInfo(j: DlrParseJson): string {
  const date = (iso: string | null, raw: string | null): string =>
    raw === null ? '-' : iso === null ? `${raw} (not a valid date)` : `${iso} (${raw})`;
  return [
    `Message id:     ${j.id}`,
    `Submitted:      ${show(j.sub)}`,
    `Delivered:      ${show(j.dlvrd)}`,
    `Submit date:    ${date(j.submitDate, j.submitDateRaw)}`,
    `Done date:      ${date(j.doneDate, j.doneDateRaw)}`,
    `Status:         ${show(j.stat)}${j.messageState === null ? '' : ` (message_state ${j.messageState} ${j.messageStateName})`}`,
    `Error:          ${show(j.err)}`,
    `Text:           ${show(j.text)}`,
  ].join('\n');
}

/** `smsc dlr-parse` without yargs, for tests. Text that is not a receipt throws a CodecError. */
export function runDlrParse(argv: DlrParseArgs, print: Printer = stdoutPrinter): DlrParseJson {
  if (typeof argv.receipt !== 'string') {
    throw new CodecError(
      CodecErrorCode.INVALID_ARGUMENT,
      'Give the receipt text as the argument, in quotes: smsc dlr-parse "id:… stat:…".',
    );
  }
  const json = receiptToJson(parseReceipt(argv.receipt));
  print(argv.json ? JSON.stringify(json) : formatReceiptInfo(json));
  return json;
}

export const dlrParseCommand: CommandModule<object, DlrParseArgs> = {
  // Optional in yargs' eyes so a missing argument gets one sentence from us, not two from yargs.
  command: 'dlr-parse [receipt]',
  describe: 'Parse delivery receipt text (id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…)',
  builder: (yargs: Argv<object>) =>
    withJsonOption(yargs.positional('receipt', { type: 'string', describe: 'The receipt text (quote it)' })).example(
      '$0 dlr-parse "id:123 sub:001 dlvrd:001 submit date:2311221530 done date:2311221531 stat:DELIVRD err:000 text:Hi" --json',
      'parsed receipt as JSON',
    ) as unknown as Argv<DlrParseArgs>,
  handler: (argv) => {
    runDlrParse(argv);
  },
};
