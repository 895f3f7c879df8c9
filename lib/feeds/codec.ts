/**
 * Feed envelopes and snapshots: one deterministic CBOR encoding each (RFC 8949 §4.2.1), decoded
 * strictly, verified before anything else looks at them. Wire format: docs/feeds.md.
 *
 *   envelope: [1, "feed-envelope", author, feedName, seq, prev, timestamp, update, signature]
 *   snapshot: [1, "feed-snapshot", author, feedName, seq, headHash, timestamp, state, signature]
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeCanonical, encodeCanonical, type CanonicalCborError } from '../util/cbor.ts';
import * as Y from 'yjs';
import { copyBytes, equalBytes, toHex } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import {
  CONTEXTS,
  InvalidPublicKeyError,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  decodePublicKey,
  encodePublicKey,
  isValidPublicKey,
  verify,
} from '../identity/index.ts';
import {
  FEED_FORMAT_VERSION,
  FEED_NAME_PATTERN,
  FEED_RECORD_TYPES,
  FIRST_SEQ,
  HASH_BYTES,
  MAX_ENVELOPE_BYTES,
  MAX_SEQ,
  MAX_SNAPSHOT_BYTES,
  VALID_KEY_CACHE_SIZE,
} from './constants.ts';
import {
  BadEnvelopeSignatureError,
  BadSnapshotSignatureError,
  EnvelopeTooLargeError,
  FeedFieldError,
  InvalidFeedNameError,
  MalformedEnvelopeError,
  MalformedSnapshotError,
  MalformedUpdateError,
  NonCanonicalEnvelopeError,
  NonCanonicalSnapshotError,
  SignerMismatchError,
  SnapshotTooLargeError,
  UnsupportedFeedVersionError,
} from './errors.ts';
import type { FeedRecordKind } from './errors.ts';
import { SIGNATURE_TRAILER_BYTES, envelopePrefix, readEnvelope, unsignedLength, writeEnvelope, writeUnsigned } from './envelope-bytes.ts';
import type { EnvelopeTail } from './envelope-bytes.ts';

/** `<author text form z6Mk…>/<feed name>`: the author part is always 48 characters. */
export type FeedId = string;

/** Whoever signs for the author: the vault in the extension, a SigningKey in Node. Never a raw secret. */
export interface FeedSigner {
  readonly publicKey: Uint8Array;
  sign(context: string, message: Uint8Array): Promise<Uint8Array>;
}

/** A decoded, signature-checked envelope whose update parses as Yjs. Byte fields are owned copies. */
export interface FeedEnvelope {
  readonly version: typeof FEED_FORMAT_VERSION;
  readonly author: Uint8Array;
  readonly feedName: string;
  readonly feedId: FeedId;
  readonly seq: number;
  /** SHA-256 of the previous envelope's encoded bytes; 32 zero bytes at sequence 1. */
  readonly prev: Uint8Array;
  /** ms since the Unix epoch, as the author's clock said; informative, not checked. */
  readonly timestamp: number;
  /** A Yjs update (v1 encoding): one local transaction of the author's document. */
  readonly update: Uint8Array;
  readonly signature: Uint8Array;
  /** The exact encoded envelope: what is stored and re-served. */
  readonly bytes: Uint8Array;
  /** SHA-256 of `bytes`: the next envelope's `prev`. */
  readonly hash: Uint8Array;
}

