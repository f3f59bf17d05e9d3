import type { MongoClient } from 'mongodb';

export interface CommandCounts {
  total: number;
  /** By command and, where the command names one, collection: `"find sms"`, `"getMore"`. */
  byCommand: Record<string, number>;
}

/**
 * Counts the commands a client sends (the client must be created with `monitorCommands: true`):
 * what the benches' "MongoDB commands per message" figures are made of.
 */
export function countCommands(client: MongoClient): CommandCounts {
  const counts: CommandCounts = { total: 0, byCommand: {} };
  client.on('commandStarted', (event) => {
    counts.total++;
    const target = event.command[event.commandName];
    const key = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
    counts.byCommand[key] = (counts.byCommand[key] ?? 0) + 1;
  });
  return counts;
}
