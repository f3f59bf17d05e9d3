import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  MessageState,
  StatWord,
  formatReceipt,
  messageIdKey,
  messageIdsMatch,
  messageStateToStatWord,
  parseReceipt,
  statWordToMessageState,
  tryParseReceipt,
} from '../../../src/codec/index.ts';
import { anyUnits, onlyCodecErrors, vectors } from './support.ts';

describe('delivery receipt text', () => {
  it.each(vectors.receipts)('parses the SMPP 3.4 Appendix B form', (v) => {
    const r = parseReceipt(v.text);
    expect(r).toMatchObject({ id: v.id, sub: v.sub, dlvrd: v.dlvrd, stat: v.stat, messageState: v.messageState, err: v.err, text: v.body });
    expect(r.submitDate?.date?.toISOString()).toBe(v.submit);
    expect(r.doneDate?.date?.toISOString()).toBe(v.done);
  });

  it('formats the standard form, and parsing it gives the input back', () => {
    const text = formatReceipt({
      id: '6a3f9c',
      sub: 1,
      dlvrd: 1,
      submitDate: new Date('2025-03-04T05:06:59Z'),
      doneDate: new Date('2025-03-04T05:07:30Z'),
      stat: MessageState.DELIVERED,
      err: 0,
      text: 'A long original text that is cut at twenty characters',
    });
    expect(text).toBe(
      'id:6a3f9c sub:001 dlvrd:001 submit date:2503040506 done date:2503040507 stat:DELIVRD err:000 text:A long original text',
    );
    const back = parseReceipt(text);
    expect(back).toMatchObject({
      id: '6a3f9c',
      sub: 1,
      dlvrd: 1,
      stat: 'DELIVRD',
      messageState: 2,
      err: '000',
      text: 'A long original text',
    });
    expect(back.submitDate?.date?.toISOString()).toBe('2025-03-04T05:06:00.000Z');
  });

  it('accepts stat words, names and message_state numbers when formatting', () => {
    const base = { id: '1', submitDate: new Date(0), doneDate: new Date(0) };
    expect(() => formatReceipt({ ...base, stat: 'UNDELIV' })).not.toThrow();
    expect(formatReceipt({ ...base, stat: 'undeliverable' })).toContain('stat:UNDELIV');
    expect(() => formatReceipt({ ...base, stat: 'NOPE' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => formatReceipt({ ...base, id: 'a b', stat: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('counts a text of emoji by characters, never cutting a surrogate pair', () => {
    const t = formatReceipt({ id: '1', submitDate: new Date(0), doneDate: new Date(0), stat: 2, text: '😀'.repeat(25) });
    expect(t.endsWith('text:' + '😀'.repeat(20))).toBe(true);
  });

  it.each([
    ['submit_date / done_date', 'id:42 sub:001 dlvrd:001 submit_date:2311221530 done_date:2311221531 stat:DELIVRD err:000 text:x'],
    ['lower case and Text:', 'ID:42 SUB:001 DLVRD:001 SUBMIT DATE:2311221530 DONE DATE:2311221531 STAT:delivrd ERR:000 Text:x'],
    ['extra spaces', 'id:42   sub: 001  dlvrd:001   submit date: 2311221530  done date:2311221531   stat: DELIVRD  err:000   text: x'],
    ['12-digit dates', 'id:42 sub:001 dlvrd:001 submit date:231122153000 done date:231122153107 stat:DELIVRD err:000 text:x'],
  ])('tolerates %s', (_name, text) => {
    const r = parseReceipt(text);
    expect(r.id).toBe('42');
    expect(r.messageState).toBe(2);
    expect(r.submitDate?.date?.toISOString().slice(0, 16)).toBe('2023-11-22T15:30');
    expect(r.doneDate?.date?.toISOString().slice(0, 16)).toBe('2023-11-22T15:31');
  });

  it('keeps seconds from 12-digit dates', () => {
    expect(parseReceipt('id:1 done date:231122153107 stat:DELIVRD').doneDate?.date?.toISOString()).toBe('2023-11-22T15:31:07.000Z');
  });

  it('tolerates missing fields (null), unreadable dates (raw kept) and unknown stat words', () => {
    const r = parseReceipt('id:abc stat:WEIRD done date:9913991299');
    expect(r).toMatchObject({
      id: 'abc',
      sub: null,
      dlvrd: null,
      submitDate: null,
      err: null,
      text: null,
      stat: 'WEIRD',
      messageState: null,
    });
    expect(r.doneDate).toEqual({ raw: '9913991299', date: null });
  });

  it('text runs to the end, even when it contains receipt-like words', () => {
    expect(parseReceipt('id:1 stat:DELIVRD text:my stat:UNDELIV id:9').text).toBe('my stat:UNDELIV id:9');
    expect(parseReceipt('id:1 stat:DELIVRD text:my stat:UNDELIV').messageState).toBe(2);
  });

  it('rejects text without an id with a typed error; tryParseReceipt returns null', () => {
    expect(() => parseReceipt('hello there')).toThrow(expect.objectContaining({ code: 'INVALID_RECEIPT' }));
    expect(() => parseReceipt('id: stat:DELIVRD')).toThrow(expect.objectContaining({ code: 'INVALID_RECEIPT' }));
    expect(tryParseReceipt('hello there')).toBeNull();
    expect(tryParseReceipt('id:7 stat:EXPIRED')?.messageState).toBe(3);
  });

  it('only returns or throws CodecError for random strings (fuzz)', () => {
    const receiptish = fc
      .array(
        fc.constantFrom(
          'id:',
          'sub:',
          'dlvrd:',
          'submit date:',
          'done_date:',
          'stat:',
          'err:',
          'text:',
          ' ',
          '1',
          '0',
          'DELIVRD',
          'x',
          '\n',
          '9999999999',
        ),
        { maxLength: 30 },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(anyUnits(), receiptish), (s) => onlyCodecErrors(() => parseReceipt(s))),
      { numRuns: 300 },
    );
  });
});

describe('stat word <-> message_state', () => {
  it('maps the SMPP 3.4 words to message_state 1-8 and back', () => {
    const pairs: Array<[string, number]> = [
      ['ENROUTE', 1],
      ['DELIVRD', 2],
      ['EXPIRED', 3],
      ['DELETED', 4],
      ['UNDELIV', 5],
      ['ACCEPTD', 6],
      ['UNKNOWN', 7],
      ['REJECTD', 8],
    ];
    for (const [word, state] of pairs) {
      expect(statWordToMessageState(word)).toBe(state);
      expect(statWordToMessageState(word.toLowerCase())).toBe(state);
      expect(messageStateToStatWord(state)).toBe(word);
    }
  });

  it('accepts 0 SCHEDULED and 9 SKIPPED, rejects other numbers', () => {
    expect(messageStateToStatWord(0)).toBe(StatWord[0]);
    expect(statWordToMessageState('SCHEDULED')).toBe(0);
    expect(statWordToMessageState('SKIPPED')).toBe(9);
    expect(() => messageStateToStatWord(10)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(statWordToMessageState('NOPE')).toBeNull();
  });
});

describe('message id normalisation', () => {
  it('compares hex from submit_sm_resp with decimal from the receipt', () => {
    expect(messageIdKey('00FF', 'hex')).toBe('255');
    expect(messageIdKey('0xff', 'hex')).toBe('255');
    expect(messageIdKey('000255', 'decimal')).toBe('255');
    expect(messageIdsMatch('1A2B3C4D5E6F', 'hex', '28772997619311', 'decimal')).toBe(true);
    expect(messageIdsMatch('1A2B3C4D5E6F', 'hex', '28772997619312', 'decimal')).toBe(false);
  });

  it('handles ids beyond 2^53 exactly', () => {
    expect(messageIdKey('FFFFFFFFFFFFFFFFFF', 'hex')).toBe('4722366482869645213695');
  });

  it("'string' keeps the id as is (trimmed), so leading zeros matter only when configured so", () => {
    expect(messageIdKey(' 007 ')).toBe('007');
    expect(messageIdsMatch('007', 'string', '7', 'string')).toBe(false);
    expect(messageIdsMatch('007', 'decimal', '7', 'decimal')).toBe(true);
  });

  it("'string' can ignore case and leading zeros when a peer needs it", () => {
    expect(messageIdKey('000AbC', { format: 'string', ignoreCase: true, stripLeadingZeros: true })).toBe('abc');
    expect(messageIdKey('0000', { format: 'string', stripLeadingZeros: true })).toBe('0');
    expect(
      messageIdsMatch('00ab12', { format: 'string', stripLeadingZeros: true, ignoreCase: true }, 'AB12', {
        format: 'string',
        ignoreCase: true,
      }),
    ).toBe(true);
    expect(messageIdsMatch('00ab12', 'string', 'AB12', 'string')).toBe(false);
  });

  it('rejects ids that are not numbers in the declared format', () => {
    expect(() => messageIdKey('xyz', 'hex')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE_ID' }));
    expect(() => messageIdKey('12a', 'decimal')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE_ID' }));
    expect(() => messageIdKey('', 'string')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE_ID' }));
    expect(messageIdsMatch('xyz', 'hex', '1', 'decimal')).toBe(false);
  });
});
