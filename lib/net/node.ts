/**
 * One libp2p node per joined network (docs/networks.md): its own PeerId, its own peer store and
 * datastore, its own Kademlia DHT on /p2pb/<networkId>/kad/1.0.0, and nothing shared with the
 * nodes of other networks, so membership in one cannot be seen from another.
 */
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { FaultTolerance } from '@libp2p/interface';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type {
  ComponentLogger,
  Connection,
  ConnectionGater,
  Libp2p,
  PeerId,
  PeerInfo,
  Stream,
  StreamHandler,
} from '@libp2p/interface';
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal';
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht';
import type { KadDHT, KadDHTComponents, QueryEvent } from '@libp2p/kad-dht';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { isPrivate } from '@libp2p/utils';
import { webRTC, webRTCDirect } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { webTransport } from '@libp2p/webtransport';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { Circuit, WebSockets } from '@multiformats/multiaddr-matcher';
import type { Datastore } from 'interface-datastore';
import { createLibp2p } from 'libp2p';
import { P2pbError } from '../util/errors.ts';
import { createLogger } from '../util/log.ts';
import type { Logger } from '../util/log.ts';
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import { compareAddressRecords, decodeAddressRecord } from '../records/index.ts';
import type { AddressRecord } from '../records/index.ts';
import {
  ADDRESS_RECORD_NAMESPACE,
  ALWAYS_ON_MAX_CONNECTIONS,
  ALWAYS_ON_PING_INTERVAL,
  ALWAYS_ON_PING_MAX_TIMEOUT,
  ALWAYS_ON_PING_MIN_TIMEOUT,
  BOOTSTRAP_DIAL_TIMEOUT,
  DEFAULT_DHT_ALPHA,
  DEFAULT_DHT_K_BUCKET_SIZE,
  DEVICE_MAX_CONNECTIONS,
  DHT_INITIAL_QUERY_SELF_INTERVAL,
  DHT_MAX_INBOUND_STREAMS,
  INBOUND_CONNECTION_THRESHOLD,
  MAX_DHT_INBOUND_STREAM_BYTES,
  PING_MAX_STREAMS,
  PUBLISH_TIMEOUT,
  RELAY_CONNECTION_DATA_LIMIT,
  RELAY_CONNECTION_DURATION_LIMIT,
  RELAY_MAX_INBOUND_HOP_STREAMS,
  RELAY_MAX_RESERVATIONS,
  RELAY_RESERVATION_TTL,
  RENEW_BEFORE_EXPIRY,
  REPUBLISH_INTERVAL,
  REPUBLISH_RETRY_INTERVAL,
  RESOLVE_QUORUM,
  RESOLVE_TIMEOUT,
} from './constants.ts';
import {
  addressRecordKey,
  createAddressRecordValidator,
  guardRecordDatastore,
  readStoredRecord,
  selectAddressRecord,
} from './dht-records.ts';
import {
  DhtMessageTooLargeError,
  InvalidNetworkConfigError,
  NodeNotRunningError,
  PeerUnreachableError,
  RecordNotFoundError,
} from './errors.ts';
import type { EngineSettings } from './invite.ts';
import { Membership, deriveNetworkKeys, gateConnectionManager, gated, withComponents, wrapRegistrar } from './membership.ts';
import { assertNetworkId, assertNetworkSecret, dhtProtocol, networkProtocol } from './network-id.ts';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

/** Multicodec `raw`: provider keys are CIDv1(raw, sha2-256(key)). */
const RAW_CODEC = 0x55;

// ---------------------------------------------------------------------------------------------
// Configuration

/** What a node needs to know about its network: what an invite carries. */
export interface NetworkInfo {
  id: string;
  name?: string;
  /** A closed network's 32-byte secret; absent for an open network. */
  secret?: Uint8Array;
  /** Always-on nodes to dial on start, each a multiaddr ending in /p2p/<peerId>. */
  bootstrap?: readonly string[];
  settings?: EngineSettings;
}

export interface TransportSelection {
  /** WebSockets (dial; listen in Node). Default true. */
  webSockets?: boolean;
  /** WebRTC between browsers, signalled over circuit relay. Default: when RTCPeerConnection exists. */
  webRTC?: boolean;
  /** WebRTC-direct (dial; listen in Node). Default true. */
  webRTCDirect?: boolean;
  /** WebTransport, dial only. Default: when the runtime has WebTransport. */
  webTransport?: boolean;
  /** Circuit relay v2 client (dial through relays, reserve on them). Default true. */
  circuitRelay?: boolean;
  /** In-process memory transport, for tests and simulations. Default false. */
  memory?: boolean;
}

/** Overrides for the node's timers, in ms (tests; the defaults are the named constants). */
export interface NodeTiming {
  /** REPUBLISH_INTERVAL */
  republishInterval?: number;
  /** RENEW_BEFORE_EXPIRY */
  renewBeforeExpiry?: number;
  /** REPUBLISH_RETRY_INTERVAL */
  retryInterval?: number;
  /** AUTH_TIMEOUT (closed networks) */
  authTimeout?: number;
}

