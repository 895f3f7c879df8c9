/**
 * The networks this device is in: one lib/net node each, with its own persisted PeerId, the
 * identity the person chose for it, and that identity's signed address record published and
 * renewed through the vault (the engine never holds an identity key).
 */
import { decodePublicKey } from '../identity/index.ts';
import type { KeyValueStore } from '../kv/index.ts';
import { decodeInvite, encodeInvite, type EngineSettings, type NetworkInvite } from '../net/invite.ts';
import { createNetworkNode, createPeerKey, peerIdOfKey, type NetworkNode, type NetworkNodeConfig } from '../net/node.ts';
import { createAddressRecord, createHostingDelegation, type AddressRecord, type RecordSigner } from '../records/index.ts';
import { peerIdFromString } from '@libp2p/peer-id';
import type { FeedLibrary } from '../sync/library.ts';
import { FeedSync } from '../sync/sync.ts';
import type { ConnectView, NetworkView } from '../protocol/index.ts';
import { fromBase64url, toBase64url } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { DAY, SECOND } from '../util/time.ts';
import type { Signer } from './index.ts';
import { askToHost } from './lobby.ts';
import { createNetworkId, createNetworkSecret } from '../net/network-id.ts';

export const NETWORKS_KEY = 'networks';
export const NETWORKS_VERSION = 1;
/** How long a published address record is valid; renewed well before (lib/net). */
export const ADDRESS_RECORD_TTL = 1 * DAY;
/** How long a joining device waits for a relay address before publishing what it has. */
export const RELAY_ADDRESS_WAIT = 10 * SECOND;

interface StoredNetwork {
  id: string;
  name: string;
  bootstrap: string[];
  settings: EngineSettings;
  secret?: string;
  identity: string;
  peerKey: string;
  joinedAt: number;
  sequence: number;
  /** Always-on nodes this identity delegated hosting to in this network (listed in its record). */
  hosts?: StoredHost[];
}

interface StoredHost {
  peerId: string;
  multiaddrs: string[];
  /** Sequence of the delegation the host accepted (a revocation must be higher). */
  sequence: number;
  expiresAt: number;
}

interface StoredNetworks {
  version: typeof NETWORKS_VERSION;
  networks: StoredNetwork[];
}

/** Hosting could not be set up or ended as asked. */
export class HostingError extends P2pbError {
  constructor(message: string) {
    super('HOSTING_FAILED', message);
  }
}

export class UnknownNetworkError extends P2pbError {
  constructor(id: string) {
    super('UNKNOWN_NETWORK', `Not a member of network ${id.slice(0, 64)}`);
  }
}

export class UnsupportedNetworksVersionError extends P2pbError {
  constructor(version: unknown) {
    super('UNSUPPORTED_STORED_VERSION', `Stored networks have version ${String(version)}, newer than this code knows`);
  }
}

export interface NetworkManagerInit {
  /** Overrides for every node (tests in Node: transports, rtcConfiguration…). */
  node?: Partial<Omit<NetworkNodeConfig, 'network' | 'peerKey'>>;
}

export interface NetworkManagerComponents {
  kv: KeyValueStore;
  signer: Signer;
  log: Logger;
  now: () => number;
  /** The device's feeds: served and synced in every network. */
  library: FeedLibrary;
  /** Moderation: a blocked author's feeds are not served or announced, in any network. */
  isBlocked?: (author: string) => boolean;
}

export interface Member {
  stored: StoredNetwork;
  node?: NetworkNode;
  sync?: FeedSync;
  /** Feeds received in this network: cached here, so re-served here (and only here). */
  seen: Set<string>;
  status: NetworkView['status'];
  /** Settles after the first attempt to publish the address record (whatever its outcome). */
  firstAttempt?: Promise<void>;
}

/** How long a hosting delegation lasts; the device renews it while it runs. */
export const HOSTING_DELEGATION_TTL = 30 * DAY;
/** A network that could not publish (bootstrap down, vault locked) tries again after this… */
export const PUBLISH_RETRY_MIN = 2 * SECOND;
/** …doubling up to this. */
export const PUBLISH_RETRY_MAX = 60 * SECOND;
/** Feeds remembered as seen per network (oldest forgotten first). */
const MAX_SEEN_FEEDS = 10_000;
const seenKey = (networkId: string) => `seen:${networkId}`;

