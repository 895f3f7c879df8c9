export * from './errors.ts';
export * from './bytes.ts';
export * from './time.ts';
export * from './log.ts';
