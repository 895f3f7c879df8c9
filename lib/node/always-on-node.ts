/**
 * The always-on node: relay + bootstrap + DHT server for every network in its data directory,
 * each network its own libp2p node (lib/net) with its own PeerId, port and certificate, plus a
 * front door where browsers ask an --open node to host new networks.
 *
 * The data directory is the source of truth. The running node starts what is in networks/ and
 * follows changes made by other processes (`p2pb-node create|join|leave`, or a hand edit) by
 * watching the directory; SIGHUP (the CLI) or reload() re-reads it too.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { P2pbError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { equalBytes } from '../util/bytes.ts';
import { decodeInvite } from '../net/index.ts';
import { createNetworkNode } from '../net/index.ts';
import { FeedHosting } from './hosting.ts';
import type { NetworkNode, NetworkNodeConfig } from '../net/index.ts';
import {
  announceAddresses,
  interfaceHosts,
  inviteBootstrap,
  isWildcardHost,
  listenAddresses,
  ownInviteAddresses,
} from './addresses.ts';
import type { WebRTCCertificate } from './certificate.ts';
import { HOST_CREATE_TIMEOUT, RELOAD_DEBOUNCE, START_CONCURRENCY } from './constants.ts';
import { DataDir } from './data-dir.ts';
import { openDhtStore } from './dht-store.ts';
import type { DhtStore } from './dht-store.ts';
import type { NetworkEntry, NodeSettings } from './data-dir.ts';
import {
  HostFailedError,
  HostFullError,
  HostNetworkConflictError,
  HostRefusedError,
  NetworkNotFoundError,
} from './errors.ts';
import { FrontDoor } from './front-door.ts';
import { udpPortsUsedInProcess } from './ports.ts';
import type { HostRequestHandler, HostedNetworkRequest } from './host-protocol.ts';
import { nodeLogger, silentSink } from './log.ts';
import { offlineSummary, summarize } from './summary.ts';
import type { NetworkSummary } from './summary.ts';
import type { LogSink } from './log.ts';

export interface AlwaysOnNodeInit {
  /** The data directory (created when missing). */
  dataDir: string;
  /** Settings for this run over the stored ones (the CLI stores what it is given first). */
  settings?: Partial<NodeSettings>;
  /** Run the front door (default true). */
  frontDoor?: boolean;
  /** Follow changes to networks/ made by other processes (default true). */
  watch?: boolean;
  /** Where log lines go (default: nowhere). */
  logSink?: LogSink;
}

/** Details of the events an AlwaysOnNode dispatches (as CustomEvent). */
export interface AlwaysOnNodeEvents {
  'network:started': NetworkSummary;
  'network:stopped': { id: string };
  'network:failed': { id: string; code: string; message: string };
  /** A browser had the front door host a network. */
  'network:hosted': NetworkSummary & { remotePeer: string };
}

interface Running {
  entry: NetworkEntry;
  node: NetworkNode;
  /** The network's DHT records on disk; closed after the node stops. */
  store: DhtStore;
}

/** What, in a network's file, needs the network's node restarted when it changes. */
function fingerprint(entry: NetworkEntry): string {
  return JSON.stringify([
    entry.peerId,
    entry.port,
    entry.name,
    entry.secret === undefined ? null : Array.from(entry.secret),
    entry.bootstrap,
    entry.settings,
    entry.announce,
    entry.certificate.certhash,
  ]);
}

function detail(error: unknown): { code: string; message: string } {
  if (error instanceof P2pbError) return { code: error.code, message: error.message };
  const e = error as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'ERROR', message: String(e?.message ?? error) };
}

function isLocalHost(host: string): boolean {
  return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || host === '::1' || host === 'localhost';
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  });
  await Promise.all(workers);
}

export type { NetworkSummary };

