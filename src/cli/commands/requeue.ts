import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../domain/clock.ts';
import { addressOptionsOf } from '../../config/slices.ts';
import { OpsError, OpsErrorCode } from '../../ops/errors.ts';
import { REQUEUEABLE_STATES, requeueMessages, type RequeueResult, type RequeueSelector } from '../../ops/requeue.ts';
import {
  configFromArgv,
  stdoutPrinter,
  withJsonOption,
  withStore,
  withStoreOptions,
  type JsonArgs,
  type StoreArgs,
} from '../shared-options.ts';
import type { CommandDeps } from './status.ts';

export type RequeueArgs = StoreArgs & JsonArgs & { messageId?: string; dest?: string; state?: string; extendValidityHours?: number };

export function selectorOf(argv: RequeueArgs): RequeueSelector {
  const given = [argv.messageId, argv.dest, argv.state].filter((v) => v !== undefined && v !== '');
  if (given.length !== 1) {
    throw new OpsError(OpsErrorCode.badSelector, 'Name exactly one of: a message id, --dest DESTINATION or --state STATE.');
  }
  if (argv.messageId) return { messageId: String(argv.messageId) };
  if (argv.dest) return { destKey: String(argv.dest) };
  return { state: String(argv.state) };
}

/** `smsc requeue`: prints how many messages went back to the queue. */
export async function runRequeue(argv: RequeueArgs, deps: CommandDeps = {}): Promise<RequeueResult> {
  const selector = selectorOf(argv);
  const config = configFromArgv(argv as unknown as Record<string, unknown>, deps.env);
  const extend = argv.extendValidityHours;
  if (extend !== undefined && (!Number.isFinite(extend) || extend <= 0)) {
    throw new OpsError(OpsErrorCode.badSelector, `--extend-validity-hours must be a positive number of hours, got ${extend}.`);
  }
  const result = await withStore(config, 'smsc-requeue', (db) =>
    requeueMessages(db, selector, deps.clock ?? systemClock, {
      by: `smsc requeue (${process.env.USER ?? 'operator'})`,
      ...(extend !== undefined ? { extendValidityMs: extend * 3600_000 } : {}),
      addressOptions: addressOptionsOf(config.address),
    }),
  );
  if ('messageId' in selector && result.skippedState !== undefined) {
    throw new OpsError(
      OpsErrorCode.notRequeueable,
      `Message ${selector.messageId} is ${result.skippedState} and was not requeued (requeueable: ${REQUEUEABLE_STATES.join(', ')}).`,
    );
  }
  const print = deps.print ?? stdoutPrinter;
  if (argv.json) print(JSON.stringify(result));
  else {
    const extended = result.validityExtended > 0 ? ` (${result.validityExtended} past validity got an extension)` : '';
    print(`Requeued ${result.requeued} message(s)${extended}.`);
  }
  return result;
}

export const requeueCommand: CommandModule<object, RequeueArgs> = {
  command: 'requeue [messageId]',
  describe: `Send messages back to the queue, due now (only from ${REQUEUEABLE_STATES.join(', ')}; never locked ones). An ESME that asked for receipts gets one more, with the new final outcome`,
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .positional('messageId', { type: 'string', describe: 'One message, by the id submit_sm_resp returned' })
      .option('dest', {
        type: 'string',
        describe: 'Every requeueable message to this destination: its destKey, or the number as an ESME would send it',
        requiresArg: true,
      })
      .option('state', { type: 'string', describe: `Every message in this state (${REQUEUEABLE_STATES.join('|')})`, requiresArg: true })
      .option('extend-validity-hours', {
        type: 'number',
        describe: 'New validity for messages already past theirs (default 24)',
        requiresArg: true,
      })
      .example('$0 requeue 6650a1f0c2b4e83f1d2a9b10', 'retry one message now')
      .example('$0 requeue --dest 447700900123', 'retry everything waiting for one subscriber')
      .example('$0 requeue --state undeliverable', 'after fixing a route') as unknown as Argv<RequeueArgs>,
  handler: async (argv) => {
    await runRequeue(argv);
  },
};
