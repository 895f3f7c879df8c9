import { P2pbError } from '../util/errors.ts';

/** Codes of the sync layer (wire and peers). docs/sync.md says when each is used. */
export const SYNC_ERROR_CODES = [
  'SYNC_MESSAGE_TOO_LARGE',
  'SYNC_MALFORMED_MESSAGE',
  'SYNC_UNKNOWN_MESSAGE',
  'SYNC_UNSUPPORTED_VERSION',
  'SYNC_TIMEOUT',
  'SYNC_FAILED',
  'SYNC_REFUSED',
  'FEED_NOT_FOUND',
  'NOT_A_HOST',
  'DELEGATION_REFUSED',
  'PEER_SENT_INVALID',
] as const;
export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number];

export class SyncMessageTooLargeError extends P2pbError {
  constructor(length: number, limit: number) {
    super('SYNC_MESSAGE_TOO_LARGE', `sync message is ${length} bytes, limit ${limit}`);
  }
}
export class SyncMalformedMessageError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SYNC_MALFORMED_MESSAGE', message, options);
  }
}
export class SyncUnknownMessageError extends P2pbError {
  constructor(type: unknown) {
    super('SYNC_UNKNOWN_MESSAGE', `unknown sync message type ${JSON.stringify(String(type).slice(0, 32))}`);
  }
}
export class SyncUnsupportedVersionError extends P2pbError {
  constructor(version: unknown) {
    super('SYNC_UNSUPPORTED_VERSION', `sync message version ${String(version).slice(0, 16)} is not supported`);
  }
}
export class SyncTimeoutError extends P2pbError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('SYNC_TIMEOUT', `no ${what} in time`, options);
  }
}
export class SyncFailedError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SYNC_FAILED', message, options);
  }
}
/** The remote peer answered with an error: `remoteCode` is its code. */
export class SyncRefusedError extends P2pbError {
  readonly remoteCode: string;
  constructor(remoteCode: string, message: string) {
    super('SYNC_REFUSED', `peer refused: ${remoteCode}: ${message}`);
    this.remoteCode = remoteCode;
  }
}
/**
 * Feed codes that mean the sender sent what its author never signed (or not a feed record at
 * all): tampered, truncated or malformed. Not the sender's fault: a fork (the author signed
 * both), a replay or a gap (just late), a blocked key or a full store (this side's decisions).
 */
export const PEER_FAULT_CODES: ReadonlySet<string> = new Set([
  'BAD_ENVELOPE_SIGNATURE',
  'BAD_SNAPSHOT_SIGNATURE',
  'MALFORMED_ENVELOPE',
  'MALFORMED_SNAPSHOT',
  'NON_CANONICAL_ENVELOPE',
  'NON_CANONICAL_SNAPSHOT',
  'UNSUPPORTED_FEED_VERSION',
  'INVALID_FEED_FIELD',
  'WRONG_FEED',
  'MALFORMED_UPDATE',
  'ENVELOPE_TOO_LARGE',
  'SNAPSHOT_TOO_LARGE',
]);

/** A holder served records of `feed` that do not verify: it is left for another holder. */
export class PeerSentInvalidError extends P2pbError {
  constructor(peer: string, feed: string, refused: ReadonlyArray<{ code: string | number }>) {
    const codes = [...new Set(refused.map((e) => e.code))].join(', ');
    super('PEER_SENT_INVALID', `peer ${peer.slice(0, 64)} sent ${refused.length} record(s) of ${feed.slice(0, 160)} that do not verify (${codes})`);
  }
}

/** Nobody reachable holds the feed (the author is offline and no cache or host answered). */
export class FeedNotFoundError extends P2pbError {
  constructor(feedId: string, tried: number) {
    super('FEED_NOT_FOUND', `no reachable peer holds ${feedId.slice(0, 160)} (${tried} tried)`);
  }
}
/** A delegate request reached a peer that does not host for others (a browser). */
export class NotAHostError extends P2pbError {
  constructor() {
    super('NOT_A_HOST', 'this peer does not host feeds for others');
  }
}
/** A host refused a delegation: wrong network or host, expired, superseded, or full. */
export class DelegationRefusedError extends P2pbError {
  constructor(message: string) {
    super('DELEGATION_REFUSED', message);
  }
}