export interface NetworkNodeConfig {
  network: NetworkInfo;
  /**
   * This device's key for this network, protobuf-encoded (createPeerKey()). The caller stores
   * it, so the node keeps its PeerId across restarts; one key per network, never shared.
   */
  peerKey: Uint8Array;
  /** 'device' (a browser: few connections, DHT mode automatic) or 'always-on' (server, relay). */
  role?: 'device' | 'always-on';
  /** DHT client mode. Default: false for always-on nodes, automatic (kad-dht) for devices. */
  clientMode?: boolean;
  /** Run a circuit relay v2 server. Default: true for always-on nodes. */
  relayServer?: boolean;
  listen?: readonly string[];
  announce?: readonly string[];
  transports?: TransportSelection;
  /**
   * Allow dialling loopback and private addresses and insecure ws:// (tests, LAN), and keep
   * private addresses in DHT peer info. Default false: production rules.
   */
  allowLocalAddresses?: boolean;
  /** ICE servers for WebRTC; default none (libp2p's default would contact public STUN servers). */
  iceServers?: RTCIceServer[];
  /**
   * The WebRTC-direct listener's certificate (PEM key and certificate, and its certhash), kept
   * by an always-on node so its addresses survive restarts. Default: a new one each start.
   */
  webRTCDirectCertificate?: { privateKey: string; pem: string; certhash: string };
  /** Extra RTCConfiguration fields (in Node, for example `bindAddress`). */
  rtcConfiguration?: Record<string, unknown>;
  maxConnections?: number;
  /**
   * Moderation: refuse connections to and from this PeerId (checked on every inbound connection
   * once encrypted, and on every dial). A device's PeerId is tied to an identity by the address
   * records this node resolved (identityOf).
   */
  denyPeer?: (peerId: string) => boolean;
  /** Datastore for the DHT and peer store (an always-on node persists it); default in memory. */
  datastore?: Datastore;
  /** Dial the bootstrap peers when started (default true). */
  bootstrapOnStart?: boolean;
  /** Clock, for record expiry. */
  now?: () => number;
  timing?: NodeTiming;
  log?: Logger;
  /** libp2p's own debug logger. */
  logger?: ComponentLogger;
  /** Start the node before createNetworkNode returns (default true). */
  start?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The node

export interface PublishOptions {
  signal?: AbortSignal;
  /**
   * Asked for a freshly signed record (higher sequence, later expiry) when the current one is
   * within RENEW_BEFORE_EXPIRY of expiring. Without it the same bytes are republished until they
   * expire. The engine holds no identity keys: this goes to the vault.
   */
  renew?: (current: AddressRecord) => Promise<Uint8Array>;
}

export interface PublishResult {
  record: AddressRecord;
  /** Peers that confirmed they stored it (0 when the node knows no peers yet: kept locally). */
  peers: number;
}

export interface ConnectResult {
  connection: Connection;
  peerId: PeerId;
  /** False when the connection runs through a relay. */
  direct: boolean;
  record: AddressRecord;
}

export interface NetworkNodeStatus {
  networkId: string;
  peerId: string;
  running: boolean;
  closed: boolean;
  connections: number;
  dhtPeers: number;
  dhtMode: 'client' | 'server';
  published: number;
}

/** Details of the events a NetworkNode dispatches (as CustomEvent). */
export interface NetworkNodeEvents {
  /** A DHT record was refused (by the validator or the datastore guard). */
  'record-refused': { key: string; code: string; message: string };
  /** A peer was refused: failed the membership handshake, or sent an oversized DHT message. */
  'peer-refused': { peerId: string; code: string; message: string };
  /** A record was (re)published. */
  'record-published': { publicKey: string; sequence: number; peers: number };
  /** Renewing or republishing a record failed (it is retried). */
  'publish-failed': { publicKey: string; code: string; message: string };
}

type Services = {
  identify: unknown;
  ping: unknown;
  dht: KadDHT & { routingTable?: { size: number } };
  membership?: unknown;
  relay?: unknown;
};

interface Published {
  record: AddressRecord;
  renew?: PublishOptions['renew'];
  timer?: ReturnType<typeof setTimeout>;
}

/** A new libp2p peer key (Ed25519), protobuf-encoded: what NetworkNodeConfig.peerKey takes. */
export async function createPeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'));
}

/** The PeerId (text) of a protobuf-encoded peer key. */
export function peerIdOfKey(peerKey: Uint8Array): string {
  return peerIdFromPrivateKey(privateKeyFromProtobuf(peerKey)).toString();
}

function isRelayedAddress(ma: Multiaddr): boolean {
  return Circuit.matches(ma) || ma.toString().includes('/p2p-circuit');
}

/** Browser-to-browser WebRTC: signalled through a relay, but the data flows directly. */
function isWebRTCAddress(ma: Multiaddr): boolean {
  return ma.toString().includes('/webrtc/') || ma.toString().endsWith('/webrtc');
}

