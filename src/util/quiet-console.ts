/**
 * Runs `work` with console.warn muted. mongodb-memory-server prints a whole stack trace through
 * console.warn when it cannot download a mongod, which is the expected case offline; our caller
 * reports the failure in one line instead.
 */
export async function withConsoleWarnMuted<T>(work: () => Promise<T>): Promise<T> {
  const original = console.warn;
  console.warn = () => {};
  try {
    return await work();
  } finally {
    console.warn = original;
  }
}
