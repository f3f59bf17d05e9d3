import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../domain/clock.ts';
import { normaliseDestination } from '../../codec/index.ts';
import { ConfigError } from '../../domain/errors.ts';
import { silentLogger } from '../../logging/logger.ts';
import { describeRoute, type RoutingDecision, type RoutingRequest } from '../../routing/decide-route.ts';
import { addRoute, listRoutes, removeRoutes, setRoute } from '../../routing/route-admin.ts';
import {
  INTAKE_KINDS,
  ROUTE_ACTIONS,
  RouteAction,
  timeWindowFrom,
  type IntakeKindName,
  type RouteActionName,
  type RouteDocument,
} from '../../routing/route-document.ts';
import { Router } from '../../routing/router.ts';
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

type RouteArgs = StoreArgs &
  JsonArgs & {
    prefix?: string;
    connector?: string;
    backup?: string[];
    esme?: string;
    priority?: number;
    weight?: number;
    id?: string;
    sourcePrefix?: string;
    account?: string;
    intake?: string;
    network?: string;
    timeWindow?: string;
    days?: string;
    timeZone?: string;
    action?: string;
    replyText?: string;
    charged?: boolean;
    enabled?: boolean;
    to?: string;
    from?: string;
    at?: string;
  };

const MATCH = 'Match (absent = any; "" clears one on set):';
const ACTION = 'Action:';
const SIMULATE = 'route simulate:';

/** `--time-window`, `--days`, `--time-zone` into a stored window; '' clears it (set). */
function timeWindowOf(argv: RouteArgs): Partial<RouteDocument> {
  if (argv.timeWindow === undefined) {
    if (argv.days !== undefined || argv.timeZone !== undefined) throw new ConfigError('--days and --time-zone go with --time-window.');
    return {};
  }
  if (argv.timeWindow === '') return { timeWindow: undefined };
  return { timeWindow: timeWindowFrom({ window: argv.timeWindow, days: argv.days, timeZone: argv.timeZone }) };
}

/** A condition flag: absent = unchanged, '' = removed (undefined), else the value. */
function condition(value: string | undefined): string | undefined | null {
  if (value === undefined) return null;
  return value === '' ? undefined : value;
}

/** The route fields the flags name (for add, and as changes for set). */
function routeFields(argv: RouteArgs): Partial<RouteDocument> {
  const out: Partial<RouteDocument> = {};
  const backups = (argv.backup ?? []).filter((b) => b !== '');
  if (backups.length > 0 && !argv.connector) throw new ConfigError('--backup needs --connector.');
  if (argv.connector) out.connectors = [argv.connector, ...backups];
  if (argv.esme) out.esme = argv.esme;
  if (argv.priority !== undefined) out.priority = argv.priority;
  if (argv.weight !== undefined) out.weight = argv.weight;
  if (argv.enabled !== undefined) out.enabled = argv.enabled;
  if (argv.charged !== undefined) out.charged = argv.charged || undefined;
  for (const key of ['sourcePrefix', 'account', 'network'] as const) {
    const value = condition(argv[key]);
    if (value !== null) out[key] = value;
  }
  const intake = condition(argv.intake);
  if (intake !== null) out.intake = intake as IntakeKindName | undefined;
  Object.assign(out, timeWindowOf(argv));
  if (argv.action !== undefined) out.action = argv.action as RouteActionName;
  if (argv.replyText !== undefined) out.replyText = argv.replyText;
  return out;
}

/** What `set` changes, so the result is a consistent route (e.g. drop clears the connectors). */
function changesForSet(argv: RouteArgs): Partial<RouteDocument> {
  const changes = routeFields(argv);
  if (changes.action === RouteAction.drop || changes.action === RouteAction.autoReply) {
    changes.connectors = [];
    changes.charged = undefined;
  }
  if (changes.action === RouteAction.drop || changes.action === RouteAction.deliver || (changes.connectors?.length ?? 0) > 0) {
    if (argv.replyText === undefined) changes.replyText = undefined;
  }
  if ((changes.connectors?.length ?? 0) > 0 && changes.action === undefined) changes.action = undefined;
  return changes;
}

