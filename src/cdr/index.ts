/**
 * The public module of src/cdr/: what other layers and the tests import from this folder.
 * Modules inside src/cdr/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { exportToDir, exportToStream, parseCdrTime } from './cdr-export.ts';
export { CdrFileWriter } from './cdr-files.ts';
export { CDR_STATE, CdrJournal, ensureCdrSchema } from './cdr-journal.ts';
export { CSV_HEADER, cdrRecordsOf, formatRecord, recordIdOfLine } from './cdr-record.ts';
export type { CdrRecord, CdrRecordOptions } from './cdr-record.ts';
export { CdrUploader } from './s3-uploader.ts';
