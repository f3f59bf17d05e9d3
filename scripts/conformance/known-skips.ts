/**
 * Tests skipped whatever the server does, each with the reason recorded in
 * ../shared/mongo-spec/README.md.
 */
export interface KnownSkip {
  file: string;
  test: RegExp;
  reason: string;
}

export const KNOWN_SKIPS: readonly KnownSkip[] = Object.freeze([
  {
    file: 'create-null-ids.json',
    test: /via (insertOne|insertMany|bulkWrite)$/,
    reason:
      'Node driver 7.9 replaces _id: null with a new ObjectId before sending (maybeAddIdToDocuments), ' +
      'so this insert test fails whatever the server does (see mongo-spec README)',
  },
]);

/** The reason a test is always skipped, or undefined. `fileName` is the path relative to the spec root. */
export function knownSkipReason(fileName: string, testDescription: string): string | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return KNOWN_SKIPS.find((s) => s.file === base && s.test.test(testDescription))?.reason;
}
