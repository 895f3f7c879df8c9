import { MILLISECOND, BYTE, DAY, HOUR, KiB, MINUTE, SECOND } from '../util/time.ts';

// ---------------------------------------------------------------------------------------------
// Network ids and secrets

export { NETWORK_ID_BYTES, NETWORK_ID_PATTERN, NETWORK_ID_TEXT_LENGTH } from '../records/index.ts';

/** A closed network's secret: 32 random bytes, carried in its invite. */
export const NETWORK_SECRET_BYTES = 32 * BYTE;

/** Every protocol of a network is namespaced by its id: /p2pb/<networkId>/<name>/<version>. */
export const PROTOCOL_PREFIX = '/p2pb';
export const DHT_PROTOCOL_NAME = 'kad';
export const DHT_PROTOCOL_VERSION = '1.0.0';
export const AUTH_PROTOCOL_NAME = 'auth';
export const AUTH_PROTOCOL_VERSION = '1.0.0';

// ---------------------------------------------------------------------------------------------
// Closed-network membership (docs/networks.md#closed-networks)

/** HKDF salt for everything derived from a network secret. */
export const NETWORK_KEY_SALT = 'p2pb/network-secret/v1';
/** HKDF info prefixes: "<prefix> <networkId>" gives each network its own keys. */
export const NOISE_PROLOGUE_INFO = 'p2pb/noise-prologue/v1';
export const AUTH_MAC_INFO = 'p2pb/auth-mac/v1';
/** Open networks still bind Noise to the network: prologue = UTF-8 of "<this> <networkId>". */
export const OPEN_NETWORK_PROLOGUE = 'p2pb/open-network/v1';
/** Domain separation for the handshake MACs. */
export const AUTH_TRANSCRIPT_DOMAIN = 'p2pb/auth/v1';
/** First byte of the initiator's hello. */
export const AUTH_WIRE_VERSION = 1;
export const AUTH_NONCE_BYTES = 32 * BYTE;
export const AUTH_MAC_BYTES = 32 * BYTE;
/** Largest handshake message accepted (the longest, nonce + MAC, is 64 bytes). */
export const MAX_AUTH_MESSAGE_BYTES = 128 * BYTE;
/** A connection that has not proved membership this long after opening is closed. */
export const AUTH_TIMEOUT = 10 * SECOND;

// ---------------------------------------------------------------------------------------------
// DHT

/** DHT key namespace of address records: /p2pb-addr/<identity public key text>. */
export const ADDRESS_RECORD_NAMESPACE = 'p2pb-addr';
export const ADDRESS_RECORD_KEY_PREFIX = `/${ADDRESS_RECORD_NAMESPACE}/`;
/** Where kad-dht keeps records in the node's datastore (its default `datastorePrefix` + /record). */
export const DHT_DATASTORE_PREFIX = '/dht';
export const DHT_RECORD_DATASTORE_PREFIX = `${DHT_DATASTORE_PREFIX}/record/`;

/**
 * kad-dht 16 reads inbound messages of up to 4 MiB. Requests we serve are small (the largest is
 * a PUT_VALUE carrying a ≤ 10 KiB record), so an inbound DHT stream is reset once it has
 * delivered more than this many bytes in total.
 */
export const MAX_DHT_INBOUND_STREAM_BYTES = 64 * KiB;
/** Concurrent inbound DHT streams per connection (kad-dht's default is 32). */
export const DHT_MAX_INBOUND_STREAMS = 16;
/** First self-query this soon after start (kad-dht's default, 1 s, delays every first query). */
export const DHT_INITIAL_QUERY_SELF_INTERVAL = 10 * MILLISECOND;

/** Engine settings an invite may carry, their defaults and their allowed ranges. */
export const DEFAULT_DHT_K_BUCKET_SIZE = 20;
export const MIN_DHT_K_BUCKET_SIZE = 2;
export const MAX_DHT_K_BUCKET_SIZE = 64;
export const DEFAULT_DHT_ALPHA = 3;
export const MIN_DHT_ALPHA = 1;
export const MAX_DHT_ALPHA = 16;
export const MIN_DHT_DISJOINT_PATHS = 1;
export const MAX_DHT_DISJOINT_PATHS = 16;

