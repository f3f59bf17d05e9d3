/**
 * Tests that fail with Node driver 7.9 whatever the server does, so they say nothing about the
 * server. Each reason names the driver code responsible.
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
  {
    // Found by this runner (not in the README): the test expects the command to carry the flag.
    file: 'bypassDocumentValidation.json',
    test: /^(Aggregate with \$out|BulkWrite|FindOneAndReplace|FindOneAndUpdate|InsertMany) passes bypassDocumentValidation: false$/,
    reason:
      'Node driver 7.9 sends bypassDocumentValidation only when it is true for aggregate, findAndModify ' +
      'and bulk writes (operations/aggregate.js, operations/find_and_modify.js, bulk/common.js), ' +
      'so the expected `bypassDocumentValidation: false` never reaches any server',
  },
]);

/** The reason a test is always skipped, or undefined. `fileName` is the path relative to the spec root. */
export function knownSkipReason(fileName: string, testDescription: string): string | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return KNOWN_SKIPS.find((s) => s.file === base && s.test.test(testDescription))?.reason;
}
