import { P2pbError } from '../util/errors.ts';

/**
 * Every code a feed decoder or a feed's receive path can refuse with (tests and the sync layer
 * match on these). See docs/feeds.md for when each one is thrown.
 */
export const FEED_ERROR_CODES = [
  'ENVELOPE_TOO_LARGE',
  'MALFORMED_ENVELOPE',
  'NON_CANONICAL_ENVELOPE',
  'BAD_ENVELOPE_SIGNATURE',
  'SNAPSHOT_TOO_LARGE',
  'MALFORMED_SNAPSHOT',
  'NON_CANONICAL_SNAPSHOT',
  'BAD_SNAPSHOT_SIGNATURE',
  'UNSUPPORTED_FEED_VERSION',
  'INVALID_FEED_FIELD',
  'MALFORMED_UPDATE',
  'WRONG_FEED',
  'OUT_OF_CHAIN',
  'REPLAYED_ENVELOPE',
  'FORK_DETECTED',
] as const;
export type FeedErrorCode = (typeof FEED_ERROR_CODES)[number];

/** The two kinds of signed feed structure; the decoder's errors name which one failed. */
export type FeedRecordKind = 'envelope' | 'snapshot';

/** Encoded envelope longer than MAX_ENVELOPE_BYTES; refused before decoding. */
export class EnvelopeTooLargeError extends P2pbError {
  constructor(length: number, limit: number) {
    super('ENVELOPE_TOO_LARGE', `envelope is ${length} bytes, limit is ${limit}`);
  }
}

/** Encoded snapshot longer than MAX_SNAPSHOT_BYTES; refused before decoding. */
export class SnapshotTooLargeError extends P2pbError {
  constructor(length: number, limit: number) {
    super('SNAPSHOT_TOO_LARGE', `snapshot is ${length} bytes, limit is ${limit}`);
  }
}

/** Not strict CBOR, not an array, wrong type string or wrong number of elements. */
export class MalformedEnvelopeError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_ENVELOPE', message, options);
  }
}

export class MalformedSnapshotError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_SNAPSHOT', message, options);
  }
}

/** Decodes, but is not the one deterministic encoding of its value (RFC 8949 §4.2.1). */
export class NonCanonicalEnvelopeError extends P2pbError {
  constructor(message = 'envelope is not in deterministic CBOR encoding') {
    super('NON_CANONICAL_ENVELOPE', message);
  }
}

export class NonCanonicalSnapshotError extends P2pbError {
  constructor(message = 'snapshot is not in deterministic CBOR encoding') {
    super('NON_CANONICAL_SNAPSHOT', message);
  }
}

/** The author's signature does not verify (context p2pb/feed-envelope/v1). */
export class BadEnvelopeSignatureError extends P2pbError {
  constructor(message = 'envelope signature does not verify', options?: { cause?: unknown }) {
    super('BAD_ENVELOPE_SIGNATURE', message, options);
  }
}

/** The author's signature does not verify (context p2pb/feed-snapshot/v1). */
export class BadSnapshotSignatureError extends P2pbError {
  constructor(message = 'snapshot signature does not verify', options?: { cause?: unknown }) {
    super('BAD_SNAPSHOT_SIGNATURE', message, options);
  }
}

export class UnsupportedFeedVersionError extends P2pbError {
  constructor(kind: FeedRecordKind, version: number) {
    super('UNSUPPORTED_FEED_VERSION', `unsupported ${kind} version ${version}`);
  }
}

/** A field has the wrong type or breaks its limits; `field` names it. */
export class FeedFieldError extends P2pbError {
  readonly field: string;

  constructor(field: string, reason: string, options?: { cause?: unknown }) {
    super('INVALID_FEED_FIELD', `invalid feed field "${field}": ${reason}`, options);
    this.field = field;
  }
}

/** A validly signed envelope or snapshot whose Yjs bytes do not parse as a Yjs v1 update. */
export class MalformedUpdateError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_UPDATE', message, options);
  }
}

/** A valid envelope or snapshot of another feed (author or name) than the one it was given to. */
export class WrongFeedError extends P2pbError {
  constructor(expected: string, actual: string) {
    super('WRONG_FEED', `expected feed ${expected}, got ${actual.slice(0, 160)}`);
  }
}

/** Does not continue the chain: a gap that cannot be held, or a prev hash that is not our head's. */
export class OutOfChainError extends P2pbError {
  /** The receiver's head when it refused: pull envelopes after this sequence. */
  readonly headSeq: number;

  constructor(message: string, headSeq: number) {
    super('OUT_OF_CHAIN', message);
    this.headSeq = headSeq;
  }
}

/** The receiver already holds this envelope (or the chain already passed its sequence). */
export class ReplayedEnvelopeError extends P2pbError {
  constructor(seq: number) {
    super('REPLAYED_ENVELOPE', `already have envelope ${seq}`);
  }
}

/** The author signed two different envelopes (or an envelope and a snapshot) for one sequence. */
export class ForkDetectedError extends P2pbError {
  readonly seq: number;

  constructor(feedId: string, seq: number) {
    super('FORK_DETECTED', `feed ${feedId.slice(0, 160)} forked at sequence ${seq}: both versions were recorded`);
    this.seq = seq;
  }
}

// Local misuse (not refusals of received data).

/** A feed name outside FEED_NAME_PATTERN was passed to an API. */
export class InvalidFeedNameError extends P2pbError {
  constructor(name: unknown) {
    super('INVALID_FEED_NAME', `invalid feed name ${JSON.stringify(String(name).slice(0, 120))}`);
  }
}

/** A local write to a feed this device cannot sign (no signer, or the signer is another key). */
export class FeedNotWritableError extends P2pbError {
  constructor(message = 'this feed is read-only here: it has no signer for its author key') {
    super('FEED_NOT_WRITABLE', message);
  }
}

/** The signer's public key is not the feed's author key. */
export class SignerMismatchError extends P2pbError {
  constructor() {
    super('SIGNER_MISMATCH', "the signer's public key is not the feed's author key");
  }
}

/** A call that needs start() first, or came after stop(). */
export class FeedNotStartedError extends P2pbError {
  constructor(message = 'feed is not started') {
    super('FEED_NOT_STARTED', message);
  }
}

/** A backup file that is not one this version wrote. */
export class MalformedBackupError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_BACKUP', message, options);
  }
}

/** createSnapshot() on a feed with no envelope yet. */
export class EmptyFeedError extends P2pbError {
  constructor() {
    super('EMPTY_FEED', 'the feed has no envelope to snapshot yet');
  }
}