function isDirect(connection: Connection): boolean {
  return connection.limits === undefined && (!isRelayedAddress(connection.remoteAddr) || isWebRTCAddress(connection.remoteAddr));
}

function withPeerId(address: string, peerId: string): Multiaddr {
  const ma = multiaddr(address);
  return ma.getComponents().at(-1)?.name === 'p2p' ? ma : ma.encapsulate(`/p2p/${peerId}`);
}

function errorDetail(error: unknown): { code: string; message: string } {
  if (error instanceof P2pbError) return { code: error.code, message: error.message };
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : String(e?.name ?? 'Error'), message: String(e?.message ?? error) };
}

function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

/** Device PeerIds remembered with their identity (oldest forgotten first). */
const MAX_KNOWN_DEVICES = 10_000;

export class NetworkNode extends EventTarget {
  readonly networkId: string;
  readonly name: string | undefined;
  readonly closed: boolean;
  readonly libp2p: Libp2p<Services>;
  readonly #config: NetworkNodeConfig;
  readonly #membership: Membership | undefined;
  readonly #validate: ReturnType<typeof createAddressRecordValidator>;
  readonly #datastore: () => Datastore | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #published = new Map<string, Published>();
  /** PeerId → identity key, for the devices of the address records this node resolved. */
  readonly #devices = new Map<string, string>();
  readonly #timing: Required<Omit<NodeTiming, 'authTimeout'>>;
  #running = false;

