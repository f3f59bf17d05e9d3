/**
 * The public module of src/accounts/: what other layers and the tests import from this folder.
 * Modules inside src/accounts/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { AccountStore, isTrustedAddress, viewOf } from './account-store.ts';
export type { AccountChange, AccountPatch, AccountView, NewAccount } from './account-store.ts';
export { limitsOf, sourceAllowed } from './account.ts';
export type { AccountDocument, AccountLimits } from './account.ts';
export { CallbackAccounts } from './callback-accounts.ts';
export { HTTP_EVENT_KEY, httpTargetFor } from './callback-targets.ts';
export { hashPassword, isPasswordHash, verifyPassword } from './password-hash.ts';