// ---------------------------------------------------------------------------------------------
// Address records in the DHT

/** A suggested lifetime for a device's own address record (the caller signs expiresAt). */
export const DEFAULT_ADDRESS_RECORD_TTL = 1 * DAY;
/** Records that claim to live longer than this from now are refused (limits replay of old ones). */
export const MAX_ADDRESS_RECORD_LIFETIME = 30 * DAY;
/** A published record is put again this often, so peers that joined since hold it too. */
export const REPUBLISH_INTERVAL = 1 * HOUR;
/** When a record is this close to expiring, its publisher asks for a new signature (renew). */
export const RENEW_BEFORE_EXPIRY = 1 * HOUR;
/** After a failed republish or renewal, try again after this long. */
export const REPUBLISH_RETRY_INTERVAL = 1 * MINUTE;
/** A publish gives up waiting for more peers after this long (the record stays stored locally). */
export const PUBLISH_TIMEOUT = 30 * SECOND;
/** A resolve gives up after this long. */
export const RESOLVE_TIMEOUT = 30 * SECOND;
/** A resolve stops querying once this many peers returned a valid copy of the record. */
export const RESOLVE_QUORUM = 3;

// ---------------------------------------------------------------------------------------------
// Connections

/** Dialling one bootstrap peer gives up after this long. */
export const BOOTSTRAP_DIAL_TIMEOUT = 10 * SECOND;
/**
 * libp2p's default (5 inbound connections per second per IP) refuses users behind one NAT and
 * loopback tests; a relay sees many more.
 */
export const INBOUND_CONNECTION_THRESHOLD = 100;
/** Connection caps: a browser keeps few (each WebRTC connection is costly), an always-on node many. */
export const DEVICE_MAX_CONNECTIONS = 64;
export const ALWAYS_ON_MAX_CONNECTIONS = 1024;

/**
 * Concurrent ping streams per connection, each way. libp2p's connection monitor and kad-dht's
 * routing table both ping; @libp2p/ping's default of one outbound stream makes one of them fail,
 * and a failed heartbeat aborts the connection.
 */
export const PING_MAX_STREAMS = 4;

/**
 * libp2p's connection monitor on an always-on node (its defaults: a ping every 10 s, aborting the
 * connection when one takes longer than an adaptive timeout with a 5 s floor). A busy node's event
 * loop stalls for longer than that under CPU load, and every connection it then fails to ping in
 * time is cut, browsers' relay reservations with it. Dead peers are still reaped, within about a
 * minute: the interval is no shorter than the longest timeout, so at most one monitor ping per
 * connection is in flight and kad-dht's pings keep their share of PING_MAX_STREAMS.
 */
export const ALWAYS_ON_PING_INTERVAL = 30 * SECOND;
export const ALWAYS_ON_PING_MIN_TIMEOUT = 20 * SECOND;
export const ALWAYS_ON_PING_MAX_TIMEOUT = 30 * SECOND;

/** Circuit relay v2 server limits on an always-on node. */
export const RELAY_MAX_RESERVATIONS = 512;
export const RELAY_RESERVATION_TTL = 2 * HOUR;
/** A relayed connection carries signalling and small requests; bulk data goes direct. */
export const RELAY_CONNECTION_DURATION_LIMIT = 10 * MINUTE;
export const RELAY_CONNECTION_DATA_LIMIT = 1024 * KiB;
export const RELAY_MAX_INBOUND_HOP_STREAMS = 64;

// ---------------------------------------------------------------------------------------------
// web+p2p: links and invites (docs/invites.md)

export const LINK_SCHEME = 'web+p2p:';
/** The kinds of web+p2p: link, the part right after the scheme: web+p2p:<kind>/<payload>. */
export const LINK_KINDS = ['invite', 'profile', 'list', 'app'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
/** Element 0 of an invite payload. */
export const INVITE_VERSION = 1;
/** Element 1 of an invite payload. */
export const INVITE_TYPE = 'network-invite';
/** Longest web+p2p: link accepted, in characters; checked before anything is decoded. */
export const MAX_LINK_LENGTH = 4 * KiB;
/** Most bootstrap peers in one invite. */
export const MAX_INVITE_BOOTSTRAP_PEERS = 8;
