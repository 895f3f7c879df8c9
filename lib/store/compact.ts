/**
 * How a stored envelope is kept (schema 2): the parts that its feed, its sequence and the record
 * before it do not already say. An envelope of feed `<author>/<name>` at sequence `seq` repeats
 * the author key, the name and `seq` (the feed id and the record's key say them) and the hash of
 * the envelope before it (the record before it holds that hash). What is left is what a compact
 * run carries (docs/feeds.md#compact-runs): timestamp, update and signature. One value:
 *
 *   tag (1) ‖ [prev (32), when tag & OWN_PREV] ‖ body
 *   body, tag & COMPACT:  signature (64) ‖ uvarint(timestamp) ‖ update (to the end)
 *   body, otherwise:      the bytes as given
 *
 * The store does not verify anything (lib/feeds does, before it appends): it compacts only what
 * rebuilds to exactly the bytes it was given, keeps anything else as given, and on read checks
 * each rebuilt envelope against the stored hash, so a damaged record is reported
 * (StoreCorruptedError) instead of read back as other bytes. Layout and migration:
 * docs/store.md#stored-layout-schema-2.
 *
 * The envelope's byte layout is lib/feeds/envelope-bytes.ts, a leaf that imports no store: the
 * one place that says how an envelope is written, whoever rebuilds it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { decodePublicKey } from '../identity/index.ts';
import { FEED_NAME_PATTERN } from '../feeds/constants.ts';
import { SIGNATURE_TRAILER_BYTES, buildEnvelope, envelopePrefix, readEnvelope } from '../feeds/envelope-bytes.ts';
import { copyBytes, equalBytes } from '../util/bytes.ts';
import type { EnvelopeRecord } from './backend.ts';
import { ENVELOPE_OVERHEAD_BYTES } from './constants.ts';
import { StoreCorruptedError } from './errors.ts';
import type { StoredEnvelope } from './types.ts';

/** Tag bit: the body is a compact entry (else the bytes as given). */
export const COMPACT = 1;
/** Tag bit: the value carries its prev (else prev is the hash of record seq − 1, or zeros for seq 1). */
export const OWN_PREV = 2;
const TAGS = COMPACT | OWN_PREV;

const HASH_LENGTH = 32;
const SIGNATURE_LENGTH = SIGNATURE_TRAILER_BYTES - 2;
const ZERO_HASH = new Uint8Array(HASH_LENGTH);

/** Bytes a stored envelope record is accounted: its value plus the hash and key beside it. */
export const envelopeCost = (value: Uint8Array): number => value.length + ENVELOPE_OVERHEAD_BYTES;

/**
 * Elements 0..3 of every envelope of the feed `id` names (`<author text form>/<name>`), or null
 * when the id does not name an author and a feed name (its records are then kept as given).
 */
export function feedPrefix(id: string): Uint8Array | null {
  const slash = id.indexOf('/');
  const name = id.slice(slash + 1);
  if (slash < 0 || !FEED_NAME_PATTERN.test(name)) return null;
  try {
    return envelopePrefix(decodePublicKey(id.slice(0, slash)), name);
  } catch {
    return null;
  }
}

/** True when a record at `seq` can leave its prev out: it is implied by what is stored before it. */
export const impliesPrev = (seq: number, prev: Uint8Array, before: { seq: number; hash: Uint8Array } | null): boolean =>
  before ? before.seq === seq - 1 && equalBytes(before.hash, prev) : seq === 1 && equalBytes(prev, ZERO_HASH);

/**
 * The stored value of `entry`. `ownPrev`: the record before it is not stored, so the value
 * carries its prev. `prefix`: the feed's (feedPrefix), or null to keep the bytes as given.
 */
export function packEnvelope(prefix: Uint8Array | null, entry: StoredEnvelope, ownPrev: boolean): Uint8Array {
  const fields = prefix && compactFields(prefix, entry);
  const head = ownPrev ? 1 + HASH_LENGTH : 1;
  const bodyLength = fields ? SIGNATURE_LENGTH + uvarintLength(fields.timestamp) + fields.update.length : entry.bytes.length;
  const value = new Uint8Array(head + bodyLength);
  value[0] = (fields ? COMPACT : 0) | (ownPrev ? OWN_PREV : 0);
  if (ownPrev) value.set(entry.prev, 1);
  if (!fields) {
    value.set(entry.bytes, head);
    return value;
  }
  value.set(fields.signature, head);
  value.set(fields.update, writeUvarint(value, head + SIGNATURE_LENGTH, fields.timestamp));
  return value;
}

