/**
 * The network engine. Plain TypeScript that runs in the Chrome offscreen document, the Firefox
 * background page and Node alike; built like js-libp2p services: `createEngine(init)(components)`.
 * It holds no private keys: it asks its `signer` (the background's vault) for signatures.
 *
 * It runs the person's networks (lib/net nodes, one per network) through a NetworkManager.
 */
import {
  MAX_RESOLVE_KEYS,
  PROTOCOL_VERSION,
  ProviderError,
  ProviderErrorCode,
  isResolveKeys,
  type EngineMethods,
  type EngineStatus,
  type IdentityView,
} from '../protocol/index.ts';
import type { KeyValueStore } from '../kv/index.ts';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { NetworkManager, type NetworkManagerInit } from './networks.ts';
import { FeedService, type FeedEvent } from './feeds.ts';
import { MemoryFeedStore, type FeedStore } from '../store/index.ts';
import { FeedLibrary } from '../sync/library.ts';
import { fromBase64url, toBase64url } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { decodePublicKey } from '../identity/index.ts';
import { ITEMS_MAP, checkSort } from '../data/items.ts';
import { ModerationService } from './moderation.ts';

export { NetworkManager, UnknownNetworkError, HostingError } from './networks.ts';
export { FeedService, feedEventToWire } from './feeds.ts';
export { ModerationService } from './moderation.ts';

/** IndexedDB databases of the engine (offscreen document on Chrome, background page on Firefox). */
export const ENGINE_DB = 'p2pb-engine';
/** The person's feeds (lib/store). */
export const FEEDS_DB = 'p2pb-feeds';
export type { FeedEvent } from './feeds.ts';

/** Signatures on the engine's behalf, in engine contexts only (address records, later feeds). */
export interface Signer {
  sign(identity: string, context: string, message: Uint8Array): Promise<Uint8Array>;
  identities(): Promise<IdentityView[]>;
}

export interface EngineInit {
  host: EngineStatus['host'];
  networks?: NetworkManagerInit;
}

export interface EngineComponents {
  signer: Signer;
  /** Where the engine keeps its state: IndexedDB in the browser, memory in tests. */
  kv?: KeyValueStore;
  log?: Logger;
  now?: () => number;
  /** Told after any change a UI would show (network status, peers). */
  onChange?: () => void;
  /** The feed store: IndexedDB in the browser, a file store on disk in Node, memory in tests. */
  store?: FeedStore;
  /** Told when a followed or own feed grows. */
  onFeed?: (event: FeedEvent) => void;
}

export interface Engine {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
  readonly networks: NetworkManager;
  readonly feeds: FeedService;
  readonly library: FeedLibrary;
  readonly moderation: ModerationService;
  status(): EngineStatus;
  /** Answers one request from the background; unknown methods are an UNSUPPORTED_METHOD error. */
  handle(method: string, params: unknown): Promise<unknown>;
}

