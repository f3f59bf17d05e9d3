import type { Argv, CommandModule } from 'yargs';
import { dataCodingFor, measureText, parseEncodingRequest, UnitName, type MessageLength } from '../../codec/index.ts';
import { stdoutPrinter, withJsonOption, type JsonArgs, type Printer } from '../shared-options.ts';

export interface SmsInfoArgs extends JsonArgs {
  text: string;
  encoding: string;
}

/** What `--json` prints: exactly this object, nothing else. */
export interface SmsInfoJson {
  encoding: MessageLength['encoding'];
  characters: number;
  units: number;
  parts: MessageLength['parts'];
}

export function formatSmsInfo(info: MessageLength): string {
  const p = info.parts;
  const dc = dataCodingFor(info.encoding).toString(16).padStart(2, '0');
  return [
    `Encoding:    ${info.encoding} (data_coding 0x${dc})`,
    `Characters:  ${info.characters}`,
    `Units:       ${info.units} ${UnitName[info.encoding]}`,
    'Parts:',
    `  single           ${p.single === null ? 'does not fit one part' : p.single}`,
    `  UDH 8-bit ref    ${p.udh8}`,
    `  UDH 16-bit ref   ${p.udh16}`,
    `  SAR TLVs         ${p.sar}`,
    `  message_payload  ${p.payload}`,
  ].join('\n');
}

/** `smsc sms-info` without yargs, for tests. Unmappable characters throw a CodecError naming them. */
export function runSmsInfo(argv: SmsInfoArgs, print: Printer = stdoutPrinter): SmsInfoJson {
  const info = measureText(argv.text, parseEncodingRequest(argv.encoding ?? 'auto'));
  const json: SmsInfoJson = { encoding: info.encoding, characters: info.characters, units: info.units, parts: { ...info.parts } };
  print(argv.json ? JSON.stringify(json) : formatSmsInfo(info));
  return json;
}

export const smsInfoCommand: CommandModule<object, SmsInfoArgs> = {
  command: 'sms-info',
  describe: 'Encoding, length and number of parts of a text under each long-message strategy',
  builder: (yargs: Argv<object>) =>
    withJsonOption(
      yargs.option('text', { type: 'string', demandOption: true, describe: 'The message text' }).option('encoding', {
        type: 'string',
        choices: ['auto', 'gsm7', 'latin1', 'ucs2'],
        default: 'auto',
        describe: 'auto picks GSM-7 when every character fits, else UCS-2; Latin-1 only when asked',
      }),
    )
      .example('$0 sms-info --text "Hello {world}"', 'human-readable')
      .example('$0 sms-info --text "Привет 😀" --json', 'one JSON object for scripts') as unknown as Argv<SmsInfoArgs>,
  handler: (argv) => {
    // yargs runs the handler even after a non-throwing .fail() reported the missing argument.
    if (typeof argv.text !== 'string') return;
    runSmsInfo(argv);
  },
};