/** The fields of `entry`'s compact entry, when rebuilding from them gives back exactly its bytes; else null. */
function compactFields(prefix: Uint8Array, entry: StoredEnvelope): ReturnType<typeof readEnvelope> | null {
  let fields: ReturnType<typeof readEnvelope>;
  try {
    fields = readEnvelope(entry.bytes);
  } catch {
    return null; // not an envelope at all
  }
  if (fields.seq !== entry.seq || !equalBytes(fields.prev, entry.prev) || !equalBytes(fields.prefix, prefix)) return null;
  // readEnvelope reads heads in any width; only the shortest form rebuilds to the same bytes.
  return equalBytes(buildEnvelope(prefix, fields, fields.signature), entry.bytes) ? fields : null;
}

/**
 * The envelope a record holds. `before`: the record read just before it (for its hash, the
 * prev of a record that does not carry one), or null. `prefix`: feedPrefix of its feed.
 * @throws StoreCorruptedError when the record cannot be rebuilt or does not hash to its hash
 */
export function unpackEnvelope(feedId: string, prefix: Uint8Array | null, record: EnvelopeRecord, before: EnvelopeRecord | null): StoredEnvelope {
  const { seq, value } = record;
  const tag = value[0];
  const head = tag !== undefined && tag & OWN_PREV ? 1 + HASH_LENGTH : 1;
  if (tag === undefined || (tag & ~TAGS) !== 0 || value.length < head) throw corrupted(feedId, seq, `tag ${tag}`);
  const prev = head > 1 ? value.slice(1, head) : impliedPrev(feedId, seq, before);
  const hash = copyBytes(record.hash);
  if (!(tag & COMPACT)) return { seq, hash, prev, bytes: value.slice(head) };
  if (!prefix) throw corrupted(feedId, seq, 'a compact record of a feed whose id names no author');
  const bytes = rebuild(feedId, prefix, seq, prev, value.subarray(head));
  if (!equalBytes(sha256(bytes), hash)) throw corrupted(feedId, seq, 'its rebuilt bytes do not match its hash');
  return { seq, hash, prev, bytes };
}

function impliedPrev(feedId: string, seq: number, before: EnvelopeRecord | null): Uint8Array {
  if (before && before.seq === seq - 1) return copyBytes(before.hash);
  if (seq === 1) return new Uint8Array(HASH_LENGTH);
  throw corrupted(feedId, seq, `it names no prev and record ${seq - 1} is not stored`);
}

function rebuild(feedId: string, prefix: Uint8Array, seq: number, prev: Uint8Array, body: Uint8Array): Uint8Array {
  if (body.length <= SIGNATURE_LENGTH) throw corrupted(feedId, seq, 'a compact entry too short');
  const signature = body.subarray(0, SIGNATURE_LENGTH);
  const timestamp = readUvarint(body, SIGNATURE_LENGTH);
  if (!timestamp) throw corrupted(feedId, seq, 'a bad timestamp');
  return buildEnvelope(prefix, { seq, prev, timestamp: timestamp.value, update: body.subarray(timestamp.next) }, signature);
}

/**
 * The record that must replace `record` once the record before it is deleted (prune): the same
 * value carrying its prev. Null when it carries it already.
 * @throws StoreCorruptedError when its prev is not known either
 */
export function withOwnPrev(feedId: string, record: EnvelopeRecord, before: EnvelopeRecord | null): EnvelopeRecord | null {
  const tag = record.value[0]!;
  if (tag & OWN_PREV) return null;
  const value = new Uint8Array(record.value.length + HASH_LENGTH);
  value[0] = tag | OWN_PREV;
  value.set(impliedPrev(feedId, record.seq, before), 1);
  value.set(record.value.subarray(1), 1 + HASH_LENGTH);
  return { seq: record.seq, hash: record.hash, value };
}

const corrupted = (feedId: string, seq: number, why: string) =>
  new StoreCorruptedError(`stored envelope ${seq} of ${feedId.slice(0, 200)} is damaged: ${why}`);

// Unsigned LEB128, for timestamps up to 2^53 − 1 (arithmetic, not 32-bit shifts).

function uvarintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

function writeUvarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** The value and the offset after it; null when truncated, longer than 8 bytes or past 2^53 − 1. */
function readUvarint(bytes: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8 && at + i < bytes.length; i++) {
    const byte = bytes[at + i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return Number.isSafeInteger(value) ? { value, next: at + i + 1 } : null;
    scale *= 0x80;
  }
  return null;
}
