/**
 * The public module of src/mo/: what other layers and the tests import from this folder.
 * Modules inside src/mo/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { MoAssigner, unroutedMoFilter } from './mo-assigner.ts';
export { MoIntake } from './mo-intake.ts';
