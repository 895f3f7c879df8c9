/**
 * Closed networks (docs/networks.md#closed-networks). Two layers, both keyed by the network
 * secret through HKDF-SHA-256:
 *
 * 1. Noise prologue: every Noise handshake of the network's node mixes in a prologue derived
 *    from the secret, so a non-member cannot finish a handshake on any transport that runs the
 *    configured Noise (TCP, WebSockets, memory, circuit relay).
 * 2. Membership handshake `/p2pb/<networkId>/auth/1.0.0` on every connection, because WebRTC,
 *    WebRTC-direct and WebTransport secure themselves without our Noise. Both sides prove the
 *    secret with HMAC-SHA-256 over both PeerIds and fresh nonces from both sides. Until a
 *    connection has passed, the network's services do not see it: inbound streams wait, then are
 *    reset if it fails; outbound service streams and topology notifications wait likewise; a
 *    connection that fails, or stays silent for AUTH_TIMEOUT, is closed.
 */
import type {
  AbortOptions,
  ComponentLogger,
  Connection,
  Libp2pEvents,
  Logger,
  PeerId,
  Startable,
  Stream,
  StreamHandler,
  Topology,
} from '@libp2p/interface';
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal';
import { lpStream } from '@libp2p/utils';
import type { TypedEventTarget } from 'main-event';
import { concatBytes, randomBytes, utf8 } from '../util/bytes.ts';
import {
  AUTH_MAC_BYTES,
  AUTH_MAC_INFO,
  AUTH_NONCE_BYTES,
  AUTH_TIMEOUT,
  AUTH_TRANSCRIPT_DOMAIN,
  AUTH_WIRE_VERSION,
  MAX_AUTH_MESSAGE_BYTES,
  NETWORK_KEY_SALT,
  NOISE_PROLOGUE_INFO,
  OPEN_NETWORK_PROLOGUE,
} from './constants.ts';
import { MembershipRefusedError } from './errors.ts';
import { assertNetworkId, assertNetworkSecret, authProtocol } from './network-id.ts';

export interface NetworkKeys {
  /** Noise prologue: binds every handshake of the node to this network (and its secret). */
  readonly prologue: Uint8Array;
  /** HMAC-SHA-256 key of the membership handshake; absent for open networks. */
  readonly macKey?: CryptoKey;
}

/**
 * Derives the network's keys. Open network: the prologue is the UTF-8 of
 * "p2pb/open-network/v1 <networkId>" and there is no MAC key. Closed network:
 * HKDF-SHA-256(secret, salt "p2pb/network-secret/v1", info "<purpose> <networkId>") for each of
 * the Noise prologue (32 bytes) and the handshake MAC key (32 bytes).
 */
export async function deriveNetworkKeys(networkId: string, secret?: Uint8Array): Promise<NetworkKeys> {
  assertNetworkId(networkId);
  if (secret === undefined) return { prologue: utf8(`${OPEN_NETWORK_PROLOGUE} ${networkId}`) };
  assertNetworkSecret(secret);
  const ikm = await crypto.subtle.importKey('raw', new Uint8Array(secret), 'HKDF', false, ['deriveBits', 'deriveKey']);
  const params = (info: string): HkdfParams => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: utf8(NETWORK_KEY_SALT) as Uint8Array<ArrayBuffer>,
    info: utf8(`${info} ${networkId}`) as Uint8Array<ArrayBuffer>,
  });
  const [prologue, macKey] = await Promise.all([
    crypto.subtle.deriveBits(params(NOISE_PROLOGUE_INFO), ikm, 256),
    crypto.subtle.deriveKey(params(AUTH_MAC_INFO), ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, [
      'sign',
      'verify',
    ]),
  ]);
  return { prologue: new Uint8Array(prologue), macKey };
}

type Role = 'initiator' | 'responder';
const ROLE_BYTE: Record<Role, number> = { initiator: 1, responder: 2 };

/**
 * What each side MACs: domain, role, network id, both PeerIds (length-prefixed multihashes, the
 * connection's dialler first) and both nonces. Binding the PeerIds means a proof made on one
 * connection is useless on any other; the fresh nonces mean it cannot be replayed.
 */
export function authTranscript(
  role: Role,
  networkId: string,
  initiator: PeerId,
  responder: PeerId,
  initiatorNonce: Uint8Array,
  responderNonce: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const a = initiator.toMultihash().bytes;
  const b = responder.toMultihash().bytes;
  return new Uint8Array(
    concatBytes(
      utf8(AUTH_TRANSCRIPT_DOMAIN),
      Uint8Array.of(0, ROLE_BYTE[role]),
      utf8(networkId),
      Uint8Array.of(0, a.length),
      a,
      Uint8Array.of(b.length),
      b,
      initiatorNonce,
      responderNonce,
    ),
  );
}

