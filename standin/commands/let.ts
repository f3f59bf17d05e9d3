import type { Document } from 'bson';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode } from '../errors.ts';
import { compileExpression, readsNoField } from '../query/expression.ts';

/**
 * A command's `let` document: each value an expression evaluated once, before any document (so
 * it may read `$$NOW` and the variables defined before it, never a field), as mongod does.
 */
export function letVariables(cmd: Document): Record<string, unknown> | undefined {
  const raw = cmd.let;
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainObject(raw)) throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'let' is the wrong type, expected type 'object'");
  const variables: Record<string, unknown> = {};
  for (const [name, expr] of Object.entries(raw)) {
    if (!readsNoField(expr)) {
      // mongod's message, missing space included.
      throw new CommandError(
        4890500,
        'Command let Expression tried to access a field, but this is not allowed becauseCommand let Expressions run before the query examines any documents.',
      );
    }
    const value = compileExpression(expr, variables)({});
    if (value !== undefined) variables[name] = value;
  }
  return variables;
}
