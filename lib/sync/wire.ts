/**
 * The sync wire (docs/sync.md): unsigned-varint length prefix, then one CBOR map
 * `{ v: 2, t: <type>, …fields }`. A stream carries one request and its answer (pull, heads,
 * delegate), or one subscribe followed by the server's heads and then push messages for as long
 * as the stream stays open. Snapshots travel as their signed bytes, envelopes as compact runs
 * (lib/feeds/run.ts: the receiver rebuilds each envelope's signed bytes); lib/feeds verifies
 * both on arrival. This module checks only shape and limits.
 */
import { decodeCanonical, encodeCanonical, CanonicalCborError } from '../util/cbor.ts';
import { FEED_NAME_PATTERN, FIRST_SEQ, HASH_BYTES, MAX_ENVELOPE_BYTES, MAX_SNAPSHOT_BYTES } from '../feeds/constants.ts';
import type { EnvelopeRun, EnvelopeRunEntry } from '../feeds/index.ts';
import { SIGNATURE_LENGTH } from '../identity/index.ts';
import {
  MAX_HEADS,
  MAX_PUSH_ENVELOPES,
  MAX_QUERY_ITEMS,
  MAX_SYNC_ERROR_MESSAGE_LENGTH,
  MAX_SYNC_MESSAGE_BYTES,
  PULL_BATCH_ENVELOPES,
  SYNC_WIRE_VERSION,
} from './constants.ts';
import {
  SyncMalformedMessageError,
  SyncMessageTooLargeError,
  SyncUnknownMessageError,
  SyncUnsupportedVersionError,
} from './errors.ts';

export interface Head {
  feed: string;
  seq: number;
  hash: Uint8Array;
}

/** Which feeds a heads or subscribe request is about: named feeds, and every feed of named authors. */
export interface FeedQuery {
  feeds: string[];
  authors: string[];
}

export type SyncRequest =
  | ({ t: 'heads' } & FeedQuery)
  | { t: 'pull'; feed: string; after: number; limit: number }
  | ({ t: 'subscribe' } & FeedQuery)
  | { t: 'delegate'; delegation: Uint8Array };

export type SyncResponse =
  | { t: 'heads'; heads: Head[] }
  | { t: 'batch'; feed: string; snapshot: Uint8Array | null; run: EnvelopeRun | null; head: { seq: number; hash: Uint8Array } | null }
  | { t: 'push'; feed: string; run: EnvelopeRun }
  | { t: 'ok' }
  | { t: 'error'; code: string; message: string };

export type SyncMessage = SyncRequest | SyncResponse;

const AUTHOR_TEXT = /^z[1-9A-HJ-NP-Za-km-z]{47}$/;
const FEED_NAME_BODY = FEED_NAME_PATTERN.source.slice(1, -1);
const FEED_ID_TEXT = new RegExp(`^z[1-9A-HJ-NP-Za-km-z]{47}/${FEED_NAME_BODY}$`);

/** Shape of a feed id (author key text "/" feed name); the key itself is checked on use. */
export const isFeedIdText = (value: unknown): value is string => typeof value === 'string' && FEED_ID_TEXT.test(value);
export const isAuthorText = (value: unknown): value is string => typeof value === 'string' && AUTHOR_TEXT.test(value);

const FIELDS: Record<string, readonly string[]> = {
  'heads?': ['feeds', 'authors'],
  'heads!': ['heads'],
  pull: ['feed', 'after', 'limit'],
  subscribe: ['feeds', 'authors'],
  delegate: ['delegation'],
  batch: ['feed', 'snapshot', 'run', 'head'],
  push: ['feed', 'run'],
  ok: [],
  error: ['code', 'message'],
};

export function encodeSyncMessage(message: SyncMessage): Uint8Array {
  const wire: Record<string, unknown> = { v: SYNC_WIRE_VERSION, t: message.t };
  switch (message.t) {
    case 'heads':
      if ('heads' in message) wire.heads = message.heads.map((h) => [h.feed, h.seq, h.hash]);
      else Object.assign(wire, { feeds: message.feeds, authors: message.authors });
      break;
    case 'batch':
      Object.assign(wire, {
        feed: message.feed,
        snapshot: message.snapshot,
        run: message.run === null ? null : runValue(message.run),
        head: message.head === null ? null : [message.head.seq, message.head.hash],
      });
      break;
    case 'push':
      Object.assign(wire, { feed: message.feed, run: runValue(message.run) });
      break;
    case 'error':
      Object.assign(wire, { code: message.code.slice(0, 64), message: message.message.slice(0, MAX_SYNC_ERROR_MESSAGE_LENGTH) });
      break;
    default: {
      const { t: _t, ...rest } = message as Record<string, unknown>;
      Object.assign(wire, rest);
    }
  }
  const bytes = encodeCanonical(wire);
  if (bytes.length > MAX_SYNC_MESSAGE_BYTES) throw new SyncMessageTooLargeError(bytes.length, MAX_SYNC_MESSAGE_BYTES);
  return bytes;
}

/** A run on the wire: `[seq, prev, [[timestamp, update, signature], …]]`. */
const runValue = (run: EnvelopeRun): unknown[] => [run.seq, run.prev, run.entries.map((e) => [e.timestamp, e.update, e.signature])];

const bad = (message: string) => new SyncMalformedMessageError(message);

