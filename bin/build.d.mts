/** Declarations for bin/build.mjs (plain JavaScript: it runs before anything is compiled). */
export type BuildState = { state: 'fresh' | 'missing' } | { state: 'stale'; newer: string };
export function buildState(): BuildState;
export function build(): void;
