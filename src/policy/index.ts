/**
 * The public module of src/policy/: what other layers and the tests import from this folder.
 * Modules inside src/policy/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { ContactListCache } from './contact-list-cache.ts';
export { ContactListStore, normaliseListValue } from './contact-lists.ts';
export type { ContactListEntry, EntryKey, ListKindName } from './contact-lists.ts';
export { createIntakePolicy } from './create-intake-policy.ts';
export type { IntakePolicyHandle } from './create-intake-policy.ts';
export { annotateWithHlr } from './hlr-annotate.ts';
export { IntakePolicy, applyIntakeDecision } from './intake-policy.ts';
export type { HlrPolicySettings, IntakeDecision } from './intake-policy.ts';
export { OptOutHandler } from './opt-out.ts';
export { ensurePolicySchema } from './policy-schema.ts';
