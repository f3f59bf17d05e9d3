import type { Argv, CommandModule } from 'yargs';
import { systemClock } from '../../domain/clock.ts';
import { formatMessageStory, loadMessageStory, type MessageStory } from '../../ops/message-story.ts';
import { printStoreReport, withJsonOption, withStoreOptions, type JsonArgs, type StoreArgs } from '../shared-options.ts';
import type { CommandDeps } from './status.ts';

export type MessageArgs = StoreArgs & JsonArgs & { messageId: string };

/** `smsc message <id>`: throws OpsError MESSAGE_NOT_FOUND (one sentence, exit 1) when there is no such message. */
export async function runMessage(argv: MessageArgs, deps: CommandDeps = {}): Promise<MessageStory> {
  return printStoreReport(
    argv,
    deps,
    'smsc-message',
    (db) => loadMessageStory(db, String(argv.messageId), deps.clock ?? systemClock),
    formatMessageStory,
  );
}

export const messageCommand: CommandModule<object, MessageArgs> = {
  command: 'message <messageId>',
  describe: 'The whole story of one message: state, attempts, downstream ids, receipts',
  builder: (yargs: Argv<object>) =>
    withJsonOption(withStoreOptions(yargs))
      .positional('messageId', { type: 'string', describe: 'The message_id submit_sm_resp returned', demandOption: true })
      .example('$0 message 6650a1f0c2b4e83f1d2a9b10', 'where is this message?')
      .example('$0 message 6650a1f0c2b4e83f1d2a9b10 --json', 'the stored document and its links as JSON') as unknown as Argv<MessageArgs>,
  handler: async (argv) => {
    await runMessage(argv);
  },
};