export const createEngine =
  (init: EngineInit) =>
  (components: EngineComponents): Engine => {
    const log = components.log ?? createLogger(`engine:${init.host}`);
    const now = components.now ?? Date.now;
    let startedAt = 0;
    let running = false;
    const kv = components.kv ?? new MemoryKeyValueStore();
    const store = components.store ?? new MemoryFeedStore();
    // The vault signs; the engine only knows which identities exist (refreshed on use).
    let own = new Set<string>();
    const refreshIdentities = async () => {
      const identities = await components.signer.identities();
      const next = new Set(identities.map((i) => i.publicKey));
      const changed = next.size !== own.size || [...next].some((k) => !own.has(k));
      own = next;
      // Each identity's name, signed, in its profile feed: what others resolve its key to.
      for (const identity of identities) {
        if (!identity.statement) continue;
        feeds.publishStatement(identity.publicKey, fromBase64url(identity.statement)).catch((err: unknown) => log.warn('cannot publish the statement of', identity.publicKey, err));
      }
      // The person's identities are always allowed: a new one must not stay hidden by a list.
      if (changed && running) moderation.rebuild();
    };
    const library = new FeedLibrary({
      store,
      log,
      now,
      signerFor: (author) =>
        own.has(author)
          ? { publicKey: decodePublicKey(author), sign: (context, message) => components.signer.sign(author, context, message) }
          : undefined,
      keeps: (author) => own.has(author),
      // Nothing of a key the person blocks is received from a peer (so nothing is re-served).
      checkAuthor: (author) => moderation.check(author),
    });
    const networks = new NetworkManager(init.networks ?? {}, { kv, signer: components.signer, log, now, library, isBlocked: (author) => moderation.isBlocked(author) });
    const feeds = new FeedService(networks, library, kv, log);
    const moderation: ModerationService = new ModerationService({
      kv,
      library,
      networks,
      log,
      now,
      self: () => own,
      followEverywhere: (author, follow) => feeds.followEverywhere(author, follow),
    });
    feeds.setModeration({
      isBlocked: (author) => moderation.isBlocked(author),
      check: (author) => moderation.check(author),
      trustScore: (author) => moderation.view.trustScore(author),
    });
    // A changed view starts and stops follows (a blocked author is not followed; a punch-through
    // follows again), and the popup shows the new state.
    let moderationVersion = 0;
    moderation.onChange(() => {
      moderationVersion++;
      feeds.refresh();
      void networks.enforceBlocks();
      components.onChange?.();
    });
    if (components.onChange) networks.onChange(components.onChange);
    if (components.onFeed) feeds.onEvent(components.onFeed);
    // "Storage full" (and its end) is something the popup shows: tell it when the state flips.
    let storageStatus = 'ok';
    const storageChanged = () => {
      const status = store.state().status;
      if (status === storageStatus) return;
      storageStatus = status;
      components.onChange?.();
    };
    library.onEnvelope(() => storageStatus !== 'ok' && storageChanged());
    const bytesParam = (params: unknown, key: string): Uint8Array => {
      try {
        return fromBase64url(param<string>(params, key, 'string'));
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${key} must be base64url`);
      }
    };
    const param = <T>(params: unknown, key: string, type: 'string' | 'boolean'): T => {
      const value = (params as Record<string, unknown> | null | undefined)?.[key];
      if (typeof value !== type) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${key} must be a ${type}`);
      return value as T;
    };

    const optionalText = (params: unknown, key: string): string | undefined => {
      const value = (params as Record<string, unknown> | null | undefined)?.[key];
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${key} must be a string`);
      return value;
    };

    const status = (): EngineStatus => ({
      running,
      host: init.host,
      startedAt,
      webrtc: typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function',
      protocolVersion: PROTOCOL_VERSION,
      moderation: moderationVersion,
    });

    const handlers: { [M in keyof EngineMethods]: (params: unknown) => Promise<EngineMethods[M]['result']> } = {
      'engine.ping': async () => {
        if (!running) throw new ProviderError(ProviderErrorCode.DISCONNECTED, 'The engine is not running');
        return { ready: true };
      },
      'engine.status': async () => status(),
      'net.list': async () => networks.list(),
      'net.join': async (params) => networks.join(param(params, 'link', 'string'), param(params, 'identity', 'string')),
      'net.create': async (params) =>
        networks.create({
          name: param(params, 'name', 'string'),
          host: param(params, 'host', 'string'),
          identity: param(params, 'identity', 'string'),
          closed: param(params, 'closed', 'boolean'),
        }),
      'net.connect': async (params) => networks.connect(param(params, 'id', 'string'), param(params, 'publicKey', 'string')),
      'net.peers': async (params) => networks.peers(param(params, 'id', 'string')),
      'net.leave': async (params) => {
        await networks.leave(param(params, 'id', 'string'));
        return null;
      },
      'net.retry': async () => {
        networks.retry();
        await refreshIdentities().catch(() => {});
        return null;
      },
      'net.delegate': async (params) => networks.delegate(param(params, 'id', 'string')),
      'net.revoke': async (params) => networks.revoke(param(params, 'id', 'string'), param(params, 'host', 'string')),
      'feed.read': async (params) => {
        const author = param<string>(params, 'author', 'string');
        const name = param<string>(params, 'name', 'string');
        const fresh = (params as { fresh?: unknown } | undefined)?.fresh === true;
        const result = await feeds.read(param(params, 'identity', 'string'), author, name, { fresh });
        return { author, name, seq: result.seq, update: toBase64url(result.update), from: result.from };
      },
      'feed.write': async (params) => {
        const identity = param<string>(params, 'identity', 'string');
        if (!own.has(identity)) await refreshIdentities();
        try {
          const { seq } = await feeds.write(identity, param(params, 'name', 'string'), bytesParam(params, 'update'));
          return { seq };
        } finally {
          storageChanged();
        }
      },
      'feed.follow': async (params) => {
        await feeds.follow(param(params, 'identity', 'string'), param(params, 'author', 'string'));
        return null;
      },
      'feed.unfollow': async (params) => {
        await feeds.unfollow(param(params, 'identity', 'string'), param(params, 'author', 'string'));
        return null;
      },
      'feed.putItem': async (params) => {
        const identity = param<string>(params, 'identity', 'string');
        if (!own.has(identity)) await refreshIdentities();
        const item = (params as { item?: unknown }).item;
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'item must be an object');
        const fields = { ...(item as Record<string, unknown>) };
        if (typeof fields.ts !== 'number') fields.ts = now();
        try {
          const head = await library.transact(identity, param(params, 'name', 'string'), (doc) =>
            doc.getMap(ITEMS_MAP).set(param(params, 'id', 'string'), fields),
          );
          return { seq: head.seq };
        } finally {
          storageChanged();
        }
      },
      'feed.following': async (params) => feeds.following(param(params, 'identity', 'string')),
      'feed.resolve': async (params) => {
        const keys = (params as { keys?: unknown }).keys;
        if (!isResolveKeys(keys)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `keys must be an array of 1 to ${MAX_RESOLVE_KEYS} public keys`);
        try {
          return await feeds.resolve(param(params, 'identity', 'string'), keys);
        } catch (error) {
          if (error instanceof P2pbError && error.code === 'INVALID_PUBLIC_KEY') throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, error.message);
          throw error;
        }
      },
      'feed.query': async (params) => {
        const p = params as { authors?: unknown; limit?: unknown; sort?: unknown };
        const authors = p.authors === undefined ? undefined : p.authors;
        if (authors !== undefined && (!Array.isArray(authors) || authors.length > 256 || !authors.every((a) => typeof a === 'string'))) {
          throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'authors must be an array of up to 256 public keys');
        }
        if (p.limit !== undefined && (typeof p.limit !== 'number' || !Number.isSafeInteger(p.limit) || p.limit < 1)) {
          throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'limit must be a positive integer');
        }
        return feeds.query(param(params, 'identity', 'string'), param(params, 'name', 'string'), checkSort(p.sort), {
          ...(authors === undefined ? {} : { authors: authors as string[] }),
          ...(p.limit === undefined ? {} : { limit: p.limit as number }),
        });
      },
      'feed.hidden': async (params) => {
        const p = params as { authors?: unknown };
        if (p.authors !== undefined && (!Array.isArray(p.authors) || p.authors.length > 256 || !p.authors.every((a) => typeof a === 'string'))) {
          throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'authors must be an array of up to 256 public keys');
        }
        const hidden = await feeds.hidden(param(params, 'identity', 'string'), param(params, 'name', 'string'), p.authors as string[] | undefined);
        return [...hidden].map(([author, items]) => ({ author, items, because: moderation.explain(author).because }));
      },
      'mod.state': async () => moderation.info(),
      'mod.set': async (params) => {
        const kind = param<string>(params, 'kind', 'string');
        if (kind !== 'block' && kind !== 'trust' && kind !== 'none') throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'kind must be block, trust or none');
        await moderation.setEntry(param(params, 'key', 'string'), kind, optionalText(params, 'reason'));
        return null;
      },
      'mod.punch': async (params) => {
        await moderation.punchThrough(param(params, 'key', 'string'), param(params, 'allow', 'boolean'), optionalText(params, 'reason'));
        return null;
      },
      'mod.explain': async (params) => moderation.explain(param(params, 'key', 'string')),
      'mod.preview': async (params) => moderation.preview(param(params, 'list', 'string')),
      'mod.subscribe': async (params) => moderation.subscribe(param(params, 'list', 'string')),
      'mod.unsubscribe': async (params) => {
        await moderation.unsubscribe(param(params, 'list', 'string'));
        return null;
      },
      'mod.publish': async (params) => {
        const identity = param<string>(params, 'identity', 'string');
        if (!own.has(identity)) await refreshIdentities();
        return moderation.publish(identity, param(params, 'name', 'string'));
      },
      'mod.trustDepth': async (params) => {
        const depth = (params as { depth?: unknown } | null)?.depth;
        if (typeof depth !== 'number') throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'depth must be a number');
        await moderation.setTrustDepth(depth);
        return null;
      },
      'store.state': async () => {
        const { maxBytes: _max, ...state } = store.state();
        return state;
      },
    };

    return {
      networks,
      feeds,
      library,
      moderation,
      get running() {
        return running;
      },
      async start() {
        if (running) return;
        startedAt = now();
        await store.start();
        await refreshIdentities().catch((err: unknown) => log.warn('identities unavailable (vault locked?)', err));
        await feeds.load();
        await moderation.load();
        moderation.startFollows();
        running = true;
        log.info('started', status());
        // Networks start in the background: a slow bootstrap node must not hold up readiness.
        networks.start().catch((err: unknown) => log.error('networks failed to start', err));
      },
      async stop() {
        running = false;
        moderation.stop();
        feeds.stop();
        await networks.stop();
        await library.close();
        await store.stop();
        log.info('stopped');
      },
      status,
      async handle(method, params) {
        const handler = (handlers as Record<string, (p: unknown) => Promise<unknown>>)[method];
        if (!handler) throw new ProviderError(ProviderErrorCode.UNSUPPORTED_METHOD, `Unsupported engine method ${method}`);
        return handler(params);
      },
    };
  };
