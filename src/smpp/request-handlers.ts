import { CommandStatus } from './command-status.ts';
import {
  bindRequestFromWire,
  cancelSmFromWire,
  querySmFromWire,
  querySmResultToWire,
  replaceSmFromWire,
  shortMessageFromWire,
  submitMultiFromWire,
  submitMultiResultToWire,
  type BindMode,
  type BindRequest,
  type BindResponse,
  type CancelSm,
  type QuerySm,
  type QuerySmResult,
  type ReplaceSm,
  type ShortMessage,
  type SubmitMulti,
  type SubmitMultiResult,
} from './domain.ts';
import { SmppError } from './errors.ts';
import type { WirePdu } from './pdu.ts';

type Awaitable<T> = T | Promise<T>;

/** Handlers for inbound requests, called with the session's context; throw an SmppError to answer with its status. */
export interface RequestHandlersWith<Context> {
  bind: (req: BindRequest, ctx: Context) => Awaitable<BindResponse>;
  submitSm: (req: ShortMessage, ctx: Context) => Awaitable<{ messageId: string }>;
  dataSm: (req: ShortMessage, ctx: Context) => Awaitable<{ messageId: string }>;
  deliverSm: (req: ShortMessage, ctx: Context) => Awaitable<void | { messageId?: string }>;
  querySm: (req: QuerySm, ctx: Context) => Awaitable<QuerySmResult>;
  cancelSm: (req: CancelSm, ctx: Context) => Awaitable<void>;
  replaceSm: (req: ReplaceSm, ctx: Context) => Awaitable<void>;
  submitMulti: (req: SubmitMulti, ctx: Context) => Awaitable<SubmitMultiResult>;
}

export type HandlerName = keyof RequestHandlersWith<unknown>;

/** A response's mandatory parameters and TLVs, spec names. */
export interface ResponseBody {
  params?: Record<string, unknown>;
  tlvs?: Record<string, unknown>;
}

const HANDLER_BY_COMMAND: Readonly<Record<string, HandlerName>> = Object.freeze({
  bind_transmitter: 'bind',
  bind_receiver: 'bind',
  bind_transceiver: 'bind',
  submit_sm: 'submitSm',
  data_sm: 'dataSm',
  deliver_sm: 'deliverSm',
  query_sm: 'querySm',
  cancel_sm: 'cancelSm',
  replace_sm: 'replaceSm',
  submit_multi: 'submitMulti',
});

/** The handler registered for a request command, if any. */
export function handlerFor<Context>(
  handlers: Partial<RequestHandlersWith<Context>>,
  command: string,
): RequestHandlersWith<Context>[HandlerName] | undefined {
  const name = HANDLER_BY_COMMAND[command];
  return name ? handlers[name] : undefined;
}

/**
 * Calls a request's handler with the request in domain terms and turns what it returns into the
 * response body. `mode` is set for the three bind commands.
 */
export function invokeHandler<Context>(
  handler: RequestHandlersWith<Context>[HandlerName],
  pdu: WirePdu,
  mode: BindMode | undefined,
  ctx: Context,
): Awaitable<ResponseBody | undefined> {
  type Handlers = RequestHandlersWith<Context>;
  if (mode) {
    return Promise.resolve((handler as Handlers['bind'])(bindRequestFromWire(pdu, mode), ctx)).then((r) => ({
      params: { system_id: r.systemId },
      tlvs: r.scInterfaceVersion !== undefined ? { sc_interface_version: r.scInterfaceVersion } : undefined,
    }));
  }
  switch (pdu.command) {
    case 'submit_sm':
    case 'data_sm':
      return Promise.resolve((handler as Handlers['submitSm'])(shortMessageFromWire(pdu), ctx)).then((r) => ({
        params: { message_id: r.messageId },
      }));
    case 'deliver_sm':
      // deliver_sm_resp's message_id is "unused, set to NULL" in SMPP 3.4.
      return Promise.resolve((handler as Handlers['deliverSm'])(shortMessageFromWire(pdu), ctx)).then((r) => ({
        params: { message_id: r?.messageId ?? '' },
      }));
    case 'query_sm':
      return Promise.resolve((handler as Handlers['querySm'])(querySmFromWire(pdu), ctx)).then((r) => ({
        params: querySmResultToWire(r),
      }));
    case 'cancel_sm':
      return Promise.resolve((handler as Handlers['cancelSm'])(cancelSmFromWire(pdu), ctx)).then(() => undefined);
    case 'replace_sm':
      return Promise.resolve((handler as Handlers['replaceSm'])(replaceSmFromWire(pdu), ctx)).then(() => undefined);
    case 'submit_multi':
      return Promise.resolve((handler as Handlers['submitMulti'])(submitMultiFromWire(pdu), ctx)).then((r) => ({
        params: submitMultiResultToWire(r),
      }));
    default:
      throw new SmppError(CommandStatus.ESME_RINVCMDID);
  }
}
