import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { cdrRecordsOf, CSV_HEADER, formatRecord, recordIdOfLine } from '../../../src/cdr/index.ts';
import { SmsState } from '../../../src/domain/index.ts';
import { makeSms } from '../../support/sms-factory.ts';

const finalAt = new Date('2026-03-01T10:00:00.000Z');
const doc = {
  ...makeSms({
    _id: new ObjectId('65e1a0000000000000000001'),
    account: 'acme',
    source: { ton: 5, npi: 0, addr: 'ACME' },
    dest: { ton: 1, npi: 1, addr: '447700900123' },
    state: SmsState.delivered,
    attempts: 2,
    history: [
      { at: new Date('2026-03-01T09:59:00Z'), by: 'd1', outcome: 'retry', connector: 'op1', status: 0x58, error: 'throttled, "slow"' },
      { at: new Date('2026-03-01T09:59:30Z'), by: 'd2', outcome: 'submitted', connector: 'op2' },
    ],
  }),
  finalAt,
};

describe('CDR records', () => {
  it('masks, hashes (keyed) or shows numbers; sender ids stay as they are', () => {
    expect(cdrRecordsOf(doc, { numbers: 'mask', perAttempt: false })[0]).toMatchObject({
      source: 'ACME',
      dest: '4477******23',
      id: '65e1a0000000000000000001:1772359200000',
    });
    const hashed = cdrRecordsOf(doc, { numbers: 'hash', hashKey: 'k', perAttempt: false })[0].dest;
    expect(hashed).toMatch(/^[0-9a-f]{16}$/);
    expect(cdrRecordsOf(doc, { numbers: 'hash', hashKey: 'other', perAttempt: false })[0].dest).not.toBe(hashed);
    expect(cdrRecordsOf(doc, { numbers: 'clear', perAttempt: false })[0].dest).toBe('447700900123');
  });

  it('per attempt: one record per history entry, then the final one', () => {
    const records = cdrRecordsOf(doc, { numbers: 'mask', perAttempt: true });
    expect(records.map((r) => [r.kind, r.id.split(':').slice(2).join(':'), r.connector, r.outcome, r.errorCode])).toEqual([
      ['attempt', 'a1', 'op1', 'retry', '0x00000058'],
      ['attempt', 'a2', 'op2', 'submitted', ''],
      ['final', '', 'op2', 'delivered', ''],
    ]);
  });

  it('CSV quotes what needs it, and recovery reads ids back from either format', () => {
    const [attempt] = cdrRecordsOf(doc, { numbers: 'mask', perAttempt: true });
    const line = formatRecord(attempt, 'csv');
    expect(line).toContain(',"throttled, ""slow""",');
    expect(line.split(',').length).toBeGreaterThan(CSV_HEADER.split(',').length - 1);
    expect(recordIdOfLine(line, 'csv')).toBe(attempt.id);
    expect(recordIdOfLine(formatRecord(attempt, 'jsonl'), 'jsonl')).toBe(attempt.id);
    expect(recordIdOfLine(CSV_HEADER, 'csv')).toBeUndefined();
    expect(recordIdOfLine('{"kind":"final","id":"to', 'jsonl')).toBeUndefined();
  });
});