/** The destination as routing compares it: E.164 digits with '+', else the digits as written. */
function destinationOf(to: string): string {
  try {
    return normaliseDestination({ ton: to.trim().startsWith('+') ? 1 : 0, npi: 1, addr: to }).destKey;
  } catch (error) {
    throw new ConfigError(`--to ${JSON.stringify(to)} is not a destination number (${(error as Error).message}).`);
  }
}

function simulateRequest(argv: RouteArgs): RoutingRequest {
  if (!argv.to) throw new ConfigError('route simulate needs --to.');
  const at = argv.at === undefined ? systemClock.now() : new Date(argv.at);
  if (Number.isNaN(at.getTime()))
    throw new ConfigError(`--at ${JSON.stringify(argv.at)} is not a time (use ISO 8601, e.g. 2026-05-01T21:30:00Z).`);
  if (argv.intake !== undefined && !INTAKE_KINDS.includes(argv.intake as IntakeKindName))
    throw new ConfigError(`--intake must be one of ${INTAKE_KINDS.join(', ')}.`);
  return {
    to: destinationOf(argv.to),
    ...(argv.from ? { from: argv.from } : {}),
    ...(argv.account ? { account: argv.account } : {}),
    intake: (argv.intake as IntakeKindName | undefined) ?? 'smpp',
    ...(argv.network ? { network: argv.network } : {}),
    at,
  };
}

function decisionLines(decision: RoutingDecision): string[] {
  const lines: string[] = [];
  if (decision.action === 'none') lines.push('decision: none (no route: the message would be undeliverable)');
  else if (decision.action === RouteAction.deliver)
    lines.push(`decision: deliver over ${decision.connectors.join(', then ')}${decision.charged ? ' (charged)' : ''}`);
  else if (decision.action === RouteAction.drop) lines.push('decision: drop (rejected, REJECTD receipt)');
  else lines.push(`decision: auto-reply ${JSON.stringify(decision.replyText ?? '')}`);
  if (decision.route) lines.push(`route:    ${decision.route.id ? `${decision.route.id} ` : ''}${describeRoute(decision.route)}`);
  lines.push('why:', ...decision.why.map((line) => `  ${line}`));
  if (decision.candidates.length > 0) {
    lines.push('routes considered:');
    for (const c of decision.candidates)
      lines.push(
        `  ${c.matched ? (c.reason === 'chosen' ? 'chosen' : 'match ') : 'no    '}  ${c.id ?? ''} ${c.route}${c.reason === 'chosen' ? '' : ` — ${c.reason}`}`,
      );
  }
  return lines;
}

