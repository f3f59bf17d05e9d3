/**
 * The public module of src/esme-delivery/: what other layers and the tests import from this folder.
 * Modules inside src/esme-delivery/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { EsmeDeliveryService } from './esme-delivery-service.ts';
