import { P2pbError } from '../util/errors.ts';

export const STORE_ERROR_CODES = [
  'STORAGE_FULL',
  'STORE_CONFLICT',
  'STORE_NOT_STARTED',
  'UNKNOWN_FEED',
  'STORE_INVALID_ARGUMENT',
  'UNSUPPORTED_STORE_VERSION',
  'STORE_FAILED',
  'STORE_CORRUPTED',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

/**
 * Not enough room. scope "own": the person's own data did not fit even after every evictable
 * cached feed was dropped (the store's state() then says "full"). scope "cache": a cached feed
 * did not fit within the cache bound; nothing of the person's own is affected.
 */
export class StorageFullError extends P2pbError {
  readonly scope: 'own' | 'cache';
  readonly neededBytes: number;

  constructor(scope: 'own' | 'cache', neededBytes: number, message: string, options?: { cause?: unknown }) {
    super('STORAGE_FULL', message, options);
    this.scope = scope;
    this.neededBytes = neededBytes;
  }
}

/** An append that does not continue the stored head (another writer got there first, or a bug). */
export class StoreConflictError extends P2pbError {
  constructor(message: string) {
    super('STORE_CONFLICT', message);
  }
}

export class StoreNotStartedError extends P2pbError {
  constructor() {
    super('STORE_NOT_STARTED', 'the feed store is not started');
  }
}

/** A write to a feed the store has no record of (never ensured, deleted or evicted). */
export class UnknownFeedError extends P2pbError {
  constructor(id: string) {
    super('UNKNOWN_FEED', `no feed ${id.slice(0, 200)} in this store`);
  }
}

export class StoreArgumentError extends P2pbError {
  constructor(message: string) {
    super('STORE_INVALID_ARGUMENT', message);
  }
}

/** The stored layout is newer than this code understands. */
export class UnsupportedStoreVersionError extends P2pbError {
  constructor(version: unknown) {
    super('UNSUPPORTED_STORE_VERSION', `unsupported feed store version ${String(version).slice(0, 40)}`);
  }
}

/** The backend failed (I/O error, aborted transaction); the operation left nothing behind. */
export class StoreFailedError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_FAILED', message, options);
  }
}

/**
 * A stored record does not read back as what was written (damaged on disk, or a bug): the store
 * reports it rather than return other bytes than it was given.
 */
export class StoreCorruptedError extends P2pbError {
  constructor(message: string) {
    super('STORE_CORRUPTED', message);
  }
}

/** True for the backend's own "out of space" errors (browser quota, a full disk). */
export function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  if (name === 'QuotaExceededError' || code === 'ENOSPC') return true;
  return typeof message === 'string' && /QuotaExceeded|ENOSPC|No space left/i.test(message);
}
