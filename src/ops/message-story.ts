import { ObjectId, type Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { Collections } from '../store/collections.ts';
import { FINAL_STATES, SmsDirection, SmsState, type LockDocument, type SmsDocument } from '../domain/sms-document.ts';
import { OpsError, OpsErrorCode } from './errors.ts';
import { formatDuration } from './status.ts';

export interface CorrelationInfo {
  connector: string;
  remoteId: string;
  createdAt: Date;
}

export interface PartInfo {
  messageId: string;
  seq: number;
  state: string;
}

/** Everything `smsc message <id>` shows: the document, its parts, downstream ids, receipts, and where it stands. */
export interface MessageStory {
  message: SmsDocument;
  /** Other segments of the same long message, in order (empty for a single-part message). */
  parts: PartInfo[];
  correlations: CorrelationInfo[];
  /** Receipt documents (direction `receipt`) generated for this message towards its ESME. */
  receipts: SmsDocument[];
  /** The destination lock, when someone holds it now. */
  destinationLock: (LockDocument & { expired: boolean }) | null;
  /** Unfinished messages to the same destination that arrived earlier (delivered first). */
  aheadInQueue: number;
  at: Date;
}

const MESSAGE_ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

/** Finds a message by the id submit_sm_resp returned (also by its `_id` hex, which is the same by construction). */
export async function loadMessageStory(db: Db, messageId: string, clock: Clock): Promise<MessageStory> {
  const id = messageId.trim();
  if (!MESSAGE_ID_PATTERN.test(id)) throw new OpsError(OpsErrorCode.messageNotFound, `"${messageId}" is not a message id.`);
  const sms = db.collection<SmsDocument>(Collections.sms);
  let message = await sms.findOne({ messageId: id });
  if (!message && ObjectId.isValid(id) && id.length === 24) message = await sms.findOne({ _id: new ObjectId(id) });
  if (!message) throw new OpsError(OpsErrorCode.messageNotFound, `No message with id ${id}.`);
  const now = clock.now();

  const [parts, correlations, receipts, lock, aheadInQueue] = await Promise.all([
    message.concat?.groupId
      ? sms
          .find({ 'concat.groupId': message.concat.groupId, _id: { $ne: message._id } })
          .project<Pick<SmsDocument, 'messageId' | 'concat' | 'state'>>({ messageId: 1, concat: 1, state: 1 })
          .toArray()
      : Promise.resolve([]),
    db
      .collection<CorrelationInfo & { smsId: ObjectId }>(Collections.correlations)
      .find({ smsId: message._id })
      .sort({ createdAt: 1 })
      .toArray(),
    // Receipts link back to the message they report on; both spellings are accepted so the story
    // stays complete whichever field the receipt writer settles on.
    sms
      .find({
        direction: SmsDirection.receipt,
        $or: [{ 'receipt.smsId': message._id }, { 'receipt.messageId': message.messageId }, { receiptFor: message._id }],
      })
      .sort({ arrivedAt: 1 })
      .toArray(),
    db.collection<LockDocument>(Collections.locks).findOne({ _id: message.destKey }),
    FINAL_STATES.includes(message.state)
      ? Promise.resolve(0)
      : sms.countDocuments({
          destKey: message.destKey,
          state: { $in: [SmsState.queued, SmsState.locked] },
          arrivedAt: { $lt: message.arrivedAt },
        }),
  ]);

  return {
    message,
    parts: parts.map((p) => ({ messageId: p.messageId, seq: p.concat?.seq ?? 0, state: p.state })).sort((a, b) => a.seq - b.seq),
    correlations: correlations.map((c) => ({ connector: c.connector, remoteId: c.remoteId, createdAt: c.createdAt })),
    receipts,
    destinationLock: lock ? { ...lock, expired: lock.leaseUntil < now } : null,
    aheadInQueue,
    at: now,
  };
}

/** The human-readable story. Shown to an operator who asked for this message, so addresses are not masked. */
export function formatMessageStory(story: MessageStory): string {
  const m = story.message;
  const now = story.at.getTime();
  const when = (d: Date | undefined) => (d instanceof Date ? `${d.toISOString()} (${relative(d.getTime() - now)})` : '-');
  const lines: string[] = [];
  lines.push(`Message ${m.messageId}  (${m.direction ?? 'mt'} from account ${m.account ?? '?'})`);
  lines.push(`  state         ${m.state}${stateNote(story)}`);
  lines.push(`  from          ${addr(m.source)}`);
  lines.push(`  to            ${addr(m.dest)}  (destKey ${m.destKey})`);
  lines.push(`  arrived       ${when(m.arrivedAt)}`);
  if (m.scheduledAt) lines.push(`  scheduled     ${when(m.scheduledAt)}`);
  lines.push(`  valid until   ${when(m.validUntil)}`);
  if (m.state === SmsState.queued || m.state === SmsState.locked) lines.push(`  next attempt  ${when(m.nextAttemptAt)}`);
  lines.push(`  attempts      ${m.attempts ?? 0}`);
  lines.push(`  priority      ${m.priority ?? 0}   registered delivery ${m.registeredDelivery ?? 0}`);
  lines.push(`  target        ${target(m)}`);
  if (m.payload) {
    const bytes = m.payload.shortMessage ? m.payload.shortMessage.length() : 0;
    lines.push(`  payload       data_coding 0x${hex(m.payload.dataCoding)}, esm_class 0x${hex(m.payload.esmClass)}, ${bytes} octets`);
  }
  if (m.concat) lines.push(`  long message  part ${m.concat.seq} of ${m.concat.total} (ref ${m.concat.ref})`);
  if (m.lock) {
    const expired = m.lock.leaseUntil.getTime() < now;
    lines.push(
      `  locked by     ${m.lock.owner} since ${m.lock.at.toISOString()}, lease until ${m.lock.leaseUntil.toISOString()}${expired ? ' (EXPIRED)' : ''}`,
    );
  }
  if (m.remote)
    lines.push(`  downstream    ${m.remote.connector} accepted it as ${m.remote.messageId} at ${m.remote.submittedAt.toISOString()}`);
  if (m.finalAt) lines.push(`  final at      ${when(m.finalAt)}`);
  if (m.error) {
    const status = m.error.status !== undefined ? `status 0x${m.error.status.toString(16).padStart(8, '0')} ` : '';
    const net = m.error.networkErrorCode !== undefined ? `network error ${m.error.networkErrorCode} ` : '';
    lines.push(`  last error    ${status}${net}${m.error.message ?? ''}`.trimEnd());
  }
  if (story.destinationLock) {
    const l = story.destinationLock;
    lines.push(`  destination   locked by ${l.owner}, lease until ${l.leaseUntil.toISOString()}${l.expired ? ' (EXPIRED)' : ''}`);
  }
  if (story.parts.length > 0) {
    lines.push('');
    lines.push('Other parts');
    for (const p of story.parts) lines.push(`  ${String(p.seq).padStart(3)}  ${p.messageId}  ${p.state}`);
  }
  lines.push('');
  lines.push(`History (${m.history?.length ?? 0})`);
  if (!m.history?.length) lines.push('  no attempts yet');
  for (const h of m.history ?? []) {
    const parts = [h.at.toISOString(), h.outcome.padEnd(14), `by ${h.by}`];
    if (h.connector) parts.push(`via ${h.connector}`);
    if (h.status !== undefined) parts.push(`status 0x${h.status.toString(16).padStart(8, '0')}`);
    if (h.error) parts.push(h.error);
    lines.push(`  ${parts.join('  ')}`);
  }
  if (story.correlations.length > 0) {
    lines.push('');
    lines.push('Downstream ids');
    for (const c of story.correlations) lines.push(`  ${c.connector} ${c.remoteId}  (${c.createdAt.toISOString()})`);
  }
  lines.push('');
  lines.push(`Receipts to the ESME (${story.receipts.length})`);
  if (story.receipts.length === 0) lines.push(m.registeredDelivery ? '  none yet' : '  none requested');
  for (const r of story.receipts) lines.push(`  ${r.messageId}  ${r.state}  created ${r.arrivedAt.toISOString()}`);
  return lines.join('\n');
}

function stateNote(story: MessageStory): string {
  const m = story.message;
  if (m.state === SmsState.queued) {
    const ahead = story.aheadInQueue > 0 ? `, ${story.aheadInQueue} earlier message(s) to the same destination first` : '';
    return m.nextAttemptAt.getTime() <= story.at.getTime() ? ` (due now${ahead})` : ` (waiting${ahead})`;
  }
  if (m.state === SmsState.submitted) return ' (accepted downstream, awaiting its receipt)';
  return '';
}

function addr(a: { ton: number; npi: number; addr: string } | undefined): string {
  return a ? `${a.addr} (ton ${a.ton}, npi ${a.npi})` : '-';
}

function target(m: SmsDocument): string {
  if (!m.target) return '-';
  if (m.target.kind === 'esme') return `ESME ${m.target.systemId}`;
  if (m.target.kind === 'http') return `HTTP callback of ${m.target.account}${m.target.url ? ` (${m.target.url})` : ''}`;
  return m.target.connectors?.length ? `connector ${m.target.connectors.join(', ')}` : 'connector (by route)';
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}

function relative(deltaMs: number): string {
  const text = formatDuration(Math.abs(deltaMs) / 1000);
  return deltaMs >= 0 ? `in ${text}` : `${text} ago`;
}
