import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../clock.ts';
import { addRoute, listRoutes, removeRoutes } from '../../routing/route-admin.ts';
import { configFromArgv, stdoutPrinter, withJsonOption, withStore, withStoreOptions, type JsonArgs, type StoreArgs } from '../shared-options.ts';

type RouteArgs = StoreArgs &
  JsonArgs & {
    prefix?: string;
    connector?: string;
    backup?: string;
    esme?: string;
    priority?: number;
    weight?: number;
    id?: string;
  };

export const routeCommand: CommandModule<object, RouteArgs> = {
  command: 'route <action>',
  describe: 'Manage routes: destination prefix -> connectors or an ESME (add|list|remove)',
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .positional('action', { choices: ['add', 'list', 'remove'], describe: 'What to do' })
      .option('prefix', { type: 'string', describe: 'Destination prefix (digits; empty = the default route)', requiresArg: false })
      .option('connector', { type: 'string', describe: 'Primary connector', requiresArg: true })
      .option('backup', { type: 'string', describe: 'Backup connector, used when the primary is not bound', requiresArg: true })
      .option('esme', { type: 'string', describe: 'system_id of the ESME that receives these destinations (MO)', requiresArg: true })
      .option('priority', { type: 'number', describe: 'Higher wins among routes with the same prefix (default 0)', requiresArg: true })
      .option('weight', { type: 'number', describe: 'Share among equal routes (default 1)', requiresArg: true })
      .option('id', { type: 'string', describe: 'Route id for remove (see route list)', requiresArg: true })
      .conflicts('esme', ['connector', 'backup'])
      .example('$0 route add --prefix 44 --connector op1 --backup op2', 'UK traffic to op1, op2 when op1 is down')
      .example('$0 route add --prefix "" --connector sink', 'the default route')
      .example('$0 route remove --prefix 44', 'remove every route for a prefix') as unknown as Argv<RouteArgs>,
  handler: async (argv) => {
    const action = (argv as unknown as { action: string }).action;
    const config = configFromArgv(argv as unknown as Record<string, unknown>);
    await withStore(config, 'smsc-route', async (db) => {
      if (action === 'list') {
        const all = await listRoutes(db);
        if (argv.json) stdoutPrinter(JSON.stringify(all));
        else if (all.length === 0) stdoutPrinter('No routes.');
        else for (const r of all) stdoutPrinter(`${r.id}\tprefix="${r.prefix}"\t${r.esme ? `esme=${r.esme}` : `connectors=${r.connectors.join(',')}`}\tpriority=${r.priority}\tweight=${r.weight}`);
      } else if (action === 'add') {
        if (argv.prefix === undefined) throw new Error('route add needs --prefix (use --prefix "" for the default route).');
        const connectors = [argv.connector, argv.backup].filter((c): c is string => typeof c === 'string' && c !== '');
        if (argv.backup && !argv.connector) throw new Error('--backup needs --connector.');
        const route = await addRoute(
          db,
          { prefix: String(argv.prefix), connectors, ...(argv.esme ? { esme: argv.esme } : {}), ...(argv.priority !== undefined ? { priority: argv.priority } : {}), ...(argv.weight !== undefined ? { weight: argv.weight } : {}) },
          systemClock.now(),
        );
        stdoutPrinter(argv.json ? JSON.stringify(route) : `Added route ${JSON.stringify(route)}`);
      } else {
        const removed = await removeRoutes(db, { id: argv.id, prefix: argv.prefix === undefined ? undefined : String(argv.prefix) });
        stdoutPrinter(argv.json ? JSON.stringify({ removed }) : `Removed ${removed} route(s).`);
      }
    });
  },
};
