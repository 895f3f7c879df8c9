/**
 * The always-on node (`p2pb-node`): limits, timeouts and file names, with units.
 * Connection and relay limits of each network's libp2p node are lib/net's
 * (ALWAYS_ON_MAX_CONNECTIONS, RELAY_*, INBOUND_CONNECTION_THRESHOLD).
 */
import { DAY, HOUR, KiB, MILLISECOND, MiB, SECOND } from '../util/time.ts';

// ---------------------------------------------------------------------------------------------
// Data directory (docs/node.md#data-directory)

/** Environment variable naming the data directory; otherwise DEFAULT_DATA_DIR_NAME in $HOME. */
export const DATA_DIR_ENV = 'P2PB_NODE_DATA';
export const DEFAULT_DATA_DIR_NAME = '.p2pb-node';
/** Format version written in every file of the data directory. */
export const DATA_FORMAT_VERSION = 1;
/** `format` field of node.json: tells a p2pb-node data directory from anything else. */
export const DATA_DIR_FORMAT = 'p2pb-node';
export const NODE_FILE = 'node.json';
export const FRONT_DOOR_FILE = 'front-door.json';
export const NETWORKS_DIR = 'networks';
export const NETWORK_FILE_SUFFIX = '.json';
/** Holds the pid of the `run` that owns the directory. */
export const LOCK_FILE = 'run.pid';
/** Files that hold keys or secrets. */
export const SECRET_FILE_MODE = 0o600;
export const DATA_DIR_MODE = 0o700;
/** Largest data-directory file read (a network file is ~1 KiB; the certificate is the bulk). */
export const MAX_DATA_FILE_BYTES = 64 * KiB;
/** A changed networks/ directory is re-read this long after the last change event. */
export const RELOAD_DEBOUNCE = 200 * MILLISECOND;

// ---------------------------------------------------------------------------------------------
// DHT records on disk (docs/node.md#dht-records)

/** Each network's kad-dht records live in a LevelDB database at <data>/dht/<networkId>/. */
export const DHT_STORES_DIR = 'dht';
/**
 * LevelDB sizes per network (classic-level's defaults are 8 MiB of cache, a 4 MiB write buffer
 * and 1000 open files): records are small, and one node may serve a hundred networks or more.
 */
export const DHT_STORE_CACHE_BYTES = 1 * MiB;
export const DHT_STORE_WRITE_BUFFER_BYTES = 1 * MiB;
export const DHT_STORE_MAX_OPEN_FILES = 64;
/**
 * kad-dht stops serving a stored record this long after it received it (its PROVIDERS_VALIDITY);
 * such records are deleted when a store opens. Publishers put theirs again every hour.
 */
export const DHT_RECORD_MAX_AGE = 48 * HOUR;

// ---------------------------------------------------------------------------------------------
// Listening

/** `run` listens on every interface unless told otherwise (--host). */
export const DEFAULT_RUN_HOST = '0.0.0.0';
/** `npm start` and tests listen on loopback only. */
export const LOCAL_HOST = '127.0.0.1';
/** Tries at finding a port that is free for both TCP (WebSockets) and UDP (WebRTC-direct). */
export const PORT_PICK_ATTEMPTS = 32;
/** Networks started at once by `run` (each start binds sockets and derives keys). */
export const START_CONCURRENCY = 4;

/**
 * WebRTC-direct certificate (ECDSA P-256, self-signed). Browsers trust it by the certhash in
 * the multiaddr, not by a CA, so it is made once and kept: invites that name it stay valid.
 */
export const WEBRTC_CERTIFICATE_LIFETIME = 10 * 365 * DAY;

// ---------------------------------------------------------------------------------------------
// Front door: /p2pb/host/1.0.0 (docs/node.md#front-door-protocol)

export const HOST_PROTOCOL = '/p2pb/host/1.0.0';
/** `v` of every host-protocol message. */
export const HOST_PROTOCOL_VERSION = 1;
/** Largest host-protocol message either side reads, refused from its length prefix. */
export const MAX_HOST_MESSAGE_BYTES = 4 * KiB;
/** The front door waits this long for a request once a stream opened. */
export const HOST_READ_TIMEOUT = 10 * SECOND;
/** The front door gives starting a requested network this long. */
export const HOST_CREATE_TIMEOUT = 20 * SECOND;
/** requestHostedNetwork gives up after this long (dial, request and answer). */
export const HOST_REQUEST_TIMEOUT = 30 * SECOND;
/** Concurrent host-protocol streams per connection. */
export const HOST_MAX_INBOUND_STREAMS = 2;
/** The front door's own connection cap (it only answers small requests). */
export const FRONT_DOOR_MAX_CONNECTIONS = 256;
/** Networks browsers may create on an --open node before it answers HOST_FULL. */
export const DEFAULT_MAX_HOSTED_NETWORKS = 100;

// ---------------------------------------------------------------------------------------------
// Shutdown

/** `run` exits 1 if closing every node takes longer than this after SIGINT/SIGTERM. */
export const SHUTDOWN_TIMEOUT = 10 * SECOND;
/** The CLI exits this long after its command finished (lets the last output lines drain). */
export const EXIT_GRACE = 100 * MILLISECOND;
