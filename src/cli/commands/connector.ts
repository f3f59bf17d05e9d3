import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../domain/clock.ts';
import { addConnector, listConnectors, removeConnector, setConnector, type ConnectorView } from '../../connectors/connector-admin.ts';
import type { ConnectorDocument } from '../../connectors/connector-document.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { MessageIdForms } from '../../receipts/remote-ids.ts';
import {
  configFromArgv,
  printList,
  stdoutPrinter,
  withJsonOption,
  withStore,
  withStoreOptions,
  type JsonArgs,
  type StoreArgs,
} from '../shared-options.ts';

type ConnectorArgs = StoreArgs &
  JsonArgs & {
    name?: string;
    host?: string;
    port?: number;
    systemId?: string;
    password?: string;
    systemType?: string;
    bind?: string;
    tps?: number;
    window?: number;
    long?: string;
    enabled?: boolean;
    enquireLinkMs?: number;
    responseTimeoutMs?: number;
    messageIdForm?: string;
    tls?: boolean;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsInsecure?: boolean;
    tlsServername?: string;
    force?: boolean;
  };

/** Reads a PEM file named by a flag; one sentence when it cannot. */
function pemFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--${flag} ${file}: cannot read it (${(error as { code?: string }).code ?? (error as Error).message}).`);
  }
}

/**
 * `--message-id-form FORM` (both sides) or `SUBMIT:RECEIPT`; FORM is string, hex or decimal,
 * and string may add `+ignore-case` and `+strip-zeros`.
 */
export function parseMessageIdForm(text: string): MessageIdForms {
  const one = (form: string): NonNullable<MessageIdForms['submit']> => {
    const [format, ...modifiers] = form.split('+');
    const ignoreCase = modifiers.includes('ignore-case');
    const stripLeadingZeros = modifiers.includes('strip-zeros');
    const unknown = modifiers.filter((m) => m !== 'ignore-case' && m !== 'strip-zeros');
    if (!['string', 'hex', 'decimal'].includes(format) || unknown.length > 0) {
      throw new ConfigError(
        `--message-id-form ${JSON.stringify(text)}: use string, hex or decimal (string may add +ignore-case, +strip-zeros), or SUBMIT:RECEIPT such as hex:decimal.`,
      );
    }
    if (!ignoreCase && !stripLeadingZeros) return format as 'string' | 'hex' | 'decimal';
    return { format: format as 'string', ...(ignoreCase ? { ignoreCase } : {}), ...(stripLeadingZeros ? { stripLeadingZeros } : {}) };
  };
  const [submit, receipt, extra] = text.split(':');
  if (extra !== undefined) throw new ConfigError(`--message-id-form ${JSON.stringify(text)}: at most SUBMIT:RECEIPT.`);
  return { submit: one(submit), receipt: one(receipt ?? submit) };
}

function fields(argv: ConnectorArgs): Partial<ConnectorDocument> {
  const out: Partial<ConnectorDocument> = {};
  if (argv.host !== undefined) out.host = argv.host;
  if (argv.port !== undefined) out.port = argv.port;
  if (argv.systemId !== undefined) out.systemId = String(argv.systemId);
  if (argv.password !== undefined) out.password = String(argv.password);
  if (argv.systemType !== undefined) out.systemType = argv.systemType === '' ? undefined : argv.systemType;
  if (argv.bind !== undefined) out.bind = argv.bind as ConnectorDocument['bind'];
  if (argv.tps !== undefined) out.tps = argv.tps;
  if (argv.window !== undefined) out.window = argv.window;
  if (argv.long !== undefined) out.long = argv.long as ConnectorDocument['long'];
  if (argv.enabled !== undefined) out.enabled = argv.enabled;
  if (argv.enquireLinkMs !== undefined) out.enquireLinkMs = argv.enquireLinkMs;
  if (argv.responseTimeoutMs !== undefined) out.responseTimeoutMs = argv.responseTimeoutMs;
  if (argv.messageIdForm !== undefined) out.messageIdForm = argv.messageIdForm === '' ? undefined : parseMessageIdForm(argv.messageIdForm);
  if (argv.tls === false) {
    // Turning TLS off drops its settings with it.
    Object.assign(out, {
      tls: undefined,
      tlsCa: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      tlsInsecure: undefined,
      tlsServername: undefined,
    });
    return out;
  }
  if (argv.tls === true) out.tls = true;
  if (argv.tlsCa !== undefined) out.tlsCa = argv.tlsCa === '' ? undefined : pemFile('tls-ca', argv.tlsCa);
  if (argv.tlsCert !== undefined) out.tlsCert = argv.tlsCert === '' ? undefined : pemFile('tls-cert', argv.tlsCert);
  if (argv.tlsKey !== undefined) out.tlsKey = argv.tlsKey === '' ? undefined : pemFile('tls-key', argv.tlsKey);
  if (argv.tlsInsecure !== undefined) out.tlsInsecure = argv.tlsInsecure || undefined;
  if (argv.tlsServername !== undefined) out.tlsServername = argv.tlsServername === '' ? undefined : argv.tlsServername;
  return out;
}

const SESSION = 'SMPP session:';
const TLS = 'TLS:';

function withConnectorFields<T>(yargs: Argv<T>): Argv<T & ConnectorArgs> {
  return yargs
    .option('name', { type: 'string', describe: 'Connector name (routes refer to it)', requiresArg: true })
    .option('host', { type: 'string', describe: 'Downstream SMSC host', requiresArg: true })
    .option('port', { type: 'number', describe: 'Downstream SMSC port', requiresArg: true })
    .option('system-id', { type: 'string', describe: 'system_id we bind with', requiresArg: true })
    .option('password', { type: 'string', describe: 'Password we bind with (never printed)', requiresArg: true })
    .option('enabled', { type: 'boolean', describe: 'Disabled connectors are not bound' })
    .option('system-type', { type: 'string', group: SESSION, describe: 'system_type in the bind (at most 12 characters; "" clears it)' })
    .option('bind', {
      choices: ['transceiver', 'transmitter'],
      group: SESSION,
      describe: 'Bind mode; transmitter binds a receiver beside it for receipts (default transceiver)',
    })
    .option('tps', {
      type: 'number',
      group: SESSION,
      describe: 'Submits per second across all deliverers; 0 = unlimited (default 0)',
      requiresArg: true,
    })
    .option('window', { type: 'number', group: SESSION, describe: 'Outstanding submits at once, 1..1000 (default 10)', requiresArg: true })
    .option('long', { choices: ['sar', 'udh8', 'udh16', 'payload'], group: SESSION, describe: 'Long-message form (default udh8)' })
    .option('enquire-link-ms', {
      type: 'number',
      group: SESSION,
      describe: 'enquire_link after this much silence; 0 = never, else 1000..3600000 (default 30000)',
      requiresArg: true,
    })
    .option('response-timeout-ms', {
      type: 'number',
      group: SESSION,
      describe: 'Wait this long for a response, 100..300000 (default 10000)',
      requiresArg: true,
    })
    .option('message-id-form', {
      type: 'string',
      group: SESSION,
      describe:
        'How the downstream writes message ids, so receipts match: string, hex or decimal (string+ignore-case, string+strip-zeros), or SUBMIT:RECEIPT such as hex:decimal; "" clears it',
    })
    .option('tls', { type: 'boolean', group: TLS, describe: 'SMPP over TLS (--no-tls turns it off and clears the TLS settings)' })
    .option('tls-ca', {
      type: 'string',
      group: TLS,
      describe: 'PEM file of the CA(s) the downstream certificate must chain to (default: system CAs)',
    })
    .option('tls-cert', { type: 'string', group: TLS, describe: 'PEM file of our client certificate (with --tls-key)' })
    .option('tls-key', {
      type: 'string',
      group: TLS,
      describe: 'PEM file of the client certificate key (stored in MongoDB like the password; never printed)',
    })
    .option('tls-insecure', {
      type: 'boolean',
      group: TLS,
      describe: 'Do not verify the downstream certificate (encrypted, not authenticated: tests only)',
    })
    .option('tls-servername', {
      type: 'string',
      group: TLS,
      describe: 'Name the downstream certificate must carry, when it differs from --host',
    }) as unknown as Argv<T & ConnectorArgs>;
}

function printConnector(argv: ConnectorArgs, verb: string, value: unknown): void {
  stdoutPrinter(argv.json ? JSON.stringify(value) : `${verb} ${JSON.stringify(value)}`);
}

function listLine(c: ConnectorView): string {
  const extras = [
    ...(c.systemType ? [`system-type=${c.systemType}`] : []),
    ...(c.enquireLinkMs !== undefined ? [`enquire-link-ms=${c.enquireLinkMs}`] : []),
    ...(c.responseTimeoutMs !== undefined ? [`response-timeout-ms=${c.responseTimeoutMs}`] : []),
    ...(c.messageIdForm ? [`message-id-form=${JSON.stringify(c.messageIdForm)}`] : []),
    ...(c.tls ? [`tls${c.tlsInsecure ? '(insecure)' : ''}${c.tlsCa ? ' ca' : ''}${c.tlsCert ? ' client-cert' : ''}`] : []),
    ...(c.enabled === false ? ['disabled'] : []),
  ];
  return [`${c.name}`, `${c.host}:${c.port}`, c.systemId, c.bind, `tps=${c.tps}`, `window=${c.window}`, `long=${c.long}`, ...extras].join(
    '\t',
  );
}

export const connectorCommand: CommandModule<object, ConnectorArgs> = {
  command: 'connector <action>',
  describe: 'Manage outbound SMPP connectors (add|list|set|remove)',
  builder: (yargs: Argv<object>) =>
    withConnectorFields(withJsonOption(withStoreOptions(yargs)))
      .positional('action', { choices: ['add', 'list', 'set', 'remove'], describe: 'What to do' })
      .option('force', {
        type: 'boolean',
        describe: 'remove: also when routes use it (routes that use only it are removed, it is taken out of the others)',
      })
      .example(
        '$0 connector add --name op1 --host smsc.example --port 2775 --system-id me --password secret --tps 100',
        'a downstream operator',
      )
      .example(
        '$0 connector add --name op2 --host smsc.example --port 3550 --system-id me --password secret --tls --tls-ca ca.pem',
        'SMPP over TLS, verified against ca.pem',
      )
      .example(
        '$0 connector set --name op1 --window 20 --enquire-link-ms 15000 --message-id-form hex:decimal',
        'change fields; workers pick them up without a restart',
      )
      .example('$0 connector remove --name op1 --force', 'remove it, and the routes that only used it')
      .example('$0 connector list --json', 'for scripts') as unknown as Argv<ConnectorArgs>,
  handler: async (argv) => {
    const action = (argv as unknown as { action: string }).action;
    const config = configFromArgv(argv as unknown as Record<string, unknown>);
    const now = systemClock.now();
    const needName = () => {
      if (!argv.name) throw new ConfigError(`connector ${action} needs --name.`);
      return argv.name;
    };
    await withStore(config, 'smsc-connector', async (db) => {
      if (action === 'list') {
        printList(stdoutPrinter, argv.json, await listConnectors(db), 'No connectors.', listLine);
      } else if (action === 'add') {
        printConnector(argv, 'Added connector', await addConnector(db, { name: needName(), ...fields(argv) }, now));
      } else if (action === 'set') {
        printConnector(argv, 'Updated connector', await setConnector(db, needName(), fields(argv), now));
      } else {
        const removal = await removeConnector(db, needName(), { force: argv.force });
        if (argv.json) stdoutPrinter(JSON.stringify(removal));
        else {
          stdoutPrinter(`Removed connector ${removal.name}.`);
          for (const line of removal.removedRoutes) stdoutPrinter(`Removed route ${line}.`);
          for (const line of removal.changedRoutes) stdoutPrinter(`Changed route ${line}.`);
        }
      }
    });
  },
};
