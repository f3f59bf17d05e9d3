import type { Argv } from 'yargs';
import { CONFIG_FIELDS } from '../config/fields.ts';

/**
 * Declares the CLI flags of every config field under one of `prefixes` (e.g. `hlr.`), from the
 * field table: one place for the flag name, its type and its help. No yargs defaults: an absent
 * flag falls through to the environment, the config file, then the field's default.
 */
export function withConfigFlags<T>(yargs: Argv<T>, prefixes: readonly string[], group: string): Argv<T> {
  let y = yargs;
  for (const field of CONFIG_FIELDS) {
    if (!field.flag || !prefixes.some((p) => field.path.startsWith(p))) continue;
    const type = field.kind.type === 'boolean' ? 'boolean' : field.kind.type === 'int' || field.kind.type === 'port' ? 'number' : 'string';
    const env = field.env ? ` (also ${field.env}` + (field.default !== undefined ? `; default ${String(field.default)})` : ')') : '';
    y = y.option(field.flag, {
      type,
      describe: `${field.doc}${env}`,
      group,
      ...(type === 'boolean' ? {} : { requiresArg: true }),
      ...(field.kind.type === 'enum' ? { choices: field.kind.values as string[] } : {}),
    }) as unknown as Argv<T>;
  }
  return y;
}
