/**
 * Delegated hosting on the always-on node: an identity signs "host my feeds in network N" to
 * this node's PeerId there; the node follows that identity (push subscription to its devices,
 * caught up on every reconnect), keeps the feeds on disk (never evicted) and serves them to
 * anyone in the network. A signed revocation — or the delegation running out — ends it. What
 * passes by otherwise is cached and re-served like in a browser.
 *
 * State: <data>/feeds/ (FileFeedStore, LevelDB) and <data>/hosting.json (the newest delegation
 * or revocation per identity and network, so an old delegation cannot be replayed).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from '@libp2p/interface';
import { encodePublicKey } from '../identity/index.ts';
import type { NetworkNode } from '../net/node.ts';
import { decodeHostingDelegation, type HostingDelegation } from '../records/index.ts';
import { FileFeedStore } from '../store/file.ts';
import { FeedLibrary } from '../sync/library.ts';
import { FeedSync, type Follow } from '../sync/sync.ts';
import { DelegationRefusedError } from '../sync/errors.ts';
import { fromBase64url, toBase64url } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { writeJsonAtomic } from './data-dir.ts';

export const HOSTING_FILE = 'hosting.json';
export const FEEDS_DIR = 'feeds';
const HOSTING_FORMAT_VERSION = 1;
/** Identities one node hosts at most (across networks). */
export const MAX_HOSTED_IDENTITIES = 10_000;

interface Delegated {
  delegation: HostingDelegation;
}

const key = (networkId: string, author: string) => `${networkId}/${author}`;

export interface HostingInit {
  dataDir: string;
  log: Logger;
  now?: () => number;
  /** Bytes of others' feeds cached (not hosted) on disk. */
  cacheLimitBytes?: number;
}