export const routeCommand: CommandModule<object, RouteArgs> = {
  command: 'route <operation>',
  describe: 'Manage routes and see where a message would go (add|list|set|remove|simulate)',
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .positional('operation', { choices: ['add', 'list', 'set', 'remove', 'simulate'], describe: 'What to do' })
      .option('prefix', { type: 'string', describe: 'Destination prefix (digits; empty = the default route)', requiresArg: false })
      .option('connector', { type: 'string', describe: 'Primary connector (must exist)', requiresArg: true })
      .option('backup', {
        type: 'string',
        array: true,
        describe: 'Backup connector(s), in order, used when the ones before are not bound',
        requiresArg: true,
      })
      .option('esme', {
        type: 'string',
        describe: 'system_id of the ESME that receives these destinations (MO; must exist)',
        requiresArg: true,
      })
      .option('priority', { type: 'number', describe: 'Higher wins among routes that match equally well (default 0)', requiresArg: true })
      .option('weight', { type: 'number', describe: 'Share among routes that match equally well (default 1)', requiresArg: true })
      .option('id', { type: 'string', describe: 'Route id for set and remove (see route list)', requiresArg: true })
      .option('enabled', { type: 'boolean', describe: 'Disabled routes are ignored (set)' })
      .option('source-prefix', { type: 'string', group: MATCH, describe: 'Source address (or sender id) starts with this' })
      .option('account', {
        type: 'string',
        group: MATCH,
        describe: 'Submitted by this ESME account (system_id; must exist). Also the account for simulate',
      })
      .option('intake', { type: 'string', group: MATCH, describe: `Arrived over ${INTAKE_KINDS.join(' or ')}` })
      .option('network', {
        type: 'string',
        group: MATCH,
        describe:
          'The HLR reported this serving network for the destination (sms.hlr.network, e.g. an MCC+MNC): ported numbers. Wins over prefixes',
      })
      .option('time-window', { type: 'string', group: MATCH, describe: 'Local time HH:MM-HH:MM (22:00-06:00 crosses midnight)' })
      .option('days', {
        type: 'string',
        group: MATCH,
        describe: 'Days for --time-window: mon-fri, sat,sun, … (default every day)',
        requiresArg: true,
      })
      .option('time-zone', { type: 'string', group: MATCH, describe: 'IANA zone for --time-window (default UTC)', requiresArg: true })
      .option('action', {
        choices: ROUTE_ACTIONS as string[],
        group: ACTION,
        describe: 'deliver (default) over the connectors; drop (REJECTD); auto-reply with --reply-text as an MO to the sender',
      })
      .option('reply-text', { type: 'string', group: ACTION, describe: 'Text of the auto-reply', requiresArg: true })
      .option('charged', {
        type: 'boolean',
        group: ACTION,
        describe: 'Ask the charging endpoint (CHARGING_URL) before delivering each message; refuse on a negative answer',
      })
      .option('to', { type: 'string', group: SIMULATE, describe: 'Destination number', requiresArg: true })
      .option('from', { type: 'string', group: SIMULATE, describe: 'Source address or sender id', requiresArg: true })
      .option('at', { type: 'string', group: SIMULATE, describe: 'Decide as at this time (ISO 8601; default now)', requiresArg: true })
      .conflicts('esme', ['connector', 'backup'])
      .example('$0 route add --prefix 44 --connector op1 --backup op2', 'UK traffic to op1, op2 when op1 is down')
      .example('$0 route add --prefix "" --connector sink', 'the default route')
      .example('$0 route add --prefix 44 --account acme --connector op3 --charged', "acme's UK traffic over op3, charged first")
      .example('$0 route add --prefix 4490 --action drop', 'refuse premium-rate numbers (REJECTD)')
      .example(
        '$0 route add --prefix 4412345 --action auto-reply --reply-text "This number is no longer in service"',
        'answer the sender instead of delivering',
      )
      .example(
        '$0 route add --prefix 49 --connector night --time-window 22:00-06:00 --time-zone Europe/Berlin',
        'night traffic to Germany over another connector',
      )
      .example('$0 route simulate --to +447700900123 --from 12345 --account acme', 'which route, and why')
      .example('$0 route remove --prefix 44', 'remove every route for a prefix') as unknown as Argv<RouteArgs>,
  handler: async (argv) => {
    const operation = (argv as unknown as { operation: string }).operation;
    const config = configFromArgv(argv as unknown as Record<string, unknown>);
    await withStore(config, 'smsc-route', async (db) => {
      if (operation === 'list') {
        printList(stdoutPrinter, argv.json, await listRoutes(db), 'No routes.', (r) => `${r.id}\t${describeRoute(r)}`);
      } else if (operation === 'simulate') {
        const decision = await new Router(db, silentLogger).decide(simulateRequest(argv));
        stdoutPrinter(argv.json ? JSON.stringify(decision) : decisionLines(decision).join('\n'));
      } else if (operation === 'add') {
        if (argv.prefix === undefined) throw new ConfigError('route add needs --prefix (use --prefix "" for the default route).');
        const route = await addRoute(db, { ...routeFields(argv), prefix: String(argv.prefix) }, systemClock.now());
        stdoutPrinter(argv.json ? JSON.stringify(route) : `Added route ${route.id} ${describeRoute(route)}`);
      } else if (operation === 'set') {
        if (!argv.id) throw new ConfigError('route set needs --id (see `smsc route list`).');
        const changes = { ...changesForSet(argv), ...(argv.prefix !== undefined ? { prefix: String(argv.prefix) } : {}) };
        const route = await setRoute(db, argv.id, changes, systemClock.now());
        stdoutPrinter(argv.json ? JSON.stringify(route) : `Updated route ${route.id} ${describeRoute(route)}`);
      } else {
        const removed = await removeRoutes(db, { id: argv.id, prefix: argv.prefix === undefined ? undefined : String(argv.prefix) });
        stdoutPrinter(argv.json ? JSON.stringify({ removed }) : `Removed ${removed} route(s).`);
      }
    });
  },
};