/** A decoded, signature-checked snapshot: the author's document state as of envelope `seq`. */
export interface FeedSnapshot {
  readonly version: typeof FEED_FORMAT_VERSION;
  readonly author: Uint8Array;
  readonly feedName: string;
  readonly feedId: FeedId;
  readonly seq: number;
  /** SHA-256 of envelope `seq`: binds the snapshot to one chain. */
  readonly headHash: Uint8Array;
  readonly timestamp: number;
  /** Y.encodeStateAsUpdate of the document after envelope `seq` (v1 encoding). */
  readonly state: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

/** The 32 zero bytes standing for "no previous envelope" in envelope 1. */
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

// ---------------------------------------------------------------------------------------------
// Names and ids

export function isValidFeedName(name: unknown): name is string {
  return typeof name === 'string' && FEED_NAME_PATTERN.test(name);
}

/** @throws InvalidFeedNameError */
export function checkFeedName(name: unknown): string {
  if (!isValidFeedName(name)) throw new InvalidFeedNameError(name);
  return name;
}

/**
 * Author keys that passed validation, by hex, with their text form. Checking a key is a point
 * decompression (~140 µs here, as much as half a signature check) and one author signs many
 * envelopes, so the answer is remembered (least recently used out first).
 */
const validKeys = new Map<string, string>();

/** The text form of an acceptable ed25519 key, or null when the bytes are not one. */
function authorText(author: Uint8Array): string | null {
  if (!(author instanceof Uint8Array) || author.length !== PUBLIC_KEY_LENGTH) return null;
  const hex = toHex(author);
  const cached = validKeys.get(hex);
  if (cached !== undefined) {
    validKeys.delete(hex);
    validKeys.set(hex, cached);
    return cached;
  }
  if (!isValidPublicKey(author)) return null;
  const text = encodePublicKey(author);
  validKeys.set(hex, text);
  if (validKeys.size > VALID_KEY_CACHE_SIZE) validKeys.delete(validKeys.keys().next().value!);
  return text;
}

/** The id a store files a feed under. @throws InvalidPublicKeyError, InvalidFeedNameError */
export function feedIdOf(author: Uint8Array, name: string): FeedId {
  const text = authorText(author);
  if (text === null) throw new InvalidPublicKeyError();
  return `${text}/${checkFeedName(name)}`;
}

/** Splits a feed id back into author key and name. @throws InvalidPublicKeyError, InvalidFeedNameError */
export function parseFeedId(id: FeedId): { author: Uint8Array; name: string } {
  const slash = id.indexOf('/');
  if (slash < 0) throw new InvalidFeedNameError(id);
  return { author: decodePublicKey(id.slice(0, slash)), name: checkFeedName(id.slice(slash + 1)) };
}

/**
 * SHA-256 of an encoded envelope, computed here and now (@noble/hashes). An envelope is small
 * and every author and reader hashes each one, in order: WebCrypto's digest would cost a
 * thread hop and a promise per envelope (≈ 39 µs here against ≈ 8 µs for this).
 */
export function envelopeHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** SHA-256 of an encoded envelope (the same as envelopeHash, for callers that await). */
export async function hashBytes(bytes: Uint8Array): Promise<Uint8Array> {
  return envelopeHash(bytes);
}

// ---------------------------------------------------------------------------------------------
// The shared codec

type Value = number | string | Uint8Array;

interface KindSpec {
  readonly kind: FeedRecordKind;
  readonly type: string;
  readonly maxBytes: number;
  readonly context: string;
  tooLarge(length: number, limit: number): P2pbError;
  malformed(message: string, options?: { cause?: unknown }): P2pbError;
  nonCanonical(): P2pbError;
  badSignature(message?: string, options?: { cause?: unknown }): P2pbError;
}

const ENVELOPE: KindSpec = {
  kind: 'envelope',
  type: FEED_RECORD_TYPES.ENVELOPE,
  maxBytes: MAX_ENVELOPE_BYTES,
  context: CONTEXTS.FEED_ENVELOPE,
  tooLarge: (length, limit) => new EnvelopeTooLargeError(length, limit),
  malformed: (message, options) => new MalformedEnvelopeError(message, options),
  nonCanonical: () => new NonCanonicalEnvelopeError(),
  badSignature: (message, options) => new BadEnvelopeSignatureError(message, options),
};

const SNAPSHOT: KindSpec = {
  kind: 'snapshot',
  type: FEED_RECORD_TYPES.SNAPSHOT,
  maxBytes: MAX_SNAPSHOT_BYTES,
  context: CONTEXTS.FEED_SNAPSHOT,
  tooLarge: (length, limit) => new SnapshotTooLargeError(length, limit),
  malformed: (message, options) => new MalformedSnapshotError(message, options),
  nonCanonical: () => new NonCanonicalSnapshotError(),
  badSignature: (message, options) => new BadSnapshotSignatureError(message, options),
};

/** Both structures have nine elements: version, type, six fields, signature. */
const LENGTH = 9;

function encodeItems(items: readonly Value[]): Uint8Array {
  return encodeCanonical(items);
}

/** Size check, strict decode, canonical check, version, type, arity. `bytes` must be owned. */
function decodeItems(bytes: Uint8Array, spec: KindSpec): unknown[] {
  if (!(bytes instanceof Uint8Array)) throw spec.malformed(`${spec.kind} must be a Uint8Array`);
  if (bytes.length > spec.maxBytes) throw spec.tooLarge(bytes.length, spec.maxBytes);
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (cause) {
    if ((cause as CanonicalCborError).reason === 'non-canonical') throw spec.nonCanonical();
    throw spec.malformed(`${spec.kind} ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(value)) throw spec.malformed(`${spec.kind} is not a CBOR array`);
  const [version, type] = value as unknown[];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw spec.malformed(`${spec.kind} version is not an unsigned integer`);
  }
  if (version !== FEED_FORMAT_VERSION) throw new UnsupportedFeedVersionError(spec.kind, version);
  if (type !== spec.type) {
    throw spec.malformed(`expected a ${JSON.stringify(spec.type)}, got ${JSON.stringify(String(type).slice(0, 64))}`);
  }
  if (value.length !== LENGTH) throw spec.malformed(`a ${spec.kind} has ${LENGTH} elements, got ${value.length}`);
  return value;
}

export function fieldBytes(value: unknown, field: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new FeedFieldError(field, 'expected a byte string');
  if (length !== undefined && value.length !== length) {
    throw new FeedFieldError(field, `expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

function fieldAuthor(value: unknown): Uint8Array {
  const bytes = fieldBytes(value, 'author', PUBLIC_KEY_LENGTH);
  if (authorText(bytes) === null) throw new FeedFieldError('author', 'not a valid ed25519 public key');
  return bytes;
}

function fieldName(value: unknown): string {
  if (!isValidFeedName(value)) throw new FeedFieldError('feedName', `expected text matching ${FEED_NAME_PATTERN}`);
  return value;
}

function fieldSeq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < FIRST_SEQ || value > MAX_SEQ) {
    throw new FeedFieldError('seq', `expected an integer ${FIRST_SEQ}..2^53 - 1`);
  }
  return value;
}

function fieldTimestamp(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new FeedFieldError('timestamp', 'expected an unsigned integer (ms since the Unix epoch) ≤ 2^53 - 1');
  }
  return value;
}

function fieldPrev(value: unknown, seq: number): Uint8Array {
  const prev = fieldBytes(value, 'prev', HASH_BYTES);
  if (seq === FIRST_SEQ && !equalBytes(prev, ZERO_HASH)) {
    throw new FeedFieldError('prev', 'envelope 1 has no previous envelope: prev must be 32 zero bytes');
  }
  return prev;
}

/** Refuses Yjs bytes that do not parse, before they can reach any document. */
export function checkYjsUpdate(update: Uint8Array, what: string): void {
  try {
    Y.decodeUpdate(update);
  } catch (cause) {
    throw new MalformedUpdateError(`${what} is not a Yjs update: ${String((cause as Error)?.message ?? cause)}`, { cause });
  }
}

/** The author's envelope signature over `unsigned` (the signed part). @throws BadEnvelopeSignatureError */
export function requireEnvelopeSignature(author: Uint8Array, unsigned: Uint8Array, signature: Uint8Array): Promise<void> {
  return requireSignature(ENVELOPE, author, unsigned, signature);
}

async function requireSignature(
  spec: KindSpec,
  author: Uint8Array,
  unsigned: Uint8Array,
  signature: Uint8Array,
): Promise<void> {
  let ok: boolean;
  try {
    ok = await verify(author, spec.context, unsigned, signature);
  } catch (cause) {
    if (cause instanceof P2pbError) throw spec.badSignature(`${spec.kind} signature cannot be verified`, { cause });
    throw cause;
  }
  if (!ok) throw spec.badSignature();
}

// ---------------------------------------------------------------------------------------------
// Envelopes

/** Envelope fields read from the bytes, not yet verified: what routing may peek at. */
export interface ParsedEnvelope extends Omit<FeedEnvelope, 'hash'> {
  readonly verified: false;
}

/**
 * The synchronous half of decodeEnvelope: limits, strict CBOR, canonical form and field checks.
 * The signature and the update are NOT checked: use only to route or to refuse early.
 * @throws EnvelopeTooLargeError, MalformedEnvelopeError, NonCanonicalEnvelopeError,
 * UnsupportedFeedVersionError, FeedFieldError
 */
export function parseEnvelope(input: Uint8Array): ParsedEnvelope {
  if (!(input instanceof Uint8Array)) throw ENVELOPE.malformed('envelope must be a Uint8Array');
  if (input.length > ENVELOPE.maxBytes) throw ENVELOPE.tooLarge(input.length, ENVELOPE.maxBytes);
  const bytes = copyBytes(input); // owned (and never a Node Buffer): every field below is a view into this copy
  const items = decodeItems(bytes, ENVELOPE);
  const author = fieldAuthor(items[2]);
  const feedName = fieldName(items[3]);
  const seq = fieldSeq(items[4]);
  const prev = fieldPrev(items[5], seq);
  const timestamp = fieldTimestamp(items[6]);
  const update = fieldBytes(items[7], 'update');
  const signature = fieldBytes(items[8], 'signature', SIGNATURE_LENGTH);
  return {
    version: FEED_FORMAT_VERSION,
    author,
    feedName,
    feedId: feedIdOf(author, feedName),
    seq,
    prev,
    timestamp,
    update,
    signature,
    bytes,
    verified: false,
  };
}

/**
 * The bytes the signature covers, cut from a canonical encoding: the same array with one element
 * fewer (header 0x89 becomes 0x88) and without the trailing signature (0x58 0x40 + 64 bytes).
 * Equal to re-encoding the first eight elements, without the copy.
 */
function signedPart(bytes: Uint8Array): Uint8Array {
  const out = copyBytes(bytes.subarray(0, bytes.length - (2 + SIGNATURE_LENGTH)));
  out[0] = 0x80 | (LENGTH - 1);
  return out;
}

/**
 * The asynchronous half: the author's signature, then the Yjs update; the hash is taken while
 * the signature is being checked.
 * @throws BadEnvelopeSignatureError, MalformedUpdateError
 */
export async function verifyEnvelope(parsed: ParsedEnvelope): Promise<FeedEnvelope> {
  const signature = requireSignature(ENVELOPE, parsed.author, signedPart(parsed.bytes), parsed.signature);
  const hash = envelopeHash(parsed.bytes);
  await signature;
  checkYjsUpdate(parsed.update, `envelope ${parsed.seq}'s update`);
  const { verified: _verified, ...fields } = parsed;
  return { ...fields, hash };
}

/**
 * Decodes and verifies one envelope. Checks, in order: size, strict CBOR, canonical form,
 * version, type, arity, fields, signature, Yjs update. Chain rules are the feed's business.
 */
export async function decodeEnvelope(bytes: Uint8Array): Promise<FeedEnvelope> {
  return verifyEnvelope(parseEnvelope(bytes));
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: P2pbError };

/**
 * Decodes many envelopes, verifying their signatures concurrently. One result per input, in
 * order; refusals are P2pbErrors, never thrown (anything else is a bug and is thrown).
 */
export async function decodeEnvelopes(
  list: readonly Uint8Array[],
  options: { signal?: AbortSignal } = {},
): Promise<Array<DecodeResult<FeedEnvelope>>> {
  options.signal?.throwIfAborted();
  const results = await Promise.all(
    list.map(async (bytes): Promise<DecodeResult<FeedEnvelope>> => {
      try {
        return { ok: true, value: await decodeEnvelope(bytes) };
      } catch (error) {
        if (error instanceof P2pbError) return { ok: false, error };
        throw error;
      }
    }),
  );
  options.signal?.throwIfAborted();
  return results;
}

export interface CreateEnvelopeInput {
  signer: FeedSigner;
  feedName: string;
  seq: number;
  /** Hash of envelope seq - 1 (ZERO_HASH for seq 1). */
  prev: Uint8Array;
  timestamp: number;
  update: Uint8Array;
}

/**
 * What every envelope of one feed shares: the checked author key and feed name, the feed id,
 * and elements 0..3 encoded once (envelope-bytes.ts). A feed makes one and signs and rebuilds
 * all its envelopes with it.
 */
export interface EnvelopeLayout {
  readonly author: Uint8Array;
  readonly feedName: string;
  readonly feedId: FeedId;
  readonly prefix: Uint8Array;
}

/** @throws FeedFieldError (author or feedName) */
export function envelopeLayout(author: Uint8Array, feedName: string): EnvelopeLayout {
  const key = copyBytes(fieldAuthor(author));
  const name = fieldName(feedName);
  return { author: key, feedName: name, feedId: feedIdOf(key, name), prefix: envelopePrefix(key, name) };
}

/** Checks the per-envelope fields the way the decoder does. @throws FeedFieldError */
export function checkTail(tail: { seq: unknown; prev: unknown; timestamp: unknown; update: unknown }): EnvelopeTail {
  const seq = fieldSeq(tail.seq);
  return {
    seq,
    prev: fieldPrev(tail.prev, seq),
    timestamp: fieldTimestamp(tail.timestamp),
    update: fieldBytes(tail.update, 'update'),
  };
}

/**
 * An envelope built from checked parts: `bytes` is the signed part with the signature after it,
 * and every byte field is a view into `bytes` (one buffer, owned by the envelope).
 */
export function assembleEnvelope(layout: EnvelopeLayout, unsigned: Uint8Array, signature: Uint8Array, tail: EnvelopeTail): FeedEnvelope {
  const bytes = writeEnvelope(unsigned, signature);
  const fields = readEnvelope(bytes);
  return {
    version: FEED_FORMAT_VERSION,
    author: fields.author,
    feedName: layout.feedName,
    feedId: layout.feedId,
    seq: tail.seq,
    prev: fields.prev,
    timestamp: tail.timestamp,
    update: fields.update,
    signature: fields.signature,
    bytes,
    hash: envelopeHash(bytes),
  };
}

/**
 * Signs and encodes the next envelope of the feed `layout` describes. The update is checked
 * like a received one, so an author can never publish what readers refuse — except with
 * `updateFromDoc`, for an update a Y.Doc just emitted for a local transaction (Yjs's own
 * encoder wrote it; parsing it again proves nothing).
 * @throws FeedFieldError, EnvelopeTooLargeError, MalformedUpdateError
 */
export async function signEnvelope(
  layout: EnvelopeLayout,
  signer: FeedSigner,
  input: { seq: number; prev: Uint8Array; timestamp: number; update: Uint8Array },
  options: { updateFromDoc?: boolean } = {},
): Promise<FeedEnvelope> {
  if (!equalBytes(signer.publicKey, layout.author)) throw new SignerMismatchError();
  const tail = checkTail(input);
  if (!options.updateFromDoc) checkYjsUpdate(tail.update, 'update');
  // Refuse before signing: a signed envelope nobody accepts is waste (and a fork risk if retried).
  const size = unsignedLength(layout.prefix, tail) + SIGNATURE_TRAILER_BYTES;
  if (size > MAX_ENVELOPE_BYTES) throw new EnvelopeTooLargeError(size, MAX_ENVELOPE_BYTES);
  const unsigned = writeUnsigned(layout.prefix, tail);
  const signature = await signer.sign(CONTEXTS.FEED_ENVELOPE, unsigned);
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new FeedFieldError('signature', `the signer returned ${signature instanceof Uint8Array ? signature.length : typeof signature} instead of ${SIGNATURE_LENGTH} bytes`);
  }
  return assembleEnvelope(layout, unsigned, signature, tail);
}

