/**
 * The public module of src/routing/: what other layers and the tests import from this folder.
 * Modules inside src/routing/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { ChargingClient } from './charging-client.ts';
export { ChargingGate, createChargingGate } from './charging-gate.ts';
export { decideRoute, describeRoute } from './decide-route.ts';
export type { RouteEntry, RoutingDecision, RoutingRequest } from './decide-route.ts';
export { IntakeRouting, applyIntakeDecision, buildAutoReply } from './intake-routing.ts';
export { routingRequestOf } from './message-request.ts';
export { MoRoutes, moDestKey, subscriberKey } from './mo-routes.ts';
export { addRoute, listRoutes, removeRoutes, setRoute } from './route-admin.ts';
export { INTAKE_KINDS, ROUTE_ACTIONS, RouteAction, pickRoute, timeWindowFrom, validateRoute } from './route-document.ts';
export type { IntakeKindName, RouteActionName, RouteDocument, TimeWindowInput } from './route-document.ts';
export { Router } from './router.ts';
export { inTimeWindow, parseDays, parseTimeWindow } from './time-window.ts';
