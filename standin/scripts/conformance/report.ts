import type { TestOutcome } from './runner.ts';

const LABEL = Object.freeze({ pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const);

/** One line per test; a failure's detail follows on indented lines. */
export function formatOutcome(r: TestOutcome): string {
  const head = `${LABEL[r.status]} ${r.file} › ${r.test}`;
  if (!r.detail) return head;
  if (r.status === 'skip') return `${head} (${r.detail})`;
  return `${head}\n    ${r.detail.split('\n').join('\n    ')}`;
}

export class Tally {
  passed = 0;
  failed = 0;
  skipped = 0;

  add(r: TestOutcome): void {
    if (r.status === 'pass') this.passed++;
    else if (r.status === 'fail') this.failed++;
    else this.skipped++;
  }

  summary(): string {
    return `${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`;
  }
}
