/**
 * The public module of src/ops/: what other layers and the tests import from this folder.
 * Modules inside src/ops/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { OpsError, OpsErrorCode } from './errors.ts';
export { ensureAndDescribeIndexes, formatIndexes } from './indexes.ts';
export type { CollectionIndexes } from './indexes.ts';
export { formatMessageStory, loadMessageStory } from './message-story.ts';
export type { MessageStory } from './message-story.ts';
export { toJsonText, toPlain } from './plain-json.ts';
export { REQUEUEABLE_STATES, requeueMessages } from './requeue.ts';
export type { RequeueResult, RequeueSelector } from './requeue.ts';
export { collectStatus, connectorStatus, formatDuration, formatStatus, nodeStatus, oldestDueMessage, queueDepthByState } from './status.ts';
export type { StatusReport } from './status.ts';
