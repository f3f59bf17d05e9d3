/**
 * The public module of src/connectors/: what other layers and the tests import from this folder.
 * Modules inside src/connectors/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { addConnector, listConnectors, removeConnector, setConnector } from './connector-admin.ts';
export type { ConnectorView } from './connector-admin.ts';
export { reconnectDelayMs, tlsOptionsOf, validateConnector } from './connector-document.ts';
export type { ConnectorDocument } from './connector-document.ts';
export { createConnectorIntake } from './connector-intake.ts';
export { ConnectorPool } from './connector-pool.ts';
export { ConnectorSender } from './connector-sender.ts';
export { OutboundConnector } from './outbound-connector.ts';
export { concatReferenceOf, remainingValidity, toOutboundPdus } from './outbound-form.ts';
export { isPermanentStatus } from './status-class.ts';
