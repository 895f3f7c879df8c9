/**
 * lib/feeds — signed Yjs feeds. A feed is (author key, feed name) backed by a Y.Doc; every local
 * transaction becomes one signed envelope chained to the one before; receivers verify size,
 * encoding, signature, Yjs bytes and chain before anything touches a document. Snapshots let
 * new readers skip history without trusting anyone but the author. Format, rules, vectors:
 * docs/feeds.md.
 */
export {
  BACKUP_FORMAT_VERSION,
  FEED_FORMAT_VERSION,
  FEED_NAME_PATTERN,
  FEED_RECORD_TYPES,
  FIRST_SEQ,
  HASH_BYTES,
  LOAD_BATCH_BYTES,
  LOAD_BATCH_ENVELOPES,
  MAX_BACKUP_BYTES,
  MAX_ENVELOPE_BYTES,
  MAX_ENVELOPE_OVERHEAD_BYTES,
  MAX_FEED_NAME_BYTES,
  MAX_HELD_BYTES,
  MAX_HELD_ENVELOPES,
  MAX_SEQ,
  MAX_SNAPSHOT_BYTES,
  MAX_UPDATE_BYTES,
  MIN_FEED_NAME_BYTES,
  VALID_KEY_CACHE_SIZE,
} from './constants.ts';
export {
  FEED_ERROR_CODES,
  BadEnvelopeSignatureError,
  BadSnapshotSignatureError,
  EmptyFeedError,
  EnvelopeTooLargeError,
  FeedFieldError,
  FeedNotStartedError,
  FeedNotWritableError,
  ForkDetectedError,
  InvalidFeedNameError,
  MalformedBackupError,
  MalformedEnvelopeError,
  MalformedSnapshotError,
  MalformedUpdateError,
  NonCanonicalEnvelopeError,
  NonCanonicalSnapshotError,
  OutOfChainError,
  ReplayedEnvelopeError,
  SignerMismatchError,
  SnapshotTooLargeError,
  UnsupportedFeedVersionError,
  WrongFeedError,
} from './errors.ts';
export type { FeedErrorCode, FeedRecordKind } from './errors.ts';
export {
  ZERO_HASH,
  checkFeedName,
  checkYjsUpdate,
  createEnvelope,
  createSnapshot,
  decodeEnvelope,
  decodeEnvelopes,
  decodeSnapshot,
  envelopeHash,
  envelopeLayout,
  feedIdOf,
  hashBytes,
  isValidFeedName,
  parseEnvelope,
  parseFeedId,
  verifyEnvelope,
} from './codec.ts';
export type {
  CreateEnvelopeInput,
  CreateSnapshotInput,
  DecodeResult,
  EnvelopeLayout,
  FeedEnvelope,
  FeedId,
  FeedSigner,
  FeedSnapshot,
  ParsedEnvelope,
} from './codec.ts';
export { compactRun, openRun } from './run.ts';
export type { EnvelopeRun, EnvelopeRunEntry } from './run.ts';
export { Feed, createFeed } from './feed.ts';
export type {
  FeedEnvelopeEvent,
  FeedForkEvent,
  FeedInit,
  FeedSnapshotEvent,
  ReceiveManyResult,
  ReceiveOutcome,
  SnapshotOutcome,
} from './feed.ts';
export { pullFeed } from './pull.ts';
export type { PullResult } from './pull.ts';
export { exportBackup, importBackup } from './backup.ts';
export type { ImportBackupResult } from './backup.ts';