/**
 * Signs and encodes an envelope. The update is checked like a received one, so an author can
 * never publish what readers refuse.
 * @throws FeedFieldError, EnvelopeTooLargeError, MalformedUpdateError
 */
export async function createEnvelope(input: CreateEnvelopeInput): Promise<FeedEnvelope> {
  return signEnvelope(envelopeLayout(input.signer.publicKey, input.feedName), input.signer, input);
}

// ---------------------------------------------------------------------------------------------
// Snapshots

function unsignedSnapshot(s: {
  author: Uint8Array;
  feedName: string;
  seq: number;
  headHash: Uint8Array;
  timestamp: number;
  state: Uint8Array;
}): Value[] {
  return [FEED_FORMAT_VERSION, SNAPSHOT.type, s.author, s.feedName, s.seq, s.headHash, s.timestamp, s.state];
}

/**
 * Decodes and verifies one snapshot: size, strict CBOR, canonical form, version, type, arity,
 * fields, signature, Yjs state.
 * @throws SnapshotTooLargeError, MalformedSnapshotError, NonCanonicalSnapshotError,
 * UnsupportedFeedVersionError, FeedFieldError, BadSnapshotSignatureError, MalformedUpdateError
 */
export async function decodeSnapshot(input: Uint8Array): Promise<FeedSnapshot> {
  if (!(input instanceof Uint8Array)) throw SNAPSHOT.malformed('snapshot must be a Uint8Array');
  if (input.length > SNAPSHOT.maxBytes) throw SNAPSHOT.tooLarge(input.length, SNAPSHOT.maxBytes);
  const bytes = copyBytes(input);
  const items = decodeItems(bytes, SNAPSHOT);
  const author = fieldAuthor(items[2]);
  const feedName = fieldName(items[3]);
  const seq = fieldSeq(items[4]);
  const headHash = fieldBytes(items[5], 'headHash', HASH_BYTES);
  const timestamp = fieldTimestamp(items[6]);
  const state = fieldBytes(items[7], 'state');
  const signature = fieldBytes(items[8], 'signature', SIGNATURE_LENGTH);
  const fields = { author, feedName, seq, headHash, timestamp, state };
  await requireSignature(SNAPSHOT, author, encodeItems(unsignedSnapshot(fields)), signature);
  checkYjsUpdate(state, `snapshot ${seq}'s state`);
  return { version: FEED_FORMAT_VERSION, ...fields, feedId: feedIdOf(author, feedName), signature, bytes };
}