  /** Use createNetworkNode. */
  constructor(init: {
    config: NetworkNodeConfig;
    libp2p: Libp2p<Services>;
    membership: Membership | undefined;
    validate: ReturnType<typeof createAddressRecordValidator>;
    datastore: () => Datastore | undefined;
    now: () => number;
    log: Logger;
  }) {
    super();
    this.#config = init.config;
    this.networkId = init.config.network.id;
    this.name = init.config.network.name;
    this.closed = init.config.network.secret !== undefined;
    this.libp2p = init.libp2p;
    this.#membership = init.membership;
    this.#validate = init.validate;
    this.#datastore = init.datastore;
    this.#now = init.now;
    this.#log = init.log;
    this.#timing = {
      republishInterval: init.config.timing?.republishInterval ?? REPUBLISH_INTERVAL,
      renewBeforeExpiry: init.config.timing?.renewBeforeExpiry ?? RENEW_BEFORE_EXPIRY,
      retryInterval: init.config.timing?.retryInterval ?? REPUBLISH_RETRY_INTERVAL,
    };
  }

  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  get running(): boolean {
    return this.#running;
  }

  /** @internal dispatches a typed CustomEvent. */
  emit<K extends keyof NetworkNodeEvents>(type: K, detail: NetworkNodeEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  getMultiaddrs(): Multiaddr[] {
    return this.libp2p.getMultiaddrs();
  }

  status(): NetworkNodeStatus {
    const dht = this.libp2p.services.dht;
    return {
      networkId: this.networkId,
      peerId: this.peerId.toString(),
      running: this.#running,
      closed: this.closed,
      connections: this.libp2p.getConnections().length,
      dhtPeers: dht.routingTable?.size ?? 0,
      dhtMode: dht.getMode(),
      published: this.#published.size,
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.libp2p.start();
    this.#running = true;
    this.#log.info('started', this.peerId.toString(), this.libp2p.getMultiaddrs().map(String));
    if (this.#config.bootstrapOnStart !== false && (this.#config.network.bootstrap?.length ?? 0) > 0) {
      void this.bootstrap().catch((error: unknown) => this.#log.warn('bootstrap failed', error));
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const entry of this.#published.values()) clearTimeout(entry.timer);
    this.#published.clear();
    await this.libp2p.stop();
    this.#log.info('stopped');
  }

  #requireRunning(): void {
    if (!this.#running) throw new NodeNotRunningError();
  }

  /**
   * Dials the network's bootstrap peers (skipping this node itself) and resolves with how many
   * answered. Never throws for an unreachable peer; call again to wake an idle network.
   */
  async bootstrap(options: { signal?: AbortSignal } = {}): Promise<number> {
    this.#requireRunning();
    const self = this.peerId.toString();
    const targets = (this.#config.network.bootstrap ?? []).filter((address) => !address.endsWith(`/p2p/${self}`));
    const results = await Promise.allSettled(
      targets.map(async (address) => {
        const connection = await this.libp2p.dial(multiaddr(address), {
          signal: anySignal(options.signal, AbortSignal.timeout(BOOTSTRAP_DIAL_TIMEOUT)),
        });
        if (this.#membership !== undefined) await this.#membership.waitFor(connection, options);
        return connection;
      }),
    );
    options.signal?.throwIfAborted();
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') this.#log.warn('bootstrap peer unreachable', targets[i], errorDetail(result.reason));
    }
    return results.filter((result) => result.status === 'fulfilled').length;
  }

  /**
   * The checks a DHT node applies before storing `value` under `key` (including the comparison
   * with the stored record), without storing anything. @throws the refusal's named error.
   */
  validateRecord(key: Uint8Array, value: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<AddressRecord> {
    return this.#validate(key, value, options);
  }

  /** The address record this node itself stores for `publicKey`, if any (valid, not expired). */
  async getStoredRecord(
    publicKey: Uint8Array | string,
    options: { signal?: AbortSignal } = {},
  ): Promise<AddressRecord | undefined> {
    const datastore = this.#datastore();
    if (datastore === undefined) return undefined;
    const key = addressRecordKey(typeof publicKey === 'string' ? decodePublicKey(publicKey) : publicKey);
    return readStoredRecord(datastore, key, this.#now(), options);
  }

  /**
   * Validates the record as every DHT node will, stores it locally, puts it to the closest peers,
   * and keeps it fresh: republished every REPUBLISH_INTERVAL, renewed (through `renew`) when
   * RENEW_BEFORE_EXPIRY from expiry, until unpublish() or stop().
   * @throws the validator's named errors (STALE_RECORD when this node holds a newer one, …)
   */
  async publish(bytes: Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    this.#requireRunning();
    const record = await this.#validate(await this.#keyOf(bytes), bytes, options);
    const text = encodePublicKey(record.publicKey);
    const previous = this.#published.get(text);
    if (previous !== undefined) clearTimeout(previous.timer);
    const entry: Published = { record, renew: options.renew ?? previous?.renew };
    this.#published.set(text, entry);
    try {
      const peers = await this.#put(record, options);
      return { record, peers };
    } finally {
      if (this.#published.get(text) === entry) this.#schedule(text, entry);
    }
  }

  /** Stops republishing and renewing the record of `publicKey` (it stays in the DHT until it expires). */
  unpublish(publicKey: Uint8Array | string): void {
    const text = typeof publicKey === 'string' ? encodePublicKey(decodePublicKey(publicKey)) : encodePublicKey(publicKey);
    const entry = this.#published.get(text);
    if (entry !== undefined) clearTimeout(entry.timer);
    this.#published.delete(text);
  }

  async #keyOf(bytes: Uint8Array): Promise<Uint8Array> {
    // The record names its own key; the validator then checks everything else against it.
    return addressRecordKey((await decodeAddressRecord(bytes)).publicKey);
  }

  async #put(record: AddressRecord, options: { signal?: AbortSignal }): Promise<number> {
    const key = addressRecordKey(record.publicKey);
    const signal = anySignal(options.signal, AbortSignal.timeout(PUBLISH_TIMEOUT));
    let peers = 0;
    try {
      for await (const event of this.libp2p.services.dht.put(key, record.bytes, { signal })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') peers++;
      }
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      if (!signal.aborted) throw error;
      // Our own time limit: the record is stored locally and the republish timer tries again.
    }
    this.emit('record-published', { publicKey: encodePublicKey(record.publicKey), sequence: record.sequence, peers });
    return peers;
  }

  #schedule(text: string, entry: Published): void {
    if (!this.#running) return;
    const now = this.#now();
    const { republishInterval, renewBeforeExpiry } = this.#timing;
    const due =
      entry.renew !== undefined
        ? Math.min(now + republishInterval, entry.record.expiresAt - renewBeforeExpiry)
        : Math.min(now + republishInterval, entry.record.expiresAt);
    this.#arm(text, entry, Math.max(0, due - now));
  }

  #arm(text: string, entry: Published, delay: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.#refresh(text, entry), delay);
    unref(entry.timer);
  }

  async #refresh(text: string, entry: Published): Promise<void> {
    if (!this.#running || this.#published.get(text) !== entry) return;
    const now = this.#now();
    try {
      if (entry.renew !== undefined && entry.record.expiresAt - now <= this.#timing.renewBeforeExpiry) {
        const bytes = await entry.renew(entry.record);
        if (!this.#running || this.#published.get(text) !== entry) return;
        await this.publish(bytes, { renew: entry.renew });
        return;
      }
      if (entry.record.expiresAt <= now) {
        this.#published.delete(text);
        return;
      }
      await this.#put(entry.record, {});
      this.#schedule(text, entry);
    } catch (error) {
      if (!this.#running || this.#published.get(text) !== entry) return;
      this.#log.warn('republishing failed; retrying', text, errorDetail(error));
      this.emit('publish-failed', { publicKey: text, ...errorDetail(error) });
      this.#arm(text, entry, this.#timing.retryInterval);
    }
  }

  /**
   * Looks up the address record of `publicKey` in this network and returns the newest valid
   * copy (verified: signature, key, network, expiry). Stops once RESOLVE_QUORUM peers answered.
   * @throws RecordNotFoundError, or the caller's abort reason
   */
  async resolve(publicKey: Uint8Array | string, options: { signal?: AbortSignal } = {}): Promise<AddressRecord> {
    this.#requireRunning();
    const identity = typeof publicKey === 'string' ? decodePublicKey(publicKey) : publicKey;
    const key = addressRecordKey(identity);
    const candidates: Uint8Array[] = [];
    const local = await this.getStoredRecord(identity, options);
    if (local !== undefined) candidates.push(local.bytes);
    const done = new AbortController();
    const signal = anySignal(options.signal, done.signal, AbortSignal.timeout(RESOLVE_TIMEOUT));
    let answered = 0;
    let failure: unknown;
    try {
      for await (const event of this.libp2p.services.dht.get(key, { signal }) as AsyncIterable<QueryEvent>) {
        if (event.name === 'PEER_RESPONSE' && event.record !== undefined) {
          candidates.push(event.record.value);
          if (++answered >= RESOLVE_QUORUM) break;
        } else if (event.name === 'VALUE') {
          candidates.push(event.value);
        }
      }
    } catch (error) {
      // Query errors after values arrived (a peer refusing kad-dht's correction, our own time
      // limit) do not make the values we have less valid.
      failure = error;
    } finally {
      done.abort();
    }
    options.signal?.throwIfAborted();
    let best: AddressRecord | undefined;
    for (const value of candidates) {
      try {
        const record = await this.#validate(key, value, { checkStored: false });
        if (best === undefined || compareAddressRecords(record, best) > 0) best = record;
      } catch {
        // refused copies were reported by the validator
      }
    }
    if (best === undefined) {
      throw new RecordNotFoundError(`no valid address record for ${encodePublicKey(identity)} in network ${this.networkId}`, {
        cause: failure,
      });
    }
    const text = encodePublicKey(identity);
    for (const entry of best.servedBy) if (entry.kind === 'device') this.#devices.set(entry.peerId, text);
    while (this.#devices.size > MAX_KNOWN_DEVICES) this.#devices.delete(this.#devices.keys().next().value!);
    return best;
  }

  /** The identity a device PeerId serves, as far as the address records this node resolved say. */
  identityOf(peerId: string): string | undefined {
    return this.#devices.get(peerId);
  }

  /** Closes every connection to a peer that `deny` now refuses (after a block). */
  async closeDenied(deny: (peerId: string) => boolean): Promise<number> {
    let closed = 0;
    for (const connection of this.libp2p.getConnections()) {
      if (!deny(connection.remotePeer.toString())) continue;
      closed++;
      await connection.close().catch(() => connection.abort(new Error('blocked')));
    }
    return closed;
  }

  /**
   * Resolves `target` (unless given a record) and dials the peers that serve it, in the record's
   * order: for each, direct addresses first, then relayed ones; an existing direct connection is
   * reused. In a closed network the connection has passed the membership handshake.
   * @throws RecordNotFoundError, PeerUnreachableError
   */
  async connect(
    target: Uint8Array | string | AddressRecord,
    options: { signal?: AbortSignal } = {},
  ): Promise<ConnectResult> {
    this.#requireRunning();
    const record = target instanceof Uint8Array || typeof target === 'string' ? await this.resolve(target, options) : target;
    const failures: unknown[] = [];
    for (const entry of record.servedBy) {
      if (entry.peerId === this.peerId.toString()) continue;
      try {
        return { ...(await this.#dialPeer(entry.peerId, entry.multiaddrs, options)), record };
      } catch (error) {
        options.signal?.throwIfAborted();
        failures.push(...((error as { errors?: unknown[] }).errors ?? [error]));
      }
    }
    throw new PeerUnreachableError(
      `none of the ${record.servedBy.length} peers serving ${encodePublicKey(record.publicKey)} could be reached`,
      { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) },
    );
  }

  /**
   * Connects to one peer at the given multiaddrs, as connect() does for each peer of a record:
   * an open direct connection is reused; else direct addresses, then WebRTC through a relay,
   * then the relay itself. For peers known otherwise than by a record (DHT providers).
   * @throws AggregateError of the dial failures
   */
  async connectPeer(peerId: string, multiaddrs: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Omit<ConnectResult, 'record'>> {
    this.#requireRunning();
    return this.#dialPeer(peerId, multiaddrs, options);
  }

  async #dialPeer(peerIdText: string, multiaddrs: readonly string[], options: { signal?: AbortSignal }): Promise<Omit<ConnectResult, 'record'>> {
    const peerId = peerIdFromString(peerIdText);
    const existing = this.libp2p.getConnections(peerId).find((c) => c.status === 'open' && isDirect(c));
    if (existing !== undefined) return { connection: await this.#member(existing, options), peerId, direct: true };
    const addresses = multiaddrs.map((address) => withPeerId(address, peerIdText));
    // Direct addresses first, then WebRTC through a relay (a direct browser-to-browser
    // connection once signalled), and only then the relay itself. Dialled one group at a time:
    // libp2p would otherwise take whichever address answers first, often the relay.
    const groups = [
      addresses.filter((a) => !isRelayedAddress(a)),
      addresses.filter((a) => isRelayedAddress(a) && isWebRTCAddress(a)),
      addresses.filter((a) => isRelayedAddress(a) && !isWebRTCAddress(a)),
    ];
    const failures: unknown[] = [];
    for (const group of groups) {
      if (group.length === 0) continue;
      try {
        const connection = await this.libp2p.dial(group, { signal: options.signal, force: true });
        return { connection: await this.#member(connection, options), peerId, direct: isDirect(connection) };
      } catch (error) {
        options.signal?.throwIfAborted();
        failures.push(error);
      }
    }
    if (addresses.length === 0) {
      try {
        const connection = await this.libp2p.dial(peerId, { signal: options.signal });
        return { connection: await this.#member(connection, options), peerId, direct: isDirect(connection) };
      } catch (error) {
        options.signal?.throwIfAborted();
        failures.push(error);
      }
    }
    throw new AggregateError(failures, `${peerIdText} could not be reached`);
  }

  /**
   * Serves this network's protocol `/p2pb/<networkId>/<name>/<version>`: in a closed network the
   * handler only ever sees streams of connections that proved membership. Returns the protocol.
   */
  async handle(
    name: string,
    version: string,
    handler: StreamHandler,
    options: { maxInboundStreams?: number; maxOutboundStreams?: number } = {},
  ): Promise<string> {
    const protocol = networkProtocol(this.networkId, name, version);
    const gatedHandler = this.#membership === undefined ? handler : this.#membership.gateHandler(handler);
    await this.libp2p.handle(protocol, gatedHandler, { ...options, force: true });
    return protocol;
  }

  /** Opens a stream of `protocol` to `peer` on an existing or new connection that passed the membership proof. */
  async openStream(
    peer: PeerId | Multiaddr | Multiaddr[],
    protocol: string,
    options: { signal?: AbortSignal; maxOutboundStreams?: number } = {},
  ): Promise<Stream> {
    this.#requireRunning();
    const connection = await this.#member(await this.libp2p.dial(peer, { signal: options.signal }), options);
    return connection.newStream(protocol, options);
  }

  /** Announces in this network's DHT that this node holds the value named by `key` (any bytes). */
  async provide(key: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#requireRunning();
    const cid = CID.createV1(RAW_CODEC, await sha256.digest(key));
    for await (const _event of this.libp2p.services.dht.provide(cid, options)) {
      // drain: provide() does its work while iterated
    }
  }

  /** Peers that announced holding `key` in this network (at most `limit`, this node excluded). */
  async findProviders(key: Uint8Array, options: { signal?: AbortSignal; limit?: number } = {}): Promise<PeerInfo[]> {
    this.#requireRunning();
    const cid = CID.createV1(RAW_CODEC, await sha256.digest(key));
    const found = new Map<string, PeerInfo>();
    const limit = options.limit ?? 8;
    const self = this.peerId.toString();
    try {
      for await (const event of this.libp2p.services.dht.findProviders(cid, options)) {
        if (event.name !== 'PROVIDER') continue;
        for (const provider of event.providers) {
          const id = provider.id.toString();
          if (id !== self && !found.has(id)) found.set(id, provider);
        }
        if (found.size >= limit) break;
      }
    } catch (error) {
      options.signal?.throwIfAborted();
      if (found.size === 0) throw error;
    }
    return [...found.values()].slice(0, limit);
  }

  async #member(connection: Connection, options: { signal?: AbortSignal }): Promise<Connection> {
    if (this.#membership !== undefined) await this.#membership.waitFor(connection, options);
    return connection;
  }
}

// ---------------------------------------------------------------------------------------------
// Building the libp2p node

function checkConfig(config: NetworkNodeConfig): void {
  if (typeof config !== 'object' || config === null) throw new InvalidNetworkConfigError('config is required');
  assertNetworkId(config.network?.id);
  if (config.network.secret !== undefined) assertNetworkSecret(config.network.secret);
  if (!(config.peerKey instanceof Uint8Array)) {
    throw new InvalidNetworkConfigError('peerKey must be a protobuf-encoded libp2p private key (createPeerKey())');
  }
  if (config.relayServer === true && config.role !== 'always-on') {
    throw new InvalidNetworkConfigError('only an always-on node runs a relay server');
  }
}

/** A stream handler that resets the stream once it has delivered more than `limit` bytes. */
function capInboundBytes(handler: StreamHandler, limit: number, onExceeded: (error: DhtMessageTooLargeError, connection: Connection) => void): StreamHandler {
  return (stream, connection) => {
    let received = 0;
    const onMessage = (event: { data: { byteLength: number } }) => {
      received += event.data.byteLength;
      if (received <= limit) return;
      stream.removeEventListener('message', onMessage);
      const error = new DhtMessageTooLargeError(received, limit);
      onExceeded(error, connection);
      stream.abort(error);
    };
    // Attached in the same tick as the handler's own reader, so neither misses a byte.
    stream.addEventListener('message', onMessage);
    return handler(stream, connection);
  };
}

/**
 * Builds (and by default starts) the node of one network.
 * @throws InvalidNetworkIdError, InvalidNetworkSecretError, InvalidNetworkConfigError
 */
export async function createNetworkNode(
  config: NetworkNodeConfig,
  options: { signal?: AbortSignal } = {},
): Promise<NetworkNode> {
  checkConfig(config);
  const networkId = config.network.id;
  const role = config.role ?? 'device';
  const now = config.now ?? Date.now;
  const log = config.log ?? createLogger(`net:${networkId.slice(0, 8)}`);
  const privateKey = privateKeyFromProtobuf(config.peerKey);
  const keys = await deriveNetworkKeys(networkId, config.network.secret);
  options.signal?.throwIfAborted();

  let node: NetworkNode | undefined;
  const emit: NetworkNode['emit'] = (type, detail) => node?.emit(type, detail);
  const membership =
    keys.macKey === undefined
      ? undefined
      : new Membership({
          networkId,
          macKey: keys.macKey,
          ...(config.timing?.authTimeout === undefined ? {} : { timeout: config.timing.authTimeout }),
          onRefused: (connection, error) =>
            emit('peer-refused', { peerId: connection.remotePeer.toString(), code: error.code, message: error.message }),
        });

  // kad-dht's datastore, captured when libp2p builds the DHT, so the validator can read the
  // stored record (kad-dht's put handler does not consult the selector).
  let datastore: Datastore | undefined;
  const validate = createAddressRecordValidator({ networkId, datastore: () => datastore, now });
  const dhtValidator = async (key: Uint8Array, value: Uint8Array, validatorOptions?: { signal?: AbortSignal }) => {
    try {
      await validate(key, value, validatorOptions);
    } catch (error) {
      emit('record-refused', { key: new TextDecoder().decode(key), ...errorDetail(error) });
      throw error;
    }
  };
  const allowLocal = config.allowLocalAddresses === true;
  const protocol = dhtProtocol(networkId);
  const clientMode = config.clientMode ?? (role === 'always-on' ? false : undefined);
  const settings = config.network.settings ?? {};
  const dhtFactory = withComponents((components: KadDHTComponents) => {
    datastore = Reflect.get(components, 'datastore') as Datastore; // reads pass straight through the guard
    return kadDHT({
      protocol,
      clientMode,
      kBucketSize: settings.dhtKBucketSize ?? DEFAULT_DHT_K_BUCKET_SIZE,
      alpha: settings.dhtAlpha ?? DEFAULT_DHT_ALPHA,
      ...(settings.dhtDisjointPaths === undefined ? {} : { disjointPaths: settings.dhtDisjointPaths }),
      validators: { [ADDRESS_RECORD_NAMESPACE]: dhtValidator },
      selectors: { [ADDRESS_RECORD_NAMESPACE]: selectAddressRecord },
      peerInfoMapper: allowLocal ? passthroughMapper : removePrivateAddressesMapper,
      maxInboundStreams: DHT_MAX_INBOUND_STREAMS,
      // kad-dht holds every query until its first self-query, which it schedules 1 s after start
      // by default: that second was most of the time it took a browser to join. The self-query
      // itself waits for a first peer, so starting it at once costs nothing.
      initialQuerySelfInterval: DHT_INITIAL_QUERY_SELF_INTERVAL,
      logPrefix: `libp2p:p2pb:${networkId.slice(0, 8)}:dht`,
    })(components);
  }, {
    datastore: (original: Datastore) =>
      guardRecordDatastore(original, {
        now,
        onRefused: (error, key) => emit('record-refused', { key: key.toString(), code: error.code, message: error.message }),
      }),
    registrar: (registrar: Registrar) =>
      wrapRegistrar(
        registrar,
        (_protocol, handler) => {
          const capped = capInboundBytes(handler, MAX_DHT_INBOUND_STREAM_BYTES, (error, connection) =>
            emit('peer-refused', { peerId: connection.remotePeer.toString(), code: error.code, message: error.message }),
          );
          return membership === undefined ? capped : membership.gateHandler(capped);
        },
        (topology) => (membership === undefined ? topology : membership.gateTopology(topology)),
      ),
    ...(membership === undefined
      ? {}
      : { connectionManager: (cm: ConnectionManager) => gateConnectionManager(cm, membership) }),
  });

  const transports = config.transports ?? {};
  const rtcConfiguration = { iceServers: config.iceServers ?? [], ...config.rtcConfiguration } as RTCConfiguration;
  const hasRTC = typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';
  const hasWebTransport = typeof (globalThis as { WebTransport?: unknown }).WebTransport === 'function';
  const transportFactories: Array<(components: never) => unknown> = [];
  if (transports.memory === true) transportFactories.push(memory());
  if (transports.webSockets ?? true) transportFactories.push(webSockets());
  if (transports.webRTCDirect ?? true) {
    transportFactories.push(
      webRTCDirect({
        rtcConfiguration,
        // An always-on node keeps its certificate, so its /certhash/ addresses in invites stay valid.
        ...(config.webRTCDirectCertificate ? { certificate: config.webRTCDirectCertificate } : {}),
      }),
    );
  }
  if (transports.webTransport ?? hasWebTransport) transportFactories.push(webTransport());
  if (transports.circuitRelay ?? true) transportFactories.push(gated(membership, circuitRelayTransport()));
  const useWebRTC = transports.webRTC ?? hasRTC;
  if (useWebRTC) transportFactories.push(gated(membership, webRTC({ rtcConfiguration })));

  const relayServer = config.relayServer ?? role === 'always-on';
  const services: Record<string, (components: never) => unknown> = {
    identify: gated(membership, identify()),
    // libp2p's connection monitor and kad-dht both ping over the same connection; with the
    // default of one outbound ping stream per connection the second one fails, and the monitor
    // then aborts the connection.
    ping: gated(membership, ping({ maxInboundStreams: PING_MAX_STREAMS, maxOutboundStreams: PING_MAX_STREAMS })),
    dht: dhtFactory,
  };
  if (membership !== undefined) services.membership = membership.service();
  if (relayServer) {
    services.relay = gated(
      membership,
      circuitRelayServer({
        reservations: {
          maxReservations: RELAY_MAX_RESERVATIONS,
          reservationTtl: RELAY_RESERVATION_TTL,
          defaultDurationLimit: RELAY_CONNECTION_DURATION_LIMIT,
          defaultDataLimit: BigInt(RELAY_CONNECTION_DATA_LIMIT),
        },
        maxInboundHopStreams: RELAY_MAX_INBOUND_HOP_STREAMS,
      }),
    );
  }

  const denyPeer = config.denyPeer;
  const connectionGater: ConnectionGater = {
    ...(allowLocal ? { denyDialMultiaddr: async () => false } : { denyDialMultiaddr: async (ma) => isPrivate(ma) === true || WebSockets.matches(ma) }),
    ...(denyPeer
      ? {
          denyDialPeer: async (peerId) => denyPeer(peerId.toString()),
          denyInboundEncryptedConnection: async (peerId) => denyPeer(peerId.toString()),
          denyOutboundEncryptedConnection: async (peerId) => denyPeer(peerId.toString()),
          denyInboundUpgradedConnection: async (peerId) => denyPeer(peerId.toString()),
          denyInboundRelayedConnection: async (_relay, remote) => denyPeer(remote.toString()),
        }
      : {}),
  };

  const defaultListen = role === 'always-on' ? [] : ['/p2p-circuit', ...(useWebRTC ? ['/webrtc'] : [])];
  let libp2p: Libp2p<Services>;
  try {
    libp2p = (await createLibp2p({
      start: false,
      privateKey,
      addresses: {
        listen: [...(config.listen ?? defaultListen)],
        ...(config.announce === undefined ? {} : { announce: [...config.announce] }),
      },
      transports: transportFactories as never,
      // A device whose relay is down right now still starts (and finds a relay later); an
      // always-on node that cannot bind its ports must fail loudly.
      ...(role === 'device' ? { transportManager: { faultTolerance: FaultTolerance.NO_FATAL } } : {}),
      connectionEncrypters: [noise({ prologueBytes: keys.prologue })],
      streamMuxers: [yamux()],
      connectionGater,
      connectionManager: {
        maxConnections: config.maxConnections ?? (role === 'always-on' ? ALWAYS_ON_MAX_CONNECTIONS : DEVICE_MAX_CONNECTIONS),
        inboundConnectionThreshold: INBOUND_CONNECTION_THRESHOLD,
      },
      // An always-on node under CPU load misses libp2p's 5 s ping floor and would abort healthy
      // connections (and the relay reservations on them); it still reaps dead ones, just later.
      ...(role === 'always-on'
        ? {
            connectionMonitor: {
              pingInterval: ALWAYS_ON_PING_INTERVAL,
              pingTimeout: { minTimeout: ALWAYS_ON_PING_MIN_TIMEOUT, maxTimeout: ALWAYS_ON_PING_MAX_TIMEOUT },
            },
          }
        : {}),
      ...(config.datastore === undefined ? {} : { datastore: config.datastore }),
      ...(config.logger === undefined ? {} : { logger: config.logger }),
      services: services as never,
    })) as unknown as Libp2p<Services>;
  } catch (cause) {
    throw new InvalidNetworkConfigError(`cannot build the libp2p node: ${(cause as Error)?.message ?? cause}`, { cause });
  }

  node = new NetworkNode({ config, libp2p, membership, validate, datastore: () => datastore, now, log });
  if (config.start !== false) {
    try {
      await node.start();
    } catch (cause) {
      await Promise.resolve(libp2p.stop()).catch(() => {});
      throw new InvalidNetworkConfigError(`cannot start the node: ${(cause as Error)?.message ?? cause}`, { cause });
    }
  }
  return node;
}
