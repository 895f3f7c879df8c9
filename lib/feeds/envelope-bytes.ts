/**
 * The envelope's bytes, written and read by position. An envelope has one fixed schema
 * (docs/feeds.md), so its deterministic CBOR is always the same sequence of heads and values:
 *
 *   0x89 | 0x01 | 0x6d "feed-envelope" | 0x58 0x20 author | text(feedName)
 *        | uint(seq) | 0x58 0x20 prev | uint(timestamp) | bytes(update) | 0x58 0x40 signature
 *
 * and the signed part is the same with header 0x88 and without the signature. Everything up to
 * the feed name is the same for every envelope of a feed (the "prefix"), so a feed writes it
 * once. `writeEnvelope` gives byte for byte what the generic canonical encoder gives (tested
 * against cborg on the vectors and on random fields), without building a value tree and without
 * encoding the envelope twice; `readEnvelope` takes fields out of envelope bytes this peer
 * already verified (the store's), for re-serving them in compact form. Decoding bytes from
 * anywhere else stays the strict decoder's job (codec.ts).
 */
import { SIGNATURE_LENGTH } from '../identity/index.ts';
import { FEED_FORMAT_VERSION, FEED_RECORD_TYPES, HASH_BYTES } from './constants.ts';

const UINT = 0;
const BYTES = 2;
const TEXT = 3;

/** Bytes of a CBOR head (major type + argument) in its shortest form (RFC 8949 §4.2.1). */
export function headLength(value: number): number {
  return value < 24 ? 1 : value <= 0xff ? 2 : value <= 0xffff ? 3 : value <= 0xffffffff ? 5 : 9;
}

/** Writes a shortest-form head at `at`; returns the offset after it. `value` ≤ 2^53 − 1. */
export function writeHead(out: Uint8Array, at: number, major: number, value: number): number {
  const type = major << 5;
  if (value < 24) {
    out[at] = type | value;
    return at + 1;
  }
  if (value <= 0xff) {
    out[at] = type | 24;
    out[at + 1] = value;
    return at + 2;
  }
  if (value <= 0xffff) {
    out[at] = type | 25;
    out[at + 1] = value >>> 8;
    out[at + 2] = value & 0xff;
    return at + 3;
  }
  if (value <= 0xffffffff) {
    out[at] = type | 26;
    writeUint32(out, at + 1, value);
    return at + 5;
  }
  out[at] = type | 27;
  writeUint32(out, at + 1, Math.floor(value / 0x1_0000_0000));
  writeUint32(out, at + 5, value >>> 0);
  return at + 9;
}

function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** Header of the nine-element envelope and of its eight-element signed part. */
export const ENVELOPE_HEADER = 0x89;
export const UNSIGNED_HEADER = 0x88;
/** The signature's head (`0x58 0x40`) and the signature: always the envelope's last 66 bytes. */
export const SIGNATURE_TRAILER_BYTES = 2 + SIGNATURE_LENGTH;

/**
 * Elements 0..3 (version, type, author, feed name) encoded, without the array header: the
 * same for every envelope of one feed. Inputs must be valid (the caller checked them); the
 * feed name is ASCII by its pattern, so its characters are its bytes.
 */
export function envelopePrefix(author: Uint8Array, feedName: string): Uint8Array {
  const type = FEED_RECORD_TYPES.ENVELOPE;
  const out = new Uint8Array(1 + headLength(type.length) + type.length + 2 + author.length + headLength(feedName.length) + feedName.length);
  let at = writeHead(out, 0, UINT, FEED_FORMAT_VERSION);
  at = writeHead(out, at, TEXT, type.length);
  for (let i = 0; i < type.length; i++) out[at++] = type.charCodeAt(i);
  at = writeHead(out, at, BYTES, author.length);
  out.set(author, at);
  at += author.length;
  at = writeHead(out, at, TEXT, feedName.length);
  for (let i = 0; i < feedName.length; i++) out[at++] = feedName.charCodeAt(i);
  return out;
}

export interface EnvelopeTail {
  seq: number;
  prev: Uint8Array;
  timestamp: number;
  update: Uint8Array;
}

/** Length of the signed part (elements 0..7 with their header). */
export function unsignedLength(prefix: Uint8Array, tail: EnvelopeTail): number {
  return (
    1 + prefix.length + headLength(tail.seq) + 2 + HASH_BYTES + headLength(tail.timestamp) + headLength(tail.update.length) + tail.update.length
  );
}

/**
 * The signed part, `[1, "feed-envelope", author, feedName, seq, prev, timestamp, update]`, with
 * `room` spare bytes at the end (for the signature, so the envelope is one copy away).
 */
export function writeUnsigned(prefix: Uint8Array, tail: EnvelopeTail, room = 0): Uint8Array {
  const length = unsignedLength(prefix, tail);
  const out = new Uint8Array(length + room);
  out[0] = UNSIGNED_HEADER;
  out.set(prefix, 1);
  let at = writeHead(out, 1 + prefix.length, UINT, tail.seq);
  at = writeHead(out, at, BYTES, HASH_BYTES);
  out.set(tail.prev, at);
  at += HASH_BYTES;
  at = writeHead(out, at, UINT, tail.timestamp);
  at = writeHead(out, at, BYTES, tail.update.length);
  out.set(tail.update, at);
  return room === 0 ? out : out.subarray(0, length);
}