function list<T>(value: unknown, field: string, max: number, check: (item: unknown, at: string) => T): T[] {
  if (!Array.isArray(value)) throw bad(`${field}: expected an array`);
  if (value.length > max) throw bad(`${field}: at most ${max} items, got ${value.length}`);
  return value.map((item, i) => check(item, `${field}[${i}]`));
}
function feedId(value: unknown, at: string): string {
  if (!isFeedIdText(value)) throw bad(`${at}: not a feed id`);
  return value;
}
function author(value: unknown, at: string): string {
  if (!isAuthorText(value)) throw bad(`${at}: not a public key`);
  return value;
}
function seq(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(`${at}: expected an unsigned integer`);
  return value;
}
function hash(value: unknown, at: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_BYTES) throw bad(`${at}: expected ${HASH_BYTES} bytes`);
  return value;
}
function blob(value: unknown, at: string, max: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > max) throw bad(`${at}: expected 1..${max} bytes`);
  return value;
}
function bytesOf(value: unknown, at: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) throw bad(`${at}: expected ${length} bytes`);
  return value;
}
/** A compact run's shape and limits; its contents are lib/feeds' to check (openRun). */
function run(value: unknown, at: string, max: number): EnvelopeRun {
  if (!Array.isArray(value) || value.length !== 3) throw bad(`${at}: expected [seq, prev, entries]`);
  const first = seq(value[0], `${at}.seq`);
  if (first < FIRST_SEQ) throw bad(`${at}.seq: sequences start at ${FIRST_SEQ}`);
  const entries = list(value[2], `${at}.entries`, max, (item, where): EnvelopeRunEntry => {
    if (!Array.isArray(item) || item.length !== 3) throw bad(`${where}: expected [timestamp, update, signature]`);
    return {
      timestamp: seq(item[0], `${where}.timestamp`),
      update: blob(item[1], `${where}.update`, MAX_ENVELOPE_BYTES),
      signature: bytesOf(item[2], `${where}.signature`, SIGNATURE_LENGTH),
    };
  });
  if (entries.length === 0) throw bad(`${at}.entries: a run holds at least one envelope`);
  return { seq: first, prev: hash(value[1], `${at}.prev`), entries };
}
function query(message: Record<string, unknown>): FeedQuery {
  const q = {
    feeds: list(message.feeds, 'feeds', MAX_QUERY_ITEMS, feedId),
    authors: list(message.authors, 'authors', MAX_QUERY_ITEMS, author),
  };
  if (q.feeds.length + q.authors.length === 0) throw bad('the query names no feed and no author');
  return q;
}

/**
 * Decodes one message, checking its shape and limits.
 * @throws SyncMessageTooLargeError, SyncMalformedMessageError, SyncUnsupportedVersionError,
 * SyncUnknownMessageError
 */
export function decodeSyncMessage(bytes: Uint8Array, direction: 'request' | 'response'): SyncMessage {
  if (bytes.length > MAX_SYNC_MESSAGE_BYTES) throw new SyncMessageTooLargeError(bytes.length, MAX_SYNC_MESSAGE_BYTES);
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (cause) {
    throw new SyncMalformedMessageError(`sync message ${(cause as CanonicalCborError).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw bad('sync message is not a CBOR map');
  }
  const m = value as Record<string, unknown>;
  if (m.v !== SYNC_WIRE_VERSION) throw new SyncUnsupportedVersionError(m.v);
  const t = m.t;
  const requests = ['heads', 'pull', 'subscribe', 'delegate'];
  const responses = ['heads', 'batch', 'push', 'ok', 'error'];
  if (typeof t !== 'string' || !(direction === 'request' ? requests : responses).includes(t)) throw new SyncUnknownMessageError(t);
  const fields = FIELDS[t === 'heads' ? (direction === 'request' ? 'heads?' : 'heads!') : t]!;
  const extra = Object.keys(m).find((k) => k !== 'v' && k !== 't' && !fields.includes(k));
  if (extra !== undefined) throw bad(`unknown field ${JSON.stringify(extra.slice(0, 32))}`);
  switch (t) {
    case 'heads':
      if (direction === 'request') return { t, ...query(m) };
      return {
        t,
        heads: list(m.heads, 'heads', MAX_HEADS, (item, at) => {
          if (!Array.isArray(item) || item.length !== 3) throw bad(`${at}: expected [feed, seq, hash]`);
          return { feed: feedId(item[0], `${at}.feed`), seq: seq(item[1], `${at}.seq`), hash: hash(item[2], `${at}.hash`) };
        }),
      };
    case 'pull': {
      const limit = seq(m.limit, 'limit');
      if (limit < 1 || limit > PULL_BATCH_ENVELOPES) throw bad(`limit: expected 1..${PULL_BATCH_ENVELOPES}`);
      return { t, feed: feedId(m.feed, 'feed'), after: seq(m.after, 'after'), limit };
    }
    case 'subscribe':
      return { t, ...query(m) };
    case 'delegate':
      return { t, delegation: blob(m.delegation, 'delegation', 4096) };
    case 'batch': {
      let head: { seq: number; hash: Uint8Array } | null = null;
      if (m.head !== null) {
        if (!Array.isArray(m.head) || m.head.length !== 2) throw bad('head: expected [seq, hash] or null');
        head = { seq: seq(m.head[0], 'head.seq'), hash: hash(m.head[1], 'head.hash') };
      }
      return {
        t,
        feed: feedId(m.feed, 'feed'),
        snapshot: m.snapshot === null ? null : blob(m.snapshot, 'snapshot', MAX_SNAPSHOT_BYTES),
        run: m.run === null ? null : run(m.run, 'run', PULL_BATCH_ENVELOPES),
        head,
      };
    }
    case 'push':
      return { t, feed: feedId(m.feed, 'feed'), run: run(m.run, 'run', MAX_PUSH_ENVELOPES) };
    case 'ok':
      return { t };
    default: {
      if (typeof m.code !== 'string' || typeof m.message !== 'string') throw bad('error: expected code and message');
      return { t: 'error', code: m.code.slice(0, 64), message: m.message.slice(0, MAX_SYNC_ERROR_MESSAGE_LENGTH) };
    }
  }
}