interface PendingAuth {
  state: 'pending' | 'member' | 'refused';
  /** The handshake began on this connection (a close before it ends is then a refusal). */
  started?: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: MembershipRefusedError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface MembershipInit {
  networkId: string;
  macKey: CryptoKey;
  /** Called when a connection fails the handshake (for events and logs). */
  onRefused?: (connection: Connection, error: MembershipRefusedError) => void;
  /** Milliseconds a connection has to prove membership (default AUTH_TIMEOUT). */
  timeout?: number;
}

export interface MembershipComponents {
  peerId: PeerId;
  registrar: Registrar;
  events: TypedEventTarget<Libp2pEvents>;
  logger: ComponentLogger;
}

/**
 * Per-connection membership state of one closed network's node. Created before the libp2p node
 * (so the gated services can refer to it), bound to the node by its `service()` factory.
 */
export class Membership {
  readonly networkId: string;
  readonly protocol: string;
  readonly #macKey: CryptoKey;
  readonly #timeout: number;
  readonly #onRefused?: MembershipInit['onRefused'];
  /** By connection id. */
  readonly #connections = new Map<string, PendingAuth>();
  #components?: MembershipComponents;
  #log?: Logger;

  constructor(init: MembershipInit) {
    this.networkId = init.networkId;
    this.protocol = authProtocol(init.networkId);
    this.#macKey = init.macKey;
    this.#timeout = init.timeout ?? AUTH_TIMEOUT;
    this.#onRefused = init.onRefused;
  }

  /** True once `connection` has completed the handshake both ways. */
  isAuthenticated(connection: Connection): boolean {
    return this.#connections.get(connection.id)?.state === 'member';
  }

  /** Resolves when `connection` has proved membership; rejects with MembershipRefusedError. */
  waitFor(connection: Connection, options: AbortOptions = {}): Promise<void> {
    const entry = this.#entry(connection);
    const signal = options.signal;
    if (signal === undefined || entry.state !== 'pending') return entry.promise;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #entry(connection: Connection): PendingAuth {
    const known = this.#connections.get(connection.id);
    if (known !== undefined) return known;
    let resolve!: () => void;
    let reject!: (error: MembershipRefusedError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // observed through waitFor; never an unhandled rejection
    const entry: PendingAuth = { state: 'pending', promise, resolve, reject };
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#fail(connection, new MembershipRefusedError(`no membership proof within ${this.#timeout} ms`));
    }, this.#timeout);
    this.#connections.set(connection.id, entry);
    return entry;
  }

  #succeed(connection: Connection): void {
    const entry = this.#entry(connection);
    if (entry.state !== 'pending') return;
    entry.state = 'member';
    clearTimeout(entry.timer);
    this.#log?.('%p proved membership of %s', connection.remotePeer, this.networkId);
    entry.resolve();
  }