/** Loopback and private addresses: a network whose bootstrap node is local (npm start, a LAN). */
function isLocalAddress(address: string): boolean {
  const host = address.split('/')[2] ?? '';
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|198\.51\.100\.|::1$|localhost$)/.test(host);
}

const hasWebRTC = (): boolean => typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';

export class NetworkManager {
  readonly #init: NetworkManagerInit;
  readonly #c: NetworkManagerComponents;
  readonly #members = new Map<string, Member>();
  #onChange: () => void = () => {};
  readonly #started = new Set<(member: Member) => void>();
  readonly #wakers = new Set<() => void>();
  readonly #seenSaves = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(init: NetworkManagerInit, components: NetworkManagerComponents) {
    this.#init = init;
    this.#c = components;
  }

  /** Called after any change a UI would show (status, peers). */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  /** Called with each member once its node and sync run (again after a restart). */
  onStarted(listener: (member: Member) => void): void {
    this.#started.add(listener);
  }

  members(): Member[] {
    return [...this.#members.values()];
  }

  async start(): Promise<void> {
    const stored = await this.#c.kv.get<StoredNetworks>(NETWORKS_KEY);
    if (stored && stored.version > NETWORKS_VERSION) throw new UnsupportedNetworksVersionError(stored.version);
    for (const network of stored?.networks ?? []) this.#members.set(network.id, { stored: network, seen: new Set(), status: 'joining' });
    await Promise.all([...this.#members.values()].map((member) => this.#run(member)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#members.values()].map((member) => this.#stopMember(member)));
  }

  async #stopMember(member: Member): Promise<void> {
    const pending = this.#seenSaves.get(member.stored.id);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.#seenSaves.delete(member.stored.id);
      await this.#saveSeen(member).catch(() => {});
    }
    await member.sync?.stop();
    await member.node?.stop();
  }

  list(): NetworkView[] {
    return [...this.#members.values()].map((member) => this.#view(member)).sort((a, b) => a.joinedAt - b.joinedAt);
  }

  node(id: string): NetworkNode | undefined {
    return this.#members.get(id)?.node;
  }

  async join(link: string, identity: string): Promise<NetworkView> {
    const invite = decodeInvite(link);
    decodePublicKey(identity);
    const existing = this.#members.get(invite.networkId);
    if (existing) return this.#view(existing);
    const stored: StoredNetwork = {
      id: invite.networkId,
      name: invite.name,
      bootstrap: [...invite.bootstrap],
      settings: { ...invite.settings },
      ...(invite.secret ? { secret: toBase64url(invite.secret) } : {}),
      identity,
      peerKey: toBase64url(await createPeerKey()),
      joinedAt: this.#c.now(),
      sequence: 0,
    };
    const member: Member = { stored, seen: new Set(), status: 'joining' };
    this.#members.set(stored.id, member);
    try {
      await this.#save();
    } catch (err) {
      this.#members.delete(stored.id);
      throw err;
    }
    await this.#run(member);
    return this.#view(member);
  }

  /**
   * Creates a network hosted by the always-on node whose front door is `host` (open community
   * nodes accept; others refuse with a named error), then joins it as `identity`.
   */
  async create(input: { name: string; host: string; identity: string; closed: boolean }, options: { signal?: AbortSignal } = {}): Promise<NetworkView> {
    decodePublicKey(input.identity);
    const networkId = createNetworkId();
    const secret = input.closed ? createNetworkSecret() : undefined;
    const hosted = await askToHost(
      input.host,
      { networkId, name: input.name, ...(secret ? { secret } : {}) },
      { allowLocalAddresses: isLocalAddress(input.host), ...options },
    );
    const link = encodeInvite({ networkId, name: input.name, bootstrap: hosted.bootstrap, ...(secret ? { secret } : {}) });
    return this.join(link, input.identity);
  }

  /**
   * Resolves `publicKey` in network `id` and connects to where it is served, browser to browser
   * over WebRTC when the record offers it (signalled through the relay), else directly, else
   * through the relay.
   */
  async connect(id: string, publicKey: string, options: { signal?: AbortSignal } = {}): Promise<ConnectView> {
    const member = this.#members.get(id);
    if (!member?.node) throw new UnknownNetworkError(id);
    const started = this.#c.now();
    const result = await member.node.connect(publicKey, options);
    const remoteAddr = result.connection.remoteAddr.toString();
    return {
      peerId: result.peerId.toString(),
      direct: result.connection.limits === undefined && (!remoteAddr.includes('/p2p-circuit') || remoteAddr.includes('/webrtc')),
      remoteAddr,
      elapsed: this.#c.now() - started,
    };
  }

  /** Every PeerId this device's node in network `id` has in its peer store. */
  async peers(id: string): Promise<string[]> {
    const node = this.#members.get(id)?.node;
    if (!node) throw new UnknownNetworkError(id);
    return (await node.libp2p.peerStore.all()).map((peer) => peer.id.toString());
  }

  /** Leaves: the node stops and the membership is forgotten; identities and data are untouched. */
  async leave(id: string): Promise<void> {
    const member = this.#members.get(id);
    if (!member) throw new UnknownNetworkError(id);
    this.#members.delete(id);
    await this.#save();
    await this.#stopMember(member);
    this.#onChange();
  }

  /**
   * Delegates hosting of this network's identity's feeds to the network's always-on node (its
   * first bootstrap peer, or `hostPeerId`): signs a delegation through the vault, has the host
   * accept it (it then follows and serves the feeds), and republishes the address record
   * listing the host. The device keeps everything it had.
   */
  async delegate(id: string, options: { hostPeerId?: string; signal?: AbortSignal } = {}): Promise<NetworkView> {
    const member = this.#members.get(id);
    if (!member?.node || !member.sync) throw new UnknownNetworkError(id);
    const { stored } = member;
    const address = stored.bootstrap.find((a) => options.hostPeerId === undefined || a.endsWith(`/p2p/${options.hostPeerId}`));
    const hostPeerId = options.hostPeerId ?? address?.slice(address.lastIndexOf('/p2p/') + 5);
    if (!hostPeerId) throw new HostingError('this network names no always-on node to host on');
    const sequence = Math.max((stored.hosts ?? []).reduce((m, h) => Math.max(m, h.sequence), 0) + 1, this.#c.now());
    const expiresAt = this.#c.now() + HOSTING_DELEGATION_TTL;
    const delegation = await this.#signDelegation(stored, hostPeerId, 'host', sequence, expiresAt);
    await member.sync.delegate(peerIdFromString(hostPeerId), delegation, options.signal);
    const multiaddrs = stored.bootstrap.filter((a) => a.endsWith(`/p2p/${hostPeerId}`) && !a.includes('/p2p-circuit'));
    stored.hosts = [...(stored.hosts ?? []).filter((h) => h.peerId !== hostPeerId), { peerId: hostPeerId, multiaddrs, sequence, expiresAt }];
    await this.#save();
    await this.#republish(member);
    return this.#view(member);
  }

  /** Ends a delegation: tells the host (when reachable) and republishes the record without it. */
  async revoke(id: string, hostPeerId: string, options: { signal?: AbortSignal } = {}): Promise<NetworkView> {
    const member = this.#members.get(id);
    if (!member) throw new UnknownNetworkError(id);
    const { stored } = member;
    const host = (stored.hosts ?? []).find((h) => h.peerId === hostPeerId);
    if (!host) throw new HostingError(`${hostPeerId} does not host this identity here`);
    stored.hosts = (stored.hosts ?? []).filter((h) => h.peerId !== hostPeerId);
    await this.#save();
    if (member.node && member.sync) {
      await this.#republish(member);
      try {
        const revocation = await this.#signDelegation(stored, hostPeerId, 'revoke', Math.max(host.sequence + 1, this.#c.now()), this.#c.now() + HOSTING_DELEGATION_TTL);
        await member.sync.delegate(peerIdFromString(hostPeerId), revocation, options.signal);
      } catch (error) {
        // The new record no longer lists the host, so readers stop going there; the host's own
        // delegation runs out at its expiry.
        this.#c.log.warn('the host did not take the revocation', (error as P2pbError)?.code ?? error);
      }
    }
    return this.#view(member);
  }

  async #signDelegation(stored: StoredNetwork, hostPeerId: string, action: 'host' | 'revoke', sequence: number, expiresAt: number): Promise<Uint8Array> {
    const identity = stored.identity;
    return createHostingDelegation({
      signer: { publicKey: decodePublicKey(identity), sign: (context, message) => this.#c.signer.sign(identity, context, message) },
      networkId: stored.id,
      hostPeerId,
      action,
      sequence,
      expiresAt,
    });
  }

  async #republish(member: Member): Promise<void> {
    const node = member.node!;
    const record = await this.#signRecord(member);
    await node.publish(record, { renew: () => this.#signRecord(member) });
    this.#onChange();
  }

  /** Tells the network's DHT which authors' feeds this device holds and serves there. */
  async #announceHeld(member: Member): Promise<void> {
    const identity = member.stored.identity;
    if ((await this.#c.library.heads({ feeds: [], authors: [identity] })).length > 0) member.sync?.announce(identity);
    for (const feed of member.seen) member.sync?.announce(feed.slice(0, feed.indexOf('/')));
  }

  #markSeen(member: Member, feed: string): void {
    if (member.seen.has(feed)) return;
    member.seen.add(feed);
    if (member.seen.size > MAX_SEEN_FEEDS) member.seen.delete(member.seen.values().next().value!);
    if (this.#seenSaves.has(member.stored.id)) return;
    this.#seenSaves.set(
      member.stored.id,
      setTimeout(() => {
        this.#seenSaves.delete(member.stored.id);
        this.#saveSeen(member).catch((error: unknown) => this.#c.log.warn('could not save seen feeds', error));
      }, SECOND),
    );
  }

  #saveSeen(member: Member): Promise<void> {
    return this.#c.kv.set(seenKey(member.stored.id), [...member.seen]);
  }

  async #save(): Promise<void> {
    const value: StoredNetworks = { version: NETWORKS_VERSION, networks: [...this.#members.values()].map((m) => m.stored) };
    await this.#c.kv.set(NETWORKS_KEY, value);
  }

  #invite(stored: StoredNetwork): NetworkInvite {
    return decodeInvite(this.#inviteLink(stored));
  }

  #inviteLink(stored: StoredNetwork): string {
    return encodeInvite({
      networkId: stored.id,
      name: stored.name,
      bootstrap: stored.bootstrap,
      settings: stored.settings,
      ...(stored.secret ? { secret: fromBase64url(stored.secret) } : {}),
    });
  }

  #view(member: Member): NetworkView {
    const { stored } = member;
    return {
      id: stored.id,
      name: stored.name,
      identity: stored.identity,
      closed: stored.secret !== undefined,
      status: member.status,
      peers: member.node?.running ? member.node.libp2p.getConnections().length : 0,
      bootstrap: stored.bootstrap,
      invite: this.#inviteLink(stored),
      peerId: peerIdOfKey(fromBase64url(stored.peerKey)),
      joinedAt: stored.joinedAt,
      hosts: (stored.hosts ?? []).map((h) => h.peerId),
    };
  }

  /** Starts the member's node, reaches a bootstrap peer, and publishes its address record. */
  async #run(member: Member): Promise<void> {
    const { stored } = member;
    const invite = this.#invite(stored);
    try {
      const node = await createNetworkNode({
        network: { id: invite.networkId, name: invite.name, bootstrap: invite.bootstrap, settings: invite.settings, ...(invite.secret ? { secret: invite.secret } : {}) },
        peerKey: fromBase64url(stored.peerKey),
        role: 'device',
        // Reserve a relay slot on the bootstrap nodes' WebSocket addresses at once, instead of
        // waiting about a second for libp2p to discover them as relays; '/p2p-circuit' keeps
        // discovery on for when they are down. (Firefox times out reserving over WebRTC-direct.)
        // Accept WebRTC where the runtime has it.
        listen: [
          ...invite.bootstrap.filter((address) => address.includes('/ws/')).map((address) => `${address}/p2p-circuit`),
          '/p2p-circuit',
          ...(hasWebRTC() && this.#init.node?.transports?.webRTC !== false ? ['/webrtc'] : []),
        ],
        allowLocalAddresses: invite.bootstrap.some(isLocalAddress),
        // Moderation: a blocked identity's devices (known from its address record) are refused.
        denyPeer: (peerId) => this.#denied(member, peerId),
        bootstrapOnStart: false,
        log: this.#c.log,
        ...this.#init.node,
      });
      member.node = node;
      const seen = await this.#c.kv.get<string[]>(seenKey(stored.id));
      member.seen = new Set(seen ?? []);
      const identity = stored.identity;
      member.sync = new FeedSync({
        node,
        library: this.#c.library,
        log: this.#c.log,
        serves: (feed) => feed.startsWith(`${identity}/`) || (member.seen.has(feed) && !this.#c.isBlocked?.(feed.slice(0, feed.indexOf('/')))),
        received: (feed) => this.#markSeen(member, feed),
      });
      await member.sync.start();
      const changed = () => this.#onChange();
      node.libp2p.addEventListener('connection:open', changed);
      node.libp2p.addEventListener('connection:close', changed);
      const reached = await node.bootstrap();
      member.status = reached > 0 ? 'joining' : 'offline';
      this.#onChange();
      for (const listener of this.#started) listener(member);
      // Published (and "online") as soon as it can be: the bootstrap node may be down, or the
      // vault locked (after a browser restart) so nothing can be signed yet.
      const first = this.#keepPublished(member, reached > 0);
      await Promise.race([first, member.firstAttempt]);
    } catch (err) {
      member.status = 'offline';
      this.#c.log.warn(`network ${stored.id} could not start`, err);
      this.#onChange();
    }
  }

  #denied(member: Member, peerId: string): boolean {
    const identity = member.node?.identityOf(peerId);
    return identity !== undefined && identity !== member.stored.identity && this.#c.isBlocked?.(identity) === true;
  }

  /** Moderation changed: drop connections to the devices of identities now blocked, in every network. */
  async enforceBlocks(): Promise<void> {
    for (const member of this.#members.values()) {
      if (!member.node?.running) continue;
      const closed = await member.node.closeDenied((peerId) => this.#denied(member, peerId)).catch(() => 0);
      if (closed > 0) this.#c.log.info(`closed ${closed} connection(s) to blocked peers in ${member.stored.id}`);
    }
  }

  /** Tries again at once to publish what could not be (call after the vault unlocks). */
  retry(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  async #keepPublished(member: Member, reached: boolean): Promise<void> {
    let delay = PUBLISH_RETRY_MIN;
    let attempted!: () => void;
    member.firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
    for (;;) {
      const node = member.node;
      if (!node?.running || this.#members.get(member.stored.id) !== member) return;
      try {
        if (!reached && (await node.bootstrap()) === 0) throw new P2pbError('BOOTSTRAP_UNREACHABLE', 'no bootstrap node answered');
        reached = true;
        await this.#publish(member);
        member.status = 'online';
        this.#onChange();
        this.#announceHeld(member).catch((err: unknown) => this.#c.log.warn('could not announce held feeds', err));
        return;
      } catch (err) {
        if (member.status !== 'offline') {
          member.status = 'offline';
          this.#onChange();
        }
        this.#c.log.warn(`network ${member.stored.id}: not published yet (${(err as P2pbError)?.code ?? err}); retrying in ${delay} ms`);
      }
      attempted();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wakers.add(done);
      });
      delay = Math.min(delay * 2, PUBLISH_RETRY_MAX);
    }
  }

  /** Signs (through the vault) and publishes where this identity is served in this network. */
  async #publish(member: Member): Promise<AddressRecord> {
    const node = member.node!;
    await this.#relayAddress(node);
    const record = await this.#signRecord(member);
    const { record: published } = await node.publish(record, { renew: () => this.#signRecord(member) });
    this.#onChange();
    return published;
  }

  async #signRecord(member: Member): Promise<Uint8Array> {
    const { stored } = member;
    const node = member.node!;
    // Sequence: strictly increasing, and at least the clock, so a second device of the same
    // person (which does not know this one's counter) still supersedes older records.
    stored.sequence = Math.max(stored.sequence + 1, this.#c.now());
    await this.#save();
    const identity = stored.identity;
    const signer: RecordSigner = {
      publicKey: decodePublicKey(identity),
      sign: (context, message) => this.#c.signer.sign(identity, context, message),
    };
    return createAddressRecord({
      signer,
      networkId: stored.id,
      servedBy: [
        { kind: 'device', peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map(String) },
        ...(stored.hosts ?? [])
          .filter((host) => host.expiresAt > this.#c.now())
          .map((host) => ({ kind: 'host' as const, peerId: host.peerId, multiaddrs: host.multiaddrs })),
      ],
      sequence: stored.sequence,
      expiresAt: this.#c.now() + ADDRESS_RECORD_TTL,
    });
  }

  /** A device is reachable through a relay reservation: wait for that address (bounded). */
  async #relayAddress(node: NetworkNode): Promise<void> {
    const hasRelay = () => node.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'));
    if (hasRelay()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        node.libp2p.removeEventListener('self:peer:update', check);
        resolve();
      };
      const check = () => hasRelay() && done();
      const timer = setTimeout(() => {
        this.#c.log.warn('no relay address yet; publishing the addresses there are');
        done();
      }, RELAY_ADDRESS_WAIT);
      node.libp2p.addEventListener('self:peer:update', check);
    });
  }
}
