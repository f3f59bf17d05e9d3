import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../clock.ts';
import { addConnector, listConnectors, removeConnector, setConnector } from '../../connectors/connector-admin.ts';
import type { ConnectorDocument } from '../../connectors/connector-document.ts';
import { configFromArgv, stdoutPrinter, withJsonOption, withStore, withStoreOptions, type JsonArgs, type StoreArgs } from '../shared-options.ts';

type ConnectorArgs = StoreArgs &
  JsonArgs & {
    name?: string;
    host?: string;
    port?: number;
    systemId?: string;
    password?: string;
    bind?: string;
    tps?: number;
    window?: number;
    long?: string;
    enabled?: boolean;
  };

function fields(argv: ConnectorArgs): Partial<ConnectorDocument> {
  const out: Partial<ConnectorDocument> = {};
  if (argv.host !== undefined) out.host = argv.host;
  if (argv.port !== undefined) out.port = argv.port;
  if (argv.systemId !== undefined) out.systemId = String(argv.systemId);
  if (argv.password !== undefined) out.password = String(argv.password);
  if (argv.bind !== undefined) out.bind = argv.bind as ConnectorDocument['bind'];
  if (argv.tps !== undefined) out.tps = argv.tps;
  if (argv.window !== undefined) out.window = argv.window;
  if (argv.long !== undefined) out.long = argv.long as ConnectorDocument['long'];
  if (argv.enabled !== undefined) out.enabled = argv.enabled;
  return out;
}

function withConnectorFields<T>(yargs: Argv<T>): Argv<T & ConnectorArgs> {
  return yargs
    .option('name', { type: 'string', describe: 'Connector name (routes refer to it)', requiresArg: true })
    .option('host', { type: 'string', describe: 'Downstream SMSC host', requiresArg: true })
    .option('port', { type: 'number', describe: 'Downstream SMSC port', requiresArg: true })
    .option('system-id', { type: 'string', describe: 'system_id we bind with', requiresArg: true })
    .option('password', { type: 'string', describe: 'Password we bind with (never printed)', requiresArg: true })
    .option('bind', { choices: ['transceiver', 'transmitter'], describe: 'Bind mode (default transceiver)' })
    .option('tps', { type: 'number', describe: 'Submits per second across all deliverers; 0 = unlimited', requiresArg: true })
    .option('window', { type: 'number', describe: 'Outstanding submits at once (default 10)', requiresArg: true })
    .option('long', { choices: ['sar', 'udh8', 'udh16', 'payload'], describe: 'Long-message form (default udh8)' })
    .option('enabled', { type: 'boolean', describe: 'Disabled connectors are not bound' }) as unknown as Argv<T & ConnectorArgs>;
}

function printConnector(argv: ConnectorArgs, verb: string, value: unknown): void {
  stdoutPrinter(argv.json ? JSON.stringify(value) : `${verb} ${JSON.stringify(value)}`);
}

export const connectorCommand: CommandModule<object, ConnectorArgs> = {
  command: 'connector <action>',
  describe: 'Manage outbound SMPP connectors (add|list|set|remove)',
  builder: (yargs: Argv<object>) =>
    withConnectorFields(withJsonOption(withStoreOptions(yargs)))
      .positional('action', { choices: ['add', 'list', 'set', 'remove'], describe: 'What to do' })
      .example('$0 connector add --name op1 --host smsc.example --port 2775 --system-id me --password secret --tps 100', 'a downstream operator')
      .example('$0 connector set --name op1 --window 20', 'change one field; workers pick it up without a restart')
      .example('$0 connector list --json', 'for scripts') as unknown as Argv<ConnectorArgs>,
  handler: async (argv) => {
    const action = (argv as unknown as { action: string }).action;
    const config = configFromArgv(argv as unknown as Record<string, unknown>);
    const now = systemClock.now();
    const needName = () => {
      if (!argv.name) throw new Error(`connector ${action} needs --name.`);
      return argv.name;
    };
    await withStore(config, 'smsc-connector', async (db) => {
      if (action === 'list') {
        const all = await listConnectors(db);
        if (argv.json) stdoutPrinter(JSON.stringify(all));
        else if (all.length === 0) stdoutPrinter('No connectors.');
        else for (const c of all) stdoutPrinter(`${c.name}\t${c.host}:${c.port}\t${c.systemId}\t${c.bind}\ttps=${c.tps}\twindow=${c.window}\tlong=${c.long}${c.enabled === false ? '\tdisabled' : ''}`);
      } else if (action === 'add') {
        printConnector(argv, 'Added connector', await addConnector(db, { name: needName(), ...fields(argv) }, now));
      } else if (action === 'set') {
        printConnector(argv, 'Updated connector', await setConnector(db, needName(), fields(argv), now));
      } else {
        await removeConnector(db, needName());
        printConnector(argv, 'Removed connector', { name: argv.name });
      }
    });
  },
};