  /** `report`: tell onRefused (not for a connection that merely closed before it finished). */
  #fail(connection: Connection, error: MembershipRefusedError, report = true): void {
    const entry = this.#entry(connection);
    if (entry.state !== 'pending') return;
    entry.state = 'refused';
    clearTimeout(entry.timer);
    this.#log?.('refusing %p on %s: %s', connection.remotePeer, this.networkId, error.message);
    entry.reject(error);
    if (report) this.#onRefused?.(connection, error);
    if (connection.status === 'open') connection.abort(error);
    else this.#connections.delete(connection.id); // its close event has passed (or will find nothing)
  }

  #forget(connection: Connection): void {
    const entry = this.#connections.get(connection.id);
    if (entry === undefined) return;
    if (entry.state === 'pending') {
      const error = new MembershipRefusedError('connection closed before it proved membership');
      this.#fail(connection, error, entry.started === true);
    }
    clearTimeout(entry.timer);
    this.#connections.delete(connection.id);
  }

  async #mac(role: Role, connection: Connection, initiatorNonce: Uint8Array, responderNonce: Uint8Array) {
    const self = this.#components!.peerId;
    const remote = connection.remotePeer;
    // The connection's dialler is the handshake's initiator, whichever side is computing.
    const [initiator, responder] = connection.direction === 'outbound' ? [self, remote] : [remote, self];
    const data = authTranscript(role, this.networkId, initiator, responder, initiatorNonce, responderNonce);
    return { data, mac: new Uint8Array(await crypto.subtle.sign('HMAC', this.#macKey, data)) };
  }

  async #verify(role: Role, connection: Connection, nonces: [Uint8Array, Uint8Array], mac: Uint8Array) {
    const { data } = await this.#mac(role, connection, nonces[0], nonces[1]);
    return crypto.subtle.verify('HMAC', this.#macKey, new Uint8Array(mac), data);
  }

  /** The dialling side: hello(nonce) → (nonce, MAC) → MAC → ack. */
  async #initiate(connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.#timeout);
    let stream: Stream | undefined;
    try {
      stream = await connection.newStream(this.protocol, { signal, runOnLimitedConnection: true });
      const lp = lpStream(stream, { maxDataLength: MAX_AUTH_MESSAGE_BYTES });
      const initiatorNonce = randomBytes(AUTH_NONCE_BYTES);
      this.#entry(connection).started = true;
      await lp.write(concatBytes(Uint8Array.of(AUTH_WIRE_VERSION), initiatorNonce), { signal });
      const reply = (await lp.read({ signal })).subarray();
      if (reply.length !== AUTH_NONCE_BYTES + AUTH_MAC_BYTES) throw new MembershipRefusedError('malformed reply');
      const responderNonce = reply.slice(0, AUTH_NONCE_BYTES);
      const ok = await this.#verify('responder', connection, [initiatorNonce, responderNonce], reply.slice(AUTH_NONCE_BYTES));
      if (!ok) throw new MembershipRefusedError('the peer did not prove it holds the network secret');
      const { mac } = await this.#mac('initiator', connection, initiatorNonce, responderNonce);
      await lp.write(mac, { signal });
      const ack = (await lp.read({ signal })).subarray();
      if (ack.length !== 1 || ack[0] !== AUTH_WIRE_VERSION) throw new MembershipRefusedError('the peer refused our proof');
      await stream.close({ signal }).catch(() => {});
      this.#succeed(connection);
    } catch (cause) {
      stream?.abort(cause instanceof Error ? cause : new Error(String(cause)));
      this.#fail(
        connection,
        cause instanceof MembershipRefusedError
          ? cause
          : new MembershipRefusedError(`membership handshake failed: ${(cause as Error)?.message ?? cause}`, { cause }),
      );
    }
  }

  /** The dialled side. */
  async #respond(stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.#timeout);
    try {
      if (connection.direction !== 'inbound') throw new MembershipRefusedError('only the dialled side answers');
      const lp = lpStream(stream, { maxDataLength: MAX_AUTH_MESSAGE_BYTES });
      const hello = (await lp.read({ signal })).subarray();
      if (hello.length !== 1 + AUTH_NONCE_BYTES || hello[0] !== AUTH_WIRE_VERSION) {
        throw new MembershipRefusedError('malformed or unsupported hello');
      }
      const initiatorNonce = hello.slice(1);
      this.#entry(connection).started = true;
      const responderNonce = randomBytes(AUTH_NONCE_BYTES);
      const { mac } = await this.#mac('responder', connection, initiatorNonce, responderNonce);
      await lp.write(concatBytes(responderNonce, mac), { signal });
      const proof = (await lp.read({ signal })).subarray();
      const ok =
        proof.length === AUTH_MAC_BYTES &&
        (await this.#verify('initiator', connection, [initiatorNonce, responderNonce], proof));
      if (!ok) throw new MembershipRefusedError('the peer did not prove it holds the network secret');
      await lp.write(Uint8Array.of(AUTH_WIRE_VERSION), { signal });
      await stream.close({ signal }).catch(() => {});
      this.#succeed(connection);
    } catch (cause) {
      stream.abort(cause instanceof Error ? cause : new Error(String(cause)));
      this.#fail(
        connection,
        cause instanceof MembershipRefusedError
          ? cause
          : new MembershipRefusedError(`membership handshake failed: ${(cause as Error)?.message ?? cause}`, { cause }),
      );
    }
  }

  /** The libp2p service that runs the handshake; add it to the node's services. */
  service() {
    return (components: MembershipComponents): Startable => {
      this.#components = components;
      this.#log = components.logger.forComponent(`p2pb:net:${this.networkId.slice(0, 8)}:auth`);
      const onOpen = (event: CustomEvent<Connection>) => {
        const connection = event.detail;
        this.#entry(connection); // starts the clock
        if (connection.direction === 'outbound') void this.#initiate(connection);
      };
      const onClose = (event: CustomEvent<Connection>) => this.#forget(event.detail);
      return {
        start: async () => {
          await components.registrar.handle(this.protocol, (stream, connection) => this.#respond(stream, connection), {
            runOnLimitedConnection: true,
            maxInboundStreams: 2,
            maxOutboundStreams: 2,
          });
          components.events.addEventListener('connection:open', onOpen);
          components.events.addEventListener('connection:close', onClose);
        },
        stop: async () => {
          components.events.removeEventListener('connection:open', onOpen);
          components.events.removeEventListener('connection:close', onClose);
          await components.registrar.unhandle(this.protocol);
          for (const entry of this.#connections.values()) clearTimeout(entry.timer);
          this.#connections.clear();
        },
      };
    };
  }

  // -------------------------------------------------------------------------------------------
  // Gating the network's services

  /** A stream handler that runs only on connections that proved membership. */
  gateHandler(handler: StreamHandler): StreamHandler {
    return (stream, connection) => {
      if (this.isAuthenticated(connection)) return handler(stream, connection);
      return this.waitFor(connection).then(
        () => handler(stream, connection),
        (error: unknown) => stream.abort(error as Error),
      );
    };
  }

  /** A topology whose onConnect fires only once the connection proved membership. */
  gateTopology(topology: Topology): Topology {
    const onConnect = topology.onConnect;
    if (onConnect === undefined) return topology;
    return {
      ...topology,
      onConnect: (peerId, connection) => {
        if (this.isAuthenticated(connection)) return onConnect.call(topology, peerId, connection);
        this.waitFor(connection).then(
          () => onConnect.call(topology, peerId, connection),
          () => {},
        );
      },
    };
  }
}

