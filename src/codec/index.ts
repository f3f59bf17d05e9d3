/** Public API of the SMS codec: pure functions, no I/O. */
export * from './errors.ts';
export * from './gsm7.ts';
export * from './latin1.ts';
export * from './ucs2.ts';
export * from './data-coding.ts';
export * from './detect.ts';
export * from './text-codec.ts';
export * from './length.ts';
export * from './split.ts';
export * from './join.ts';
export * from './receipt.ts';
export * from './smpp-time.ts';
export * from './address.ts';
