import { KiB, MiB, MINUTE, SECOND } from '../util/time.ts';

/**
 * `/p2pb/<networkId>/sync/2.0.0`: the protocol name part and version. 2.0.0 (wire `v: 2`) sends
 * envelopes as compact runs; 1.0.0 sent each envelope whole and is not spoken any more.
 */
export const SYNC_PROTOCOL_NAME = 'sync';
export const SYNC_PROTOCOL_VERSION = '2.0.0';
/** `v` of every sync message. */
export const SYNC_WIRE_VERSION = 2;

/** Largest sync message (length prefix checked before the body is read): one batch. */
export const MAX_SYNC_MESSAGE_BYTES = 4 * MiB + 64 * KiB;
/** A pull answer carries at most this many envelopes… */
export const PULL_BATCH_ENVELOPES = 256;
/** …and at most this many bytes of envelopes (always at least one envelope). */
export const PULL_BATCH_BYTES = 2 * MiB;
/** Feeds or authors named in one heads/subscribe request. */
export const MAX_QUERY_ITEMS = 256;
/** Heads in one answer (an author may have many feeds; the rest are left off). */
export const MAX_HEADS = 1024;
/** Envelopes in one push message. */
export const MAX_PUSH_ENVELOPES = 64;
/** Longest error message sent. */
export const MAX_SYNC_ERROR_MESSAGE_LENGTH = 512;

/** Inbound sync streams one connection may hold open at once (subscriptions count). */
export const SYNC_MAX_INBOUND_STREAMS = 32;
/** Outbound sync streams to one connection at once. */
export const SYNC_MAX_OUTBOUND_STREAMS = 32;
/** How long a server waits for a request, and a client for an answer. */
export const SYNC_REQUEST_TIMEOUT = 15 * SECOND;
/**
 * How long sending or receiving one pull answer may take: a batch is up to PULL_BATCH_BYTES, and
 * a WebRTC link between two browsers on a busy phone or laptop may move well under 200 KiB/s
 * (4 MiB took 7.5 s between two browsers on 2 loaded cores here; 15 s was sometimes too little).
 */
export const SYNC_TRANSFER_TIMEOUT = 60 * SECOND;
/** A subscriber that cannot keep up is cut off after its push queue holds this many bytes. */
export const MAX_PUSH_QUEUE_BYTES = 8 * MiB;
/** A holder that sent records that do not verify is not subscribed to again for this long. */
export const INVALID_SENDER_PAUSE = 10 * MINUTE;
/** A lost subscription is retried after this, doubling up to SUBSCRIBE_RETRY_MAX. */
export const SUBSCRIBE_RETRY_MIN = 1 * SECOND;
export const SUBSCRIBE_RETRY_MAX = 1 * MINUTE;
/** Pull rounds per catch-up before giving up for now (each is one bounded batch). */
export const MAX_PULL_ROUNDS = 64;
/** Holders tried per feed when looking for it (record peers first, then DHT providers). */
export const MAX_HOLDERS_TRIED = 8;
/** Providers asked for per lookup. */
export const MAX_PROVIDERS = 8;
/** How long a provider lookup may take. */
export const FIND_PROVIDERS_TIMEOUT = 10 * SECOND;