/** The envelope: the signed part with header 0x89 and the signature after it (a new buffer). */
export function writeEnvelope(unsigned: Uint8Array, signature: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(unsigned.length + SIGNATURE_TRAILER_BYTES);
  out.set(unsigned, 0);
  out[0] = ENVELOPE_HEADER;
  out[unsigned.length] = (BYTES << 5) | 24;
  out[unsigned.length + 1] = SIGNATURE_LENGTH;
  out.set(signature, unsigned.length + 2);
  return out;
}

/**
 * The whole envelope from its feed's prefix, its tail and its signature, written into one
 * buffer: what writeEnvelope(writeUnsigned(prefix, tail), signature) gives, with one copy
 * fewer (a store rebuilds every envelope it reads from these parts).
 */
export function buildEnvelope(prefix: Uint8Array, tail: EnvelopeTail, signature: Uint8Array): Uint8Array<ArrayBuffer> {
  const unsigned = writeUnsigned(prefix, tail, SIGNATURE_TRAILER_BYTES);
  const out = new Uint8Array(unsigned.buffer as ArrayBuffer, 0, unsigned.length + SIGNATURE_TRAILER_BYTES);
  out[0] = ENVELOPE_HEADER;
  out[unsigned.length] = (BYTES << 5) | 24;
  out[unsigned.length + 1] = SIGNATURE_LENGTH;
  out.set(signature, unsigned.length + 2);
  return out;
}

/** Fields read out of an envelope by position: views into its bytes. */
export interface EnvelopeFields extends EnvelopeTail {
  /** Elements 0..3 as encoded (compare with a feed's prefix to know it is that feed's). */
  prefix: Uint8Array;
  author: Uint8Array;
  signature: Uint8Array;
}

/** Reads one head at `at`: its major type, argument, and where its content starts. */
function readHead(bytes: Uint8Array, at: number): { major: number; value: number; next: number } {
  if (at >= bytes.length) throw new RangeError('truncated');
  const first = bytes[at]!;
  const major = first >> 5;
  const info = first & 0x1f;
  if (info < 24) return { major, value: info, next: at + 1 };
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0 || at + 1 + size > bytes.length) throw new RangeError('bad head');
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[at + 1 + i]!;
  if (value > Number.MAX_SAFE_INTEGER) throw new RangeError('integer too large');
  return { major, value, next: at + 1 + size };
}

function isEnvelopeType(bytes: Uint8Array, at: number, length: number): boolean {
  const type = FEED_RECORD_TYPES.ENVELOPE;
  if (length !== type.length || at + length > bytes.length) return false;
  for (let i = 0; i < length; i++) if (bytes[at + i] !== type.charCodeAt(i)) return false;
  return true;
}

/**
 * Fields of an envelope this peer stored (verified when it arrived), by position. Not a
 * decoder for untrusted bytes: it checks the layout, not canonical form, signature or rules.
 * @throws RangeError when the bytes do not have the envelope layout
 */
export function readEnvelope(bytes: Uint8Array): EnvelopeFields {
  if (bytes[0] !== ENVELOPE_HEADER) throw new RangeError('not an envelope');
  let at = 1;
  // version, type, author, feed name: the prefix.
  const version = readHead(bytes, at);
  if (version.major !== UINT) throw new RangeError('version');
  let author: Uint8Array | undefined;
  at = version.next;
  for (const major of [TEXT, BYTES, TEXT]) {
    const head = readHead(bytes, at);
    if (head.major !== major) throw new RangeError('prefix');
    if (major === BYTES) author = bytes.subarray(head.next, head.next + head.value);
    else if (!author && !isEnvelopeType(bytes, head.next, head.value)) throw new RangeError('not the envelope type');
    at = head.next + head.value;
  }
  if (at > bytes.length) throw new RangeError('truncated');
  const prefix = bytes.subarray(1, at);
  const seq = readHead(bytes, at);
  if (seq.major !== UINT) throw new RangeError('seq');
  const prevHead = readHead(bytes, seq.next);
  if (prevHead.major !== BYTES || prevHead.value !== HASH_BYTES) throw new RangeError('prev');
  const prev = bytes.subarray(prevHead.next, prevHead.next + HASH_BYTES);
  const timestamp = readHead(bytes, prevHead.next + HASH_BYTES);
  if (timestamp.major !== UINT) throw new RangeError('timestamp');
  const updateHead = readHead(bytes, timestamp.next);
  if (updateHead.major !== BYTES) throw new RangeError('update');
  const update = bytes.subarray(updateHead.next, updateHead.next + updateHead.value);
  const signatureAt = updateHead.next + updateHead.value;
  const signatureHead = readHead(bytes, signatureAt);
  if (signatureHead.major !== BYTES || signatureHead.value !== SIGNATURE_LENGTH || signatureHead.next + SIGNATURE_LENGTH !== bytes.length) {
    throw new RangeError('signature');
  }
  const signature = bytes.subarray(signatureHead.next);
  return { prefix, author: author!, seq: seq.value, prev, timestamp: timestamp.value, update, signature };
}
