import { computeValue, Context } from 'mingo/core';

/**
 * `$$NOW` for one operation. MongoDB binds it once per command ("remains the same throughout all
 * stages of the aggregation pipeline"; a write command generates its runtime constants once and
 * "these constants are applied to each update [delete] in the batch"), so every document an
 * updateMany touches, the filter's `$expr` and the pipeline update of one command all see one
 * value. The stand-in runs each command synchronously; the dispatcher binds a fresh Date around
 * it and everything evaluated inside reads this one.
 */
let bound: Date | null = null;

/** The bound `$$NOW`, or the current time outside any operation. */
export function operationNow(): Date {
  return bound ?? new Date();
}

/** Runs fn (synchronously) with `$$NOW` bound to `at`; the previous binding is restored after. */
export function withOperationTime<T>(at: Date, fn: () => T): T {
  const previous = bound;
  bound = at;
  try {
    return fn();
  } finally {
    bound = previous;
  }
}

/**
 * mingo reads `$$NOW` from its ComputeOptions' `now` getter, which takes Date.now() lazily per
 * options object, and mingo makes new options objects per document and per stage: without this
 * the value drifts within one command. The class is not exported, so an expression operator that
 * receives an instance hands over its class, and the prototype's `now` reads the bound value.
 */
function findComputeOptions(): { init(options: object): object; prototype: object } {
  let options: object | undefined;
  const context = Context.init({
    expression: { $standinProbe: (_o: unknown, _e: unknown, opts: object) => ((options = opts), null) },
  } as never);
  computeValue({}, null, '$standinProbe', { context } as never);
  const ctor = options?.constructor as { init?: unknown; prototype: object } | undefined;
  if (ctor === undefined || typeof ctor.init !== 'function')
    throw new Error('standin: mingo has no ComputeOptions class to bind $$NOW to (mingo upgraded?)');
  return ctor as { init(options: object): object; prototype: object };
}

const ComputeOptions = findComputeOptions();

function bindMingoNow(): void {
  const proto = ComputeOptions.prototype;
  const original = Object.getOwnPropertyDescriptor(proto, 'now');
  if (original?.get === undefined) throw new Error('standin: mingo has no ComputeOptions.now getter to bind $$NOW to (mingo upgraded?)');
  const read = original.get;
  Object.defineProperty(proto, 'now', {
    configurable: true,
    get(this: object): Date {
      return bound === null ? (read.call(this) as Date) : new Date(bound.getTime());
    },
  });
}

bindMingoNow();

/**
 * mingo options built once (its operator context copied once): evaluating an expression with a
 * plain options object copies every operator table per call, tens of microseconds each.
 */
export function prebuiltMingoOptions(options: { context: unknown; variables?: Record<string, unknown> }): unknown {
  return ComputeOptions.init(options);
}
