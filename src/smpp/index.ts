/**
 * The public module of src/smpp/: what other layers and the tests import from this folder.
 * Modules inside src/smpp/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { BindState } from './bind-state.ts';
export { connectSmpp } from './client.ts';
export type { SmppClientTls } from './client.ts';
export { CommandStatus, commandStatusName, isKnownCommandStatus, isTemporaryCommandStatus } from './command-status.ts';
export type { CommandStatusName } from './command-status.ts';
export { CorkedWriter } from './corked-writer.ts';
export { shortMessageFromWire, shortMessageToWire, tlvsToWire } from './domain.ts';
export type {
  BindMode,
  BindRequest,
  BindResponse,
  CancelSm,
  QuerySm,
  QuerySmResult,
  ReplaceSm,
  ShortMessage,
  ShortMessageInput,
  SmppAddress,
  SubmitMulti,
  SubmitMultiResult,
  Tlvs,
} from './domain.ts';
export {
  SmppClosedError,
  SmppConnectError,
  SmppError,
  SmppErrorCode,
  SmppMalformedPduError,
  SmppTimeoutError,
  commandStatusOf,
} from './errors.ts';
export { PduFramer } from './framer.ts';
export { InboundFlow } from './inbound-flow.ts';
export { KeepAlive } from './keep-alive.ts';
export type { KeepAliveOptions } from './keep-alive.ts';
export { CommandId, MAX_SEQUENCE_NUMBER, buildPdu, decodePdu, encodePdu, genericNack } from './pdu.ts';
export type { WirePdu } from './pdu.ts';
export { RequestWindow, nextSequenceNumber } from './request-window.ts';
export { createSmppServer } from './server.ts';
export type { SmppServer, SmppServerOptions, SmppServerTls } from './server.ts';
export { SmppSession } from './session.ts';
export type { RequestContext, RequestHandlers } from './session.ts';