export class FeedHosting {
  readonly #init: HostingInit;
  readonly #now: () => number;
  readonly #delegations = new Map<string, Delegated>();
  readonly #networks = new Map<string, { node: NetworkNode; sync: FeedSync; follows: Map<string, Follow>; seen: Set<string> }>();
  #store: FileFeedStore | undefined;
  #library: FeedLibrary | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(init: HostingInit) {
    this.#init = init;
    this.#now = init.now ?? Date.now;
  }

  get library(): FeedLibrary {
    if (!this.#library) throw new P2pbError('HOSTING_NOT_STARTED', 'hosting has not started');
    return this.#library;
  }

  async start(): Promise<void> {
    this.#store = new FileFeedStore(path.join(this.#init.dataDir, FEEDS_DIR), {
      ...(this.#init.cacheLimitBytes === undefined ? {} : { cacheLimitBytes: this.#init.cacheLimitBytes }),
    });
    await this.#store.start();
    this.#library = new FeedLibrary({
      store: this.#store,
      log: this.#init.log,
      signerFor: () => undefined,
      keeps: (author) => [...this.#delegations.values()].some((d) => this.#active(d) && encodePublicKey(d.delegation.publicKey) === author),
    });
    let stored: { version: number; delegations: string[] } | undefined;
    try {
      stored = JSON.parse(await readFile(path.join(this.#init.dataDir, HOSTING_FILE), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException)?.code !== 'ENOENT') this.#init.log.warn('hosting.json unreadable; starting without delegations', error);
    }
    for (const text of stored?.delegations ?? []) {
      try {
        const delegation = await decodeHostingDelegation(fromBase64url(text));
        this.#delegations.set(key(delegation.networkId, encodePublicKey(delegation.publicKey)), { delegation });
      } catch (error) {
        this.#init.log.warn('dropped an unreadable delegation from hosting.json', (error as P2pbError)?.code ?? error);
      }
    }
  }

  async stop(): Promise<void> {
    for (const id of [...this.#networks.keys()]) await this.detach(id);
    await this.#saving;
    await this.#library?.close();
    await this.#store?.stop();
  }

  #active(d: Delegated): boolean {
    return d.delegation.action === 'host' && d.delegation.expiresAt > this.#now();
  }

  /** Identities hosted in `networkId` right now. */
  hosted(networkId: string): string[] {
    return [...this.#delegations.values()]
      .filter((d) => d.delegation.networkId === networkId && this.#active(d))
      .map((d) => encodePublicKey(d.delegation.publicKey));
  }

  /** Serves sync in this network's node, and follows the identities hosted in it. */
  async attach(networkId: string, node: NetworkNode): Promise<void> {
    const seen = new Set<string>();
    const sync = new FeedSync({
      node,
      library: this.library,
      log: this.#init.log,
      serves: (feed) => seen.has(feed) || this.hosted(networkId).includes(feed.slice(0, feed.indexOf('/'))),
      received: (feed) => seen.add(feed),
      delegate: (bytes, context) => this.#accept(networkId, node, bytes, context),
    });
    await sync.start();
    const follows = new Map<string, Follow>();
    this.#networks.set(networkId, { node, sync, follows, seen });
    for (const author of this.hosted(networkId)) {
      follows.set(author, sync.follow(author));
      sync.announce(author);
    }
  }

  async detach(networkId: string): Promise<void> {
    const network = this.#networks.get(networkId);
    if (!network) return;
    this.#networks.delete(networkId);
    await network.sync.stop();
  }

  async #accept(
    networkId: string,
    node: NetworkNode,
    bytes: Uint8Array,
    context: { remotePeer: string; connection: Connection },
  ): Promise<void> {
    let delegation: HostingDelegation;
    try {
      delegation = await decodeHostingDelegation(bytes);
    } catch (error) {
      throw new DelegationRefusedError(`not a valid hosting delegation: ${(error as P2pbError)?.code ?? error}`);
    }
    if (delegation.networkId !== networkId) throw new DelegationRefusedError('the delegation is for another network');
    if (delegation.hostPeerId !== node.peerId.toString()) throw new DelegationRefusedError('the delegation names another host');
    if (delegation.expiresAt <= this.#now()) throw new DelegationRefusedError('the delegation has expired');
    const author = encodePublicKey(delegation.publicKey);
    const k = key(networkId, author);
    const existing = this.#delegations.get(k);
    if (existing && delegation.sequence < existing.delegation.sequence) {
      throw new DelegationRefusedError(`a newer delegation (sequence ${existing.delegation.sequence}) is in force`);
    }
    if (existing && delegation.sequence === existing.delegation.sequence && toBase64url(delegation.bytes) !== toBase64url(existing.delegation.bytes)) {
      throw new DelegationRefusedError('a different delegation with this sequence is in force');
    }
    if (!existing && delegation.action === 'host' && this.#delegations.size >= MAX_HOSTED_IDENTITIES) {
      throw new DelegationRefusedError('this node hosts as many identities as it may');
    }
    this.#delegations.set(k, { delegation });
    await this.#save();
    const network = this.#networks.get(networkId);
    if (delegation.action === 'host') {
      this.#init.log.info(`hosting ${author} in ${networkId} until ${new Date(delegation.expiresAt).toISOString()}`);
      if (network && !network.follows.has(author)) {
        network.follows.set(author, network.sync.follow(author, { hint: context.connection.remotePeer }));
      }
      network?.sync.announce(author);
    } else {
      this.#init.log.info(`no longer hosting ${author} in ${networkId} (revoked)`);
      network?.follows.get(author)?.stop();
      network?.follows.delete(author);
      if (!this.#hostedAnywhere(author)) {
        for (const info of await this.library.store.feeds()) {
          if (info.id.startsWith(`${author}/`)) await this.library.store.setOwnership(info.id, 'cached');
        }
      }
    }
  }

  #hostedAnywhere(author: string): boolean {
    return [...this.#delegations.values()].some((d) => this.#active(d) && encodePublicKey(d.delegation.publicKey) === author);
  }

  #save(): Promise<void> {
    const value = { version: HOSTING_FORMAT_VERSION, delegations: [...this.#delegations.values()].map((d) => toBase64url(d.delegation.bytes)) };
    this.#saving = this.#saving.then(() => writeJsonAtomic(path.join(this.#init.dataDir, HOSTING_FILE), value));
    return this.#saving;
  }
}