export class AlwaysOnNode extends EventTarget {
  readonly #init: AlwaysOnNodeInit;
  readonly #sink: LogSink;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();
  readonly #failed = new Map<string, string>();
  #dataDir: DataDir | undefined;
  #settings: NodeSettings | undefined;
  #frontDoor: FrontDoor | undefined;
  #unlock: (() => Promise<void>) | undefined;
  #watcher: FSWatcher | undefined;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;
  /** Starts, stops and data-directory edits run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  #started = false;
  #hosting: FeedHosting | undefined;

  constructor(init: AlwaysOnNodeInit) {
    super();
    this.#init = init;
    this.#sink = init.logSink ?? silentSink;
    this.#log = nodeLogger('node', this.#sink);
  }

  get started(): boolean {
    return this.#started;
  }

  get dataDir(): DataDir {
    if (this.#dataDir === undefined) throw new P2pbError('NODE_NOT_RUNNING', 'the always-on node is not started');
    return this.#dataDir;
  }

  get settings(): NodeSettings {
    if (this.#settings === undefined) throw new P2pbError('NODE_NOT_RUNNING', 'the always-on node is not started');
    return this.#settings;
  }

  #emit<K extends keyof AlwaysOnNodeEvents>(type: K, value: AlwaysOnNodeEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail: value }));
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Takes the data directory's run lock, starts the front door and every network in it.
   * A network that cannot start (its port is taken, …) is logged and reported by
   * 'network:failed'; the others run.
   * @throws DataDirLockedError, DataDirInvalidError, UnsupportedDataFormatError, and the front
   * door's start error (PORT_UNAVAILABLE …)
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#started) return;
    const dataDir = await DataDir.open(this.#init.dataDir);
    const unlock = await dataDir.lock();
    try {
      const stored = await dataDir.settings();
      this.#settings = { ...stored, ...Object.fromEntries(Object.entries(this.#init.settings ?? {}).filter(([, v]) => v !== undefined)) };
      this.#dataDir = dataDir;
      this.#unlock = unlock;
      this.#started = true;
      options.signal?.throwIfAborted();
      if (this.#init.frontDoor !== false) {
        const entry = await dataDir.frontDoor(this.settings.host);
        this.#frontDoor = new FrontDoor({
          entry,
          host: this.settings.host,
          announce: this.settings.announce,
          handler: this.#hostHandler,
          log: nodeLogger('front-door', this.#sink),
          rtcConfiguration: this.#rtcConfiguration(),
        });
        await this.#frontDoor.start();
      }
      this.#hosting = new FeedHosting({ dataDir: dataDir.path, log: nodeLogger('hosting', this.#sink) });
      await this.#hosting.start();
      await this.reload(options);
      if (this.#init.watch !== false) this.#watch();
      this.#log.info(`serving ${this.#running.size} network(s) from ${dataDir.path}`, this.settings.open ? '(open node)' : '');
    } catch (error) {
      await this.stop().catch(() => {});
      await unlock().catch(() => {});
      throw error;
    }
  }

  /** Stops the front door and every network, and releases the data directory. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearTimeout(this.#reloadTimer);
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#serial(async () => {
      const stops = [...this.#running.values()].map(async ({ entry, node, store }) => {
        try {
          await this.#hosting?.detach(entry.id);
          await node.stop();
        } catch (error) {
          this.#log.warn('stopping network', entry.id, 'failed', detail(error));
        }
        await store.close().catch((error: unknown) => this.#log.warn('closing the DHT records of', entry.id, 'failed', detail(error)));
        this.#running.delete(entry.id);
        this.#emit('network:stopped', { id: entry.id });
      });
      await Promise.all([...stops, this.#frontDoor?.stop()]);
      this.#frontDoor = undefined;
      await this.#hosting?.stop().catch((error: unknown) => this.#log.warn('stopping hosting failed', detail(error)));
      this.#hosting = undefined;
    });
    await this.#unlock?.();
    this.#unlock = undefined;
    this.#log.info('stopped');
  }

  #watch(): void {
    try {
      this.#watcher = watch(this.dataDir.networksPath, { persistent: false }, () => this.#scheduleReload());
      this.#watcher.on('error', (error) => this.#log.warn('watching networks/ failed; use SIGHUP to reload', detail(error)));
    } catch (error) {
      this.#log.warn('cannot watch networks/; use SIGHUP to reload', detail(error));
    }
  }

  #scheduleReload(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => {
      void this.reload().catch((error: unknown) => this.#log.warn('reload failed', detail(error)));
    }, RELOAD_DEBOUNCE);
  }

  /** Brings the running networks in line with the data directory: starts new, stops removed, restarts changed ones. */
  reload(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#serial(async () => {
      if (!this.#started) return;
      const { entries, problems } = await this.dataDir.listNetworks();
      for (const problem of problems) this.#log.warn('skipping a network file:', detail(problem).message);
      const wanted = new Map(entries.map((entry) => [entry.id, entry]));
      for (const [id, running] of this.#running) {
        const entry = wanted.get(id);
        if (entry === undefined || fingerprint(entry) !== fingerprint(running.entry)) {
          await this.#stopNetwork(id, entry === undefined ? 'left' : 'changed');
        }
      }
      await this.#removeStaleDhtStores();
      const toStart = entries.filter((entry) => !this.#running.has(entry.id));
      await pool(toStart, START_CONCURRENCY, async (entry) => {
        options.signal?.throwIfAborted();
        try {
          await this.#startNetwork(entry, options);
        } catch {
          // logged and reported by #startNetwork
        }
      });
    });
  }

