import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';

/** A command's `let` document, each value evaluated as an aggregation expression. */
export function letVariables(cmd: Document): Record<string, unknown> | undefined {
  const raw = cmd.let;
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'let' is the wrong type, expected type 'object'");
  try {
    const [evaluated] = new Aggregator([{ $replaceWith: { $literal: {} } }, { $addFields: raw }]).run([{}]);
    return evaluated as Record<string, unknown>;
  } catch (err) {
    throw toCommandError(err);
  }
}