/**
 * A view of `registrar` that passes every handler through `wrapHandler` and every topology
 * through `wrapTopology` (libp2p 3.3's `registrar.use` middleware cannot be used for this: its
 * inbound path appends the handler to the stored middleware array on every stream).
 */
export function wrapRegistrar(
  registrar: Registrar,
  wrapHandler: (protocol: string, handler: StreamHandler) => StreamHandler,
  wrapTopology: (topology: Topology) => Topology = (topology) => topology,
): Registrar {
  return {
    getProtocols: () => registrar.getProtocols(),
    handle: (protocol, handler, options) => registrar.handle(protocol, wrapHandler(protocol, handler), options),
    unhandle: (protocol, options) => registrar.unhandle(protocol, options),
    getHandler: (protocol) => registrar.getHandler(protocol),
    use: (protocol, middleware) => registrar.use(protocol, middleware),
    unuse: (protocol) => registrar.unuse(protocol),
    getMiddleware: (protocol) => registrar.getMiddleware(protocol),
    register: (protocol, topology, options) => registrar.register(protocol, wrapTopology(topology), options),
    unregister: (id) => registrar.unregister(id),
    getTopologies: (protocol) => registrar.getTopologies(protocol),
  };
}

/** A view of `connectionManager` whose openStream waits for the connection's membership proof. */
export function gateConnectionManager(connectionManager: ConnectionManager, membership: Membership): ConnectionManager {
  const openStream: ConnectionManager['openStream'] = async (target, protocol, options = {}) => {
    const connection = await connectionManager.openConnection(target, options);
    await membership.waitFor(connection, options);
    return connection.newStream(protocol, options);
  };
  return new Proxy(connectionManager, {
    get(target, property, receiver) {
      if (property === 'openStream') return openStream;
      const member = Reflect.get(target, property, receiver) as unknown;
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member;
    },
  });
}

/**
 * Wraps a libp2p service or transport factory so that it sees a components object in which some
 * components are replaced by wrapped views. Lazily, and once per original: libp2p fills its
 * components in while it builds them.
 */
export function withComponents<C extends object, R>(
  factory: (components: C) => R,
  replace: Partial<Record<string, (original: never) => unknown>>,
): (components: C) => R {
  return (components: C) => {
    const cache = new Map<PropertyKey, { original: unknown; wrapped: unknown }>();
    const view = new Proxy(components, {
      get(target, property, receiver) {
        const original = Reflect.get(target, property, receiver) as unknown;
        const wrap = typeof property === 'string' ? replace[property] : undefined;
        if (wrap === undefined || original == null) return original;
        const hit = cache.get(property);
        if (hit !== undefined && hit.original === original) return hit.wrapped;
        const wrapped = (wrap as (value: unknown) => unknown)(original);
        cache.set(property, { original, wrapped });
        return wrapped;
      },
    });
    return factory(view);
  };
}

/** `withComponents` with the registrar and connection manager gated by `membership`. */
export function gated<C extends object, R>(membership: Membership | undefined, factory: (components: C) => R) {
  if (membership === undefined) return factory;
  return withComponents(factory, {
    registrar: (registrar: Registrar) =>
      wrapRegistrar(
        registrar,
        (_protocol, handler) => membership.gateHandler(handler),
        (topology) => membership.gateTopology(topology),
      ),
    connectionManager: (connectionManager: ConnectionManager) => gateConnectionManager(connectionManager, membership),
  });
}
