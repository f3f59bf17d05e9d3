import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import { show } from './bson-values.ts';
import { match, MatchError, type MatchOptions } from './matcher.ts';
import type { ExpectedEventsForClient } from './loader.ts';

export const COMMAND_EVENT_TYPES = Object.freeze(['commandStartedEvent', 'commandSucceededEvent', 'commandFailedEvent'] as const);
export type CommandEventType = (typeof COMMAND_EVENT_TYPES)[number];

/** Commands whose events the unified format says to leave out (command monitoring spec, "Security"). */
export const SENSITIVE_COMMANDS = Object.freeze(
  new Set([
    'authenticate',
    'saslstart',
    'saslcontinue',
    'getnonce',
    'createuser',
    'updateuser',
    'copydbgetnonce',
    'copydbsaslstart',
    'copydb',
  ]),
);

export interface RecordedEvent {
  type: CommandEventType;
  commandName: string;
  databaseName?: string;
  command?: Record<string, unknown>;
  reply?: Record<string, unknown>;
  failure?: unknown;
}

function isSensitive(commandName: string, body: Record<string, unknown> | undefined): boolean {
  const name = commandName.toLowerCase();
  if (SENSITIVE_COMMANDS.has(name)) return true;
  // hello with speculativeAuthenticate is redacted by the driver to an empty document.
  if ((name === 'hello' || name === 'ismaster') && body !== undefined && Object.keys(body).length === 0) return true;
  return false;
}

/** Collects one client entity's command events, filtered as the client entity asks. */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  private active = true;

  constructor(
    client: MongoClient,
    private readonly observe: ReadonlySet<string>,
    private readonly ignoreCommands: ReadonlySet<string>,
    private readonly observeSensitive = false,
  ) {
    client.on('commandStarted', (e: CommandStartedEvent) =>
      this.record({ type: 'commandStartedEvent', commandName: e.commandName, databaseName: e.databaseName, command: e.command }),
    );
    client.on('commandSucceeded', (e: CommandSucceededEvent) =>
      this.record({
        type: 'commandSucceededEvent',
        commandName: e.commandName,
        databaseName: e.databaseName,
        reply: e.reply as Record<string, unknown>,
      }),
    );
    client.on('commandFailed', (e: CommandFailedEvent) =>
      this.record({ type: 'commandFailedEvent', commandName: e.commandName, databaseName: e.databaseName, failure: e.failure }),
    );
  }

  /** Later events (cursor clean-up, endSessions at close) are not part of the test. */
  stop(): void {
    this.active = false;
  }

  private record(event: RecordedEvent): void {
    if (!this.active || !this.observe.has(event.type)) return;
    const name = event.commandName.toLowerCase();
    if (name === 'configurefailpoint') return;
    if ([...this.ignoreCommands].some((c) => c.toLowerCase() === name)) return;
    if (!this.observeSensitive && isSensitive(event.commandName, event.command ?? event.reply)) return;
    this.events.push(event);
  }
}

function describe(event: RecordedEvent): string {
  const body = event.command ?? event.reply;
  return `${event.type} ${event.commandName}${body ? ` ${show(body)}` : ''}`;
}

/** Matches one expected event (`{commandStartedEvent: {...}}`) against a recorded one. */
export function matchEvent(
  expected: Record<string, Record<string, unknown>>,
  actual: RecordedEvent,
  path: string,
  options: MatchOptions,
): void {
  const [type] = Object.keys(expected);
  const spec = expected[type] ?? {};
  if (type !== actual.type) throw new MatchError(path, `expected ${type}, got ${describe(actual)}`);
  if (spec.commandName !== undefined && spec.commandName !== actual.commandName) {
    throw new MatchError(`${path}.commandName`, `expected ${String(spec.commandName)}, got ${describe(actual)}`);
  }
  if (spec.databaseName !== undefined && spec.databaseName !== actual.databaseName) {
    throw new MatchError(`${path}.databaseName`, `expected ${String(spec.databaseName)}, got ${String(actual.databaseName)}`);
  }
  if (spec.command !== undefined) match(spec.command, actual.command, true, `${path}.command`, options);
  if (spec.reply !== undefined) match(spec.reply, actual.reply, true, `${path}.reply`, options);
  for (const key of Object.keys(spec)) {
    if (!['command', 'commandName', 'databaseName', 'reply', 'hasServiceId', 'hasServerConnectionId'].includes(key)) {
      throw new MatchError(`${path}.${key}`, `unsupported expected event field ${key}`);
    }
  }
}

/** Asserts the events observed on a client are exactly (or start with) the expected ones, in order. */
export function matchEvents(expected: ExpectedEventsForClient, actual: RecordedEvent[], options: MatchOptions): void {
  const path = `expectEvents[${expected.client}]`;
  const tooMany = !expected.ignoreExtraEvents && actual.length > expected.events.length;
  if (actual.length < expected.events.length || tooMany) {
    throw new MatchError(
      path,
      `expected ${expected.events.length} event(s), got ${actual.length}:\n      ${actual.map(describe).join('\n      ') || '(none)'}`,
    );
  }
  expected.events.forEach((event, i) => matchEvent(event, actual[i], `${path}[${i}]`, options));
}