export interface CreateSnapshotInput {
  signer: FeedSigner;
  feedName: string;
  /** The sequence of the last envelope the state includes. */
  seq: number;
  /** The hash of that envelope. */
  headHash: Uint8Array;
  timestamp: number;
  /** Y.encodeStateAsUpdate of the document after envelope `seq`, and nothing else. */
  state: Uint8Array;
}

/** Signs and encodes a snapshot. @throws FeedFieldError, SnapshotTooLargeError, MalformedUpdateError */
export async function createSnapshot(input: CreateSnapshotInput): Promise<FeedSnapshot> {
  const author = copyBytes(fieldAuthor(input.signer.publicKey));
  const feedName = fieldName(input.feedName);
  const seq = fieldSeq(input.seq);
  const headHash = copyBytes(fieldBytes(input.headHash, 'headHash', HASH_BYTES));
  const timestamp = fieldTimestamp(input.timestamp);
  const state = copyBytes(fieldBytes(input.state, 'state'));
  checkYjsUpdate(state, 'state');
  const fields = { author, feedName, seq, headHash, timestamp, state };
  const unsigned = encodeItems(unsignedSnapshot(fields));
  const size = unsigned.length + 2 + SIGNATURE_LENGTH; // + the signature's 0x58 0x40 header
  if (size > MAX_SNAPSHOT_BYTES) throw new SnapshotTooLargeError(size, MAX_SNAPSHOT_BYTES);
  const signature = copyBytes(await input.signer.sign(CONTEXTS.FEED_SNAPSHOT, unsigned));
  const bytes = encodeItems([...unsignedSnapshot(fields), signature]);
  if (bytes.length > MAX_SNAPSHOT_BYTES) throw new SnapshotTooLargeError(bytes.length, MAX_SNAPSHOT_BYTES);
  return { version: FEED_FORMAT_VERSION, ...fields, feedId: feedIdOf(author, feedName), signature, bytes };
}
