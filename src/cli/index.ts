/**
 * The public module of src/cli/: what other layers and the tests import from this folder.
 * Modules inside src/cli/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { accountCommand, runAccount } from './commands/account.ts';
export type { AccountArgs } from './commands/account.ts';
export { runCdrExport } from './commands/cdr.ts';
export type { CdrArgs } from './commands/cdr.ts';
export { parseMessageIdForm } from './commands/connector.ts';
export { runContactList } from './commands/contact-list.ts';
export type { ContactListArgs } from './commands/contact-list.ts';
export { dlrParseCommand } from './commands/dlr-parse.ts';
export { runIndexes } from './commands/indexes.ts';
export { runMessage } from './commands/message.ts';
export { runRequeue, selectorOf } from './commands/requeue.ts';
export type { RequeueArgs } from './commands/requeue.ts';
export { smsInfoCommand } from './commands/sms-info.ts';
export { runStatus } from './commands/status.ts';
export { runHttpSubmit, runSubmit } from './commands/submit.ts';
export type { SubmitArgs } from './commands/submit.ts';
export { COMMANDS, commandsFor } from './main.ts';
export { withJsonOption, withMetricsOption, withRedisOption, withStoreOptions } from './shared-options.ts';