  #rtcConfiguration(): Record<string, unknown> {
    const host = this.settings.host;
    return isWildcardHost(host) ? {} : { bindAddress: host };
  }

  async #startNetwork(entry: NetworkEntry, options: { signal?: AbortSignal } = {}): Promise<NetworkNode> {
    const settings = this.settings;
    // libp2p announces only the `announce` addresses once there are any, so a network with extra
    // addresses of its own (wss behind a proxy) announces its direct ones explicitly too.
    const announceHosts =
      settings.announce.length > 0 || entry.announce.length === 0
        ? settings.announce
        : isWildcardHost(settings.host)
          ? interfaceHosts(settings.host === '::' ? 6 : 4)
          : [settings.host];
    const announced = [...announceAddresses(announceHosts, entry.port), ...entry.announce];
    const store = await openDhtStore(this.dataDir.dhtStorePath(entry.id), { log: this.#log });
    if (store.dropped > 0) this.#log.debug(`network ${entry.id}: dropped ${store.dropped} expired DHT record(s) on start`);
    const config: NetworkNodeConfig & { webRTCDirectCertificate?: WebRTCCertificate } = {
      network: {
        id: entry.id,
        name: entry.name,
        ...(entry.secret === undefined ? {} : { secret: entry.secret }),
        bootstrap: entry.bootstrap,
        settings: entry.settings,
      },
      peerKey: entry.peerKey,
      role: 'always-on',
      clientMode: false,
      relayServer: true,
      listen: listenAddresses(settings.host, entry.port),
      ...(announced.length === 0 ? {} : { announce: announced }),
      transports: { webSockets: true, webRTCDirect: true, webRTC: false, webTransport: false, circuitRelay: true },
      allowLocalAddresses: settings.privateAddresses || isLocalHost(settings.host),
      rtcConfiguration: this.#rtcConfiguration(),
      // Keeps the WebRTC-direct certhash (and so the invites) the same across restarts, once
      // lib/net passes it to webRTCDirect({ certificate }); see docs/node.md.
      webRTCDirectCertificate: entry.certificate,
      // DHT records on disk, so a restart keeps what browsers stored here (dht-store.ts).
      datastore: store.datastore,
      log: nodeLogger(`net:${entry.id.slice(0, 8)}`, this.#sink),
    };
    let node: NetworkNode;
    try {
      try {
        node = await createNetworkNode(config, options);
      } catch (error) {
        // libjuice keeps a WebRTC-direct UDP port bound until the process exits, so a network
        // restarted in this process (its file changed) cannot listen on it again: serve it over
        // WebSockets until the next restart rather than not at all.
        if (!udpPortsUsedInProcess.has(entry.port)) throw error;
        this.#log.warn(
          `network ${entry.id}: WebRTC-direct cannot listen on UDP ${entry.port} again in this process; WebSockets only until p2pb-node restarts`,
        );
        node = await createNetworkNode(
          {
            ...config,
            listen: listenAddresses(settings.host, entry.port).filter((a) => !a.includes('/webrtc-direct')),
            ...(announced.length === 0 ? {} : { announce: announced.filter((a) => !a.includes('/webrtc-direct')) }),
            transports: { ...config.transports, webRTCDirect: false },
          },
          options,
        );
      }
    } catch (error) {
      await store.close().catch(() => {});
      const { code, message } = detail(error);
      if (this.#failed.get(entry.id) !== message) {
        this.#log.error(`network "${entry.name}" (${entry.id}) did not start on port ${entry.port}:`, message);
      }
      this.#failed.set(entry.id, message);
      this.#emit('network:failed', { id: entry.id, code, message });
      throw error;
    }
    this.#failed.delete(entry.id);
    udpPortsUsedInProcess.add(entry.port);
    this.#running.set(entry.id, { entry, node, store });
    // Feed sync (and hosting for identities that delegated here) in this network.
    await this.#hosting?.attach(entry.id, node).catch((error: unknown) => this.#log.warn(`network ${entry.id}: feed sync did not start`, detail(error)));
    const summary = this.#summary(entry);
    const pinned = summary.addresses.some((a) => a.includes(`/certhash/${entry.certificate.certhash}/`));
    if (!pinned && summary.addresses.some((a) => a.includes('/webrtc-direct/'))) {
      this.#log.debug(`network ${entry.id}: WebRTC-direct certificate not pinned by lib/net; its certhash changes on restart`);
    }
    this.#log.info(`network "${entry.name}" (${entry.id}, ${entry.secret ? 'closed' : 'open'}) started as ${entry.peerId}`);
    this.#emit('network:started', summary);
    return node;
  }

  /** Deletes the DHT records of networks that left the data directory (also while this node was down). */
  async #removeStaleDhtStores(): Promise<void> {
    try {
      await this.dataDir.removeStaleDhtStores(new Set(this.#running.keys()));
    } catch (error) {
      this.#log.warn('removing DHT records of removed networks failed', detail(error));
    }
  }

  async #stopNetwork(id: string, reason: string): Promise<void> {
    const running = this.#running.get(id);
    if (running === undefined) return;
    this.#running.delete(id);
    try {
      await this.#hosting?.detach(id);
      await running.node.stop();
    } catch (error) {
      this.#log.warn('stopping network', id, 'failed', detail(error));
    }
    await running.store.close().catch((error: unknown) => this.#log.warn('closing the DHT records of', id, 'failed', detail(error)));
    this.#log.info(`network "${running.entry.name}" (${id}) stopped (${reason})`);
    this.#emit('network:stopped', { id });
  }

  // -------------------------------------------------------------------------------------------
  // Networks

  /** The invite and addresses of a network of the data directory (live ones when it runs). */
  #summary(entry: NetworkEntry): NetworkSummary {
    const running = this.#running.get(entry.id);
    if (running === undefined) return offlineSummary(entry, this.settings);
    const live = running.node.getMultiaddrs().map(String);
    return summarize(entry, live, true, running.node.libp2p.getConnections().length);
  }

  /** Every network of the data directory as this node last read it, running or not. */
  async networks(): Promise<NetworkSummary[]> {
    const { entries } = await this.dataDir.listNetworks();
    return entries.map((entry) => this.#summary(entry));
  }

  /** The running network node of `id` (for tests and tools). */
  networkNode(id: string): NetworkNode | undefined {
    return this.#running.get(id)?.node;
  }

  /** Front-door multiaddrs (ending in /p2p/<front door PeerId>), best first; empty without one. */
  frontDoorAddresses(): string[] {
    return this.#frontDoor?.addresses() ?? [];
  }

  /** Creates a network in the data directory and starts it. */
  createNetwork(
    input: { name: string; closed?: boolean; port?: number },
    options: { signal?: AbortSignal } = {},
  ): Promise<NetworkSummary> {
    return this.#serial(async () => {
      const entry = await this.dataDir.addNetwork({ name: input.name, closed: input.closed === true, origin: 'created', port: input.port });
      await this.#startNetwork(entry, options);
      return this.#summary(entry);
    });
  }

  /** Joins a network from its invite link: adds it to the data directory and starts it. */
  joinNetwork(link: string, options: { signal?: AbortSignal; port?: number } = {}): Promise<NetworkSummary> {
    const invite = decodeInvite(link);
    return this.#serial(async () => {
      const entry = await this.dataDir.addFromInvite(invite, { port: options.port });
      await this.#startNetwork(entry, options);
      return this.#summary(entry);
    });
  }

  /** Stops a network and removes it from the data directory. @throws NetworkNotFoundError */
  leaveNetwork(idOrPrefix: string): Promise<void> {
    return this.#serial(async () => {
      const entry = await this.dataDir.getNetwork(idOrPrefix);
      await this.#stopNetwork(entry.id, 'left');
      await this.dataDir.removeNetwork(entry.id);
      await this.#removeStaleDhtStores();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Front door

  readonly #hostHandler: HostRequestHandler = (request, context) =>
    this.#serial(async () => {
      if (!this.#started) throw new HostFailedError('the node is stopping');
      if (!this.settings.open) throw new HostRefusedError();
      const existing = await this.dataDir.getNetwork(request.networkId).catch((error: unknown) => {
        if (error instanceof NetworkNotFoundError) return undefined;
        throw error;
      });
      if (existing !== undefined) {
        if (!sameNetwork(existing, request)) throw new HostNetworkConflictError(request.networkId);
        if (!this.#running.has(existing.id)) await this.#startNetwork(existing, { signal: context.signal });
        return { bootstrap: this.#ownBootstrap(existing), created: false };
      }
      const { entries } = await this.dataDir.listNetworks();
      const hosted = entries.filter((entry) => entry.origin === 'hosted').length;
      if (hosted >= this.settings.maxHostedNetworks) throw new HostFullError(this.settings.maxHostedNetworks);
      const entry = await this.dataDir.addNetwork({
        id: request.networkId,
        name: request.name,
        ...(request.secret === undefined ? {} : { secret: request.secret }),
        settings: request.settings ?? {},
        origin: 'hosted',
      });
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(HOST_CREATE_TIMEOUT)]);
      try {
        await this.#startNetwork(entry, { signal });
      } catch (error) {
        await this.dataDir.removeNetwork(entry.id).catch(() => {});
        throw new HostFailedError(`could not start the network: ${detail(error).message}`, { cause: error });
      }
      const summary = this.#summary(entry);
      this.#log.info(`front door: ${context.remotePeer} had network "${entry.name}" (${entry.id}) hosted here`);
      this.#emit('network:hosted', { ...summary, remotePeer: context.remotePeer });
      return { bootstrap: this.#ownBootstrap(entry), created: true };
    });

  #ownBootstrap(entry: NetworkEntry): string[] {
    return inviteBootstrap(ownInviteAddresses(this.#summary(entry).addresses, entry.peerId), []);
  }
}

function sameNetwork(entry: NetworkEntry, request: HostedNetworkRequest): boolean {
  if (entry.name !== request.name) return false;
  if (entry.secret === undefined || request.secret === undefined) return entry.secret === request.secret;
  return equalBytes(entry.secret, request.secret);
}
