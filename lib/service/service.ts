/**
 * The background's core, browser-free: vault, grants, prompts and the three request channels
 * (web pages, privileged UI, engine). entrypoints/background only wires runtime ports and
 * browser storage into it, so everything here is tested in Node.
 */
import { CONTEXTS, decodePublicKey } from '../identity/index.ts';
import { isValidFeedName } from '../feeds/codec.ts';
import { decodeIdentityStatement, identityStatementToJSON } from '../records/index.ts';
import type { KeyValueStore } from '../kv/index.ts';
import {
  MAX_IN_FLIGHT_PER_PAGE,
  MAX_SIGN_MESSAGE_BYTES,
  ProviderError,
  ProviderErrorCode,
  MAX_RESOLVE_KEYS,
  hasExactKeys,
  isPageMethod,
  isResolveKeys,
  servePort,
  type BackgroundMethods,
  type EngineMethods,
  type EngineStatus,
  type NetworkView,
  type GrantView,
  type IdentityGrantResult,
  type IdentityView,
  type ItemView,
  type PortLike,
  type PromptDecision,
  type SignResult,
  type StorageView,
  type UiMethods,
  type UiState,
} from '../protocol/index.ts';
import { concatBytes, fromBase64url, toBase64url, toHex, utf8 } from '../util/bytes.ts';
import { createLogger, type Logger } from '../util/log.ts';
import type { Vault, IdentityInfo } from '../vault/index.ts';
import { PREFS_KEY, PREFS_VERSION } from './constants.ts';
import { ForbiddenContextError, InvalidParamsError, UnknownGrantError, UnsupportedStoredVersionError } from './errors.ts';
import { GrantStore } from './grants.ts';
import { PromptQueue, type PromptWindows } from './prompts.ts';

/** What the background needs from wherever the engine runs (offscreen document or in-process). */
export interface EngineClient {
  status(): Promise<EngineStatus>;
  call<M extends keyof EngineMethods>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']>;
}

export interface ServiceInit {
  log?: Logger;
  now?: () => number;
}

export interface ServiceComponents {
  vault: Vault;
  local: KeyValueStore;
  prompts: PromptWindows;
  engine: EngineClient;
}

/** Contexts the engine may have the vault sign in (never a page's or a record's of another kind). */
const ENGINE_CONTEXTS: readonly string[] = [CONTEXTS.ADDRESS_RECORD, CONTEXTS.FEED_ENVELOPE, CONTEXTS.FEED_SNAPSHOT, CONTEXTS.HOSTING_DELEGATION];
/** Feed names pages may not write: published apps (lib/apps/published.ts), moderation lists, the identity's own statement. */
const RESERVED_FEED_PREFIXES: readonly string[] = ['apps/', 'moderation/', 'identity/'];
/** One item written through p2p_putItem, as JSON. */
const MAX_ITEM_JSON_BYTES = 64 * 1024;
/** Feeds one page may subscribe to at once. */
const MAX_PAGE_SUBSCRIPTIONS = 256;
/** Live queries one page may hold at once (each runs again whenever its feed name grows). */
const MAX_PAGE_QUERIES = 16;
/**
 * A live query runs at once when something changes, but at most this often while changes keep
 * coming (a pull of thousands of envelopes): each run sorts up to 1,000 items and sends them all.
 */
const LIVE_QUERY_BURST_MS = 100;

type QueryParams = Omit<EngineMethods['feed.query']['params'], 'identity'>;

/**
 * A p2p_watchQuery: run again when a feed of its name grows, when the person's moderation or the
 * identity's follows change; the page hears `queryUpdate` only when the items differ.
 */
interface LiveQuery {
  readonly id: string;
  readonly params: QueryParams;
  /** The items last sent, as JSON (what the page shows). */
  last: string;
  /** A run is in flight; `again`: something changed meanwhile, run once more after it. */
  running: boolean;
  again: boolean;
}

interface PageConnection {
  origin: string;
  emit(event: string, data: unknown): void;
  /** Feed ids this page subscribed to. */
  feeds: Set<string>;
  queries: Map<string, LiveQuery>;
}

export interface Service {
  start(): Promise<void>;
  /** A web page's bridge connected; `origin` comes from the browser's `sender`, never the page. */
  connectPage(origin: string, port: PortLike): void;
  /** A privileged extension page (popup, prompt, options) connected. */
  connectUi(port: PortLike): void;
  /** A request from the engine (Chrome: offscreen document; Firefox: same page). */
  handleEngineRequest(method: string, params: unknown): Promise<unknown>;
  /** The engine says something a UI shows changed (a network's status or peers). */
  engineChanged(): void;
  /** The engine says a feed grew: pages subscribed to it hear of it. */
  engineFeed(event: BackgroundMethods['engine.feed']['params']): void;
  readonly prompts: PromptQueue;
}

export const createService =
  (init: ServiceInit = {}) =>
  (components: ServiceComponents): Service => {
    const log = init.log ?? createLogger('background');
    const now = init.now ?? Date.now;
    const { vault, local, engine } = components;
    const grants = new GrantStore(local);
    const prompts = new PromptQueue(components.prompts, log, now);
    const pages = new Set<PageConnection>();
    const uis = new Set<{ emit(event: string, data: unknown): void }>();
    let activeIdentity: string | null = null;
    /** The engine's moderation version pages last heard of. */
    let moderationSeen: number | undefined;

    // ---- helpers ---------------------------------------------------------------------------

    const identityView = (info: IdentityInfo): IdentityView => ({
      id: info.id,
      publicKey: info.publicKey,
      displayName: info.displayName,
      createdAt: info.createdAt,
      statement: toBase64url(info.statement),
    });

    async function grantResult(identityId: string): Promise<IdentityGrantResult> {
      const info = vault.getIdentity(identityId);
      const statement = await decodeIdentityStatement(info.statement);
      return { publicKey: info.publicKey, statement: identityStatementToJSON(statement) };
    }

    async function state(): Promise<UiState> {
      const status = vault.status();
      const unlocked = status === 'unlocked';
      let engineStatus: EngineStatus | null = null;
      let networks: NetworkView[] = [];
      let storage: StorageView | null = null;
      try {
        engineStatus = await engine.status();
        void checkModeration(engineStatus);
        networks = await engine.call('net.list', undefined);
        storage = await engine.call('store.state', undefined);
      } catch (err) {
        log.warn('engine status unavailable', err);
      }
      return {
        vault: status,
        networks: unlocked ? networks : [],
        identities: unlocked ? vault.listIdentities().map(identityView) : [],
        activeIdentity: unlocked ? activeIdentity : null,
        grants: unlocked ? grants.list() : [],
        engine: engineStatus,
        storage,
      };
    }

    /** Tells granted pages when the person's moderation changed, so apps query again. */
    async function checkModeration(known?: EngineStatus): Promise<void> {
      const version = (known ?? (await engine.status())).moderation;
      if (version === undefined || version === moderationSeen) return;
      const first = moderationSeen === undefined;
      moderationSeen = version;
      if (first) return;
      for (const page of pages) if (grants.get(page.origin)) page.emit('moderationChanged', { version });
      rerunQueries(() => true);
    }

    async function broadcastState(): Promise<void> {
      if (uis.size === 0) return;
      const snapshot = await state();
      for (const ui of uis) ui.emit('state', snapshot);
    }

    async function notifyOrigin(origin: string): Promise<void> {
      const grant = grants.get(origin);
      const data = grant && vault.status() === 'unlocked' ? await grantResult(grant.identity) : null;
      for (const page of pages) if (page.origin === origin) page.emit('identityChanged', data);
      rerunQueries((_query, page) => page.origin === origin);
    }

    async function savePrefs(): Promise<void> {
      await local.set(PREFS_KEY, { version: PREFS_VERSION, activeIdentity });
    }

    function knownIdentity(id: unknown): string {
      if (typeof id !== 'string') throw new InvalidParamsError('identity id must be a string');
      vault.getIdentity(id); // throws UnknownIdentityError / VaultLockedError
      return id;
    }

    /** Objects with exactly these string keys, or an INVALID_PARAMS error naming the problem. */
    function expectParams<K extends string>(params: unknown, keys: readonly K[], optional: readonly string[] = []): Record<K, unknown> {
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new InvalidParamsError('params must be an object');
      if (!hasExactKeys(params as Record<string, unknown>, keys, optional)) {
        throw new InvalidParamsError(`params must have exactly: ${keys.join(', ')}`);
      }
      return params as Record<K, unknown>;
    }
    const text = (x: unknown, name: string): string => {
      if (typeof x !== 'string') throw new InvalidParamsError(`${name} must be a string`);
      return x;
    };
    const optionalReason = (p: Record<string, unknown>): { reason?: string } => (p.reason === undefined || p.reason === '' ? {} : { reason: text(p.reason, 'reason') });

    // ---- web pages -------------------------------------------------------------------------

    function noParams(params: unknown): void {
      if (params === undefined || params === null) return;
      if (Array.isArray(params) && params.length === 0) return;
      if (typeof params === 'object' && Object.keys(params).length === 0) return;
      throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'This method takes no params');
    }

    async function requestIdentity(origin: string): Promise<IdentityGrantResult> {
      const grant = grants.get(origin);
      if (grant && vault.status() === 'unlocked') return grantResult(grant.identity);
      const decision = await prompts.ask({ kind: grant ? 'unlock' : 'identity', origin });
      if (!decision.approved) throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The person refused the request');
      if (vault.status() !== 'unlocked') throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The vault stayed locked');
      const current = grants.get(origin);
      if (current) return grantResult(current.identity);
      const identity = knownIdentity(decision.identity ?? activeIdentity);
      await grants.set({ origin, identity, sign: false, grantedAt: now() });
      void broadcastState();
      return grantResult(identity);
    }

    function signPayload(origin: string, params: unknown): { payload: Uint8Array; message: Uint8Array; text: string | null } {
      if (typeof params !== 'object' || params === null || Array.isArray(params)) {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'p2p_sign takes { message: string } or { bytes: base64url }');
      }
      const p = params as Record<string, unknown>;
      let message: Uint8Array;
      let shown: string | null = null;
      if (hasExactKeys(p, ['message']) && typeof p.message === 'string') {
        message = utf8(p.message);
        shown = p.message;
      } else if (hasExactKeys(p, ['bytes']) && typeof p.bytes === 'string') {
        try {
          message = fromBase64url(p.bytes);
        } catch {
          throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'bytes must be base64url without padding');
        }
      } else {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'p2p_sign takes { message: string } or { bytes: base64url }');
      }
      if (message.length > MAX_SIGN_MESSAGE_BYTES) {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `message is larger than ${MAX_SIGN_MESSAGE_BYTES} bytes`);
      }
      const originBytes = utf8(origin);
      const length = new Uint8Array([originBytes.length >> 8, originBytes.length & 0xff]);
      return { payload: concatBytes(length, originBytes, message), message, text: shown };
    }

    async function sign(origin: string, params: unknown): Promise<SignResult> {
      const { payload, message, text: shown } = signPayload(origin, params);
      const grant = grants.get(origin);
      if (!grant) throw new ProviderError(ProviderErrorCode.UNAUTHORIZED, 'This site has no identity grant: call p2p_requestIdentity first');
      if (!grant.sign || vault.status() !== 'unlocked') {
        const identity = vault.status() === 'unlocked' ? identityView(vault.getIdentity(grant.identity)) : undefined;
        const decision: PromptDecision = await prompts.ask({
          kind: 'sign',
          origin,
          ...(identity ? { identity } : {}),
          message: { text: shown, hex: toHex(message), bytes: message.length },
        });
        if (!decision.approved) throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The person refused to sign');
        if (vault.status() !== 'unlocked') throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The vault stayed locked');
        if (decision.remember) {
          const current = grants.get(origin);
          if (current) await grants.set({ ...current, sign: true });
          void broadcastState();
        }
      }
      // The grant may have been switched while the prompt was open: sign with what it is now.
      const current = grants.get(origin);
      if (!current) throw new ProviderError(ProviderErrorCode.UNAUTHORIZED, 'The grant was revoked');
      const signature = await vault.sign(current.identity, CONTEXTS.PAGE_SIGN, payload);
      return {
        signature: toBase64url(signature),
        publicKey: vault.getIdentity(current.identity).publicKey,
        context: CONTEXTS.PAGE_SIGN,
        origin,
        payload: toBase64url(payload),
      };
    }

    function grantOf(origin: string): GrantView {
      const grant = grants.get(origin);
      if (!grant) throw new ProviderError(ProviderErrorCode.UNAUTHORIZED, 'This site has no identity grant: call p2p_requestIdentity first');
      return grant;
    }

    function feedParams(params: unknown, keys: readonly string[], optional: readonly string[] = []): Record<string, string> {
      if (typeof params !== 'object' || params === null || Array.isArray(params) || !hasExactKeys(params as Record<string, unknown>, keys, optional)) {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `params must be an object with ${keys.join(', ')}${optional.length ? ` (optional ${optional.join(', ')})` : ''}`);
      }
      for (const [key, value] of Object.entries(params)) {
        if (typeof value !== 'string') throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${key} must be a string`);
      }
      const p = params as Record<string, string>;
      if ('name' in p && !isValidFeedName(p.name)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'name is not a valid feed name (docs/feeds.md)');
      if ('author' in p) {
        try {
          decodePublicKey(p.author!);
        } catch {
          throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'author must be a public key (z6Mk…)');
        }
      }
      return p;
    }

    /** Asks to write `bytes` (shown as size and preview) to feed `name`, unless the site may write without asking. */
    async function approveWrite(origin: string, name: string, preview: { text: string | null; bytes: Uint8Array }): Promise<string> {
      // Published apps, moderation lists and the identity's statement speak for the person in every app and network: only
      // the extension's own pages write them, never a site or an app (whatever its manifest says).
      if (RESERVED_FEED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
        throw new ProviderError(ProviderErrorCode.UNAUTHORIZED, `Feeds under ${name.slice(0, name.indexOf('/') + 1)} are written by P2P Browser itself, not by pages`);
      }
      const grant = grantOf(origin);
      if (!grant.write || vault.status() !== 'unlocked') {
        const identity = vault.status() === 'unlocked' ? identityView(vault.getIdentity(grant.identity)) : undefined;
        const decision: PromptDecision = await prompts.ask({
          kind: 'write',
          origin,
          ...(identity ? { identity } : {}),
          feed: name,
          message: { text: preview.text, hex: toHex(preview.bytes.subarray(0, 64)), bytes: preview.bytes.length },
        });
        if (!decision.approved) throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The person refused the write');
        if (vault.status() !== 'unlocked') throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The vault stayed locked');
        if (decision.remember) {
          const current = grants.get(origin);
          if (current) await grants.set({ ...current, write: true });
          void broadcastState();
        }
      }
      return grantOf(origin).identity;
    }

    async function writeFeed(origin: string, params: unknown): Promise<{ seq: number }> {
      const p = feedParams(params, ['name', 'update']);
      let update: Uint8Array;
      try {
        update = fromBase64url(p.update!);
      } catch {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'update must be base64url without padding');
      }
      const identity = await approveWrite(origin, p.name!, { text: null, bytes: update });
      return engine.call('feed.write', { identity, name: p.name!, update: p.update! });
    }

    async function putItem(origin: string, params: unknown): Promise<{ seq: number }> {
      if (typeof params !== 'object' || params === null || Array.isArray(params) || !hasExactKeys(params as Record<string, unknown>, ['name', 'id', 'item'])) {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'p2p_putItem takes { name, id, item }');
      }
      const p = params as { name: unknown; id: unknown; item: unknown };
      if (!isValidFeedName(p.name)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'name is not a valid feed name');
      if (typeof p.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(p.id)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'id: 1..64 of A-Z a-z 0-9 _ -');
      if (typeof p.item !== 'object' || p.item === null || Array.isArray(p.item)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'item must be a JSON object');
      const json = JSON.stringify(p.item);
      if (json.length > MAX_ITEM_JSON_BYTES) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `item is larger than ${MAX_ITEM_JSON_BYTES} bytes of JSON`);
      const identity = await approveWrite(origin, p.name, { text: json.length <= 2000 ? json : `${json.slice(0, 2000)}…`, bytes: utf8(json) });
      return engine.call('feed.putItem', { identity, name: p.name, id: p.id, item: JSON.parse(json) as Record<string, unknown> });
    }

    /** "Show anyway": a punch-through for one key, which only the person can confirm. */
    async function showAnyway(origin: string, params: unknown) {
      const p = feedParams(params, ['author']);
      grantOf(origin);
      const verdict = await engine.call('mod.explain', { key: p.author! });
      if (verdict.decision !== 'blocked') return verdict;
      const decision = await prompts.ask({ kind: 'punch-through', origin, subject: { key: p.author!, because: verdict.because } });
      if (!decision.approved) throw new ProviderError(ProviderErrorCode.USER_REJECTED, 'The person kept the key hidden');
      await engine.call('mod.punch', { key: p.author!, allow: true, reason: `shown anyway from ${origin}`.slice(0, 500) });
      void broadcastState();
      await checkModeration().catch(() => {});
      return engine.call('mod.explain', { key: p.author! });
    }

    /** { name, sort, authors?, limit? } of p2p_query and p2p_watchQuery; the engine checks sort, authors and limit. */
    function queryParams(method: string, params: unknown): QueryParams {
      if (typeof params !== 'object' || params === null || Array.isArray(params) || !hasExactKeys(params as Record<string, unknown>, ['name', 'sort'], ['authors', 'limit'])) {
        throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `${method} takes { name, sort, authors?, limit? }`);
      }
      const p = params as { name: unknown; sort: unknown; authors?: unknown; limit?: unknown };
      if (!isValidFeedName(p.name)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'name is not a valid feed name');
      return { name: p.name, sort: p.sort as never, ...(p.authors === undefined ? {} : { authors: p.authors as string[] }), ...(p.limit === undefined ? {} : { limit: p.limit as number }) };
    }

    let nextQueryId = 1;

    /** Runs the query once (its errors are the page's), then keeps it live on this page. */
    async function watchQuery(origin: string, params: QueryParams, connection: PageConnection | undefined): Promise<{ id: string; items: ItemView[] }> {
      const grant = grantOf(origin);
      if (!connection) throw new ProviderError(ProviderErrorCode.DISCONNECTED, 'No page connection to deliver events on');
      if (connection.queries.size >= MAX_PAGE_QUERIES) throw new ProviderError(ProviderErrorCode.LIMIT_EXCEEDED, `at most ${MAX_PAGE_QUERIES} live queries per page`);
      // Live before the first run, so a feed that grows meanwhile makes one more run after it.
      const query: LiveQuery = { id: `q${nextQueryId++}`, params, last: '', running: true, again: false };
      connection.queries.set(query.id, query);
      try {
        const items = await engine.call('feed.query', { identity: grant.identity, ...params });
        query.last = JSON.stringify(items);
        return { id: query.id, items };
      } catch (error) {
        connection.queries.delete(query.id);
        throw error;
      } finally {
        query.running = false;
        if (query.again && connection.queries.get(query.id) === query) void rerun(connection, query);
      }
    }

    /**
     * Runs a live query again (one run at a time per query; changes during a run make one more,
     * LIVE_QUERY_BURST_MS after the last) and sends `queryUpdate` when its items changed. A page
     * whose grant is gone loses its queries.
     */
    async function rerun(page: PageConnection, query: LiveQuery): Promise<void> {
      if (query.running) {
        query.again = true;
        return;
      }
      query.running = true;
      try {
        let last = 0;
        do {
          const wait = last + LIVE_QUERY_BURST_MS - Date.now();
          if (last > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          last = Date.now();
          query.again = false;
          const grant = grants.get(page.origin);
          if (!grant) {
            page.queries.clear();
            return;
          }
          const items = await engine.call('feed.query', { identity: grant.identity, ...query.params });
          const json = JSON.stringify(items);
          if (json !== query.last && page.queries.get(query.id) === query && pages.has(page)) {
            query.last = json;
            page.emit('queryUpdate', { id: query.id, items });
          }
        } while (query.again);
      } catch (error) {
        log.debug('live query', query.id, 'of', page.origin, 'failed:', (error as Error)?.message ?? error);
      } finally {
        query.running = false;
      }
    }

    /** The live queries `matches` picks, on every page, run again. */
    function rerunQueries(matches: (query: LiveQuery, page: PageConnection) => boolean): void {
      for (const page of pages) for (const query of page.queries.values()) if (matches(query, page)) void rerun(page, query);
    }

    /** The follows of `identity` changed: its pages' timelines cover other authors now. */
    function followsChanged(identity: string): void {
      rerunQueries((_query, page) => grants.get(page.origin)?.identity === identity);
    }

    async function handlePage(origin: string, method: string, params: unknown, connection?: PageConnection): Promise<unknown> {
      if (!isPageMethod(method)) throw new ProviderError(ProviderErrorCode.UNSUPPORTED_METHOD, `Unsupported method ${method}`);
      switch (method) {
        case 'p2p_requestIdentity':
          noParams(params);
          return requestIdentity(origin);
        case 'p2p_getIdentity': {
          noParams(params);
          const grant = grants.get(origin);
          return grant && vault.status() === 'unlocked' ? grantResult(grant.identity) : null;
        }
        case 'p2p_sign':
          return sign(origin, params);
        case 'p2p_networks': {
          noParams(params);
          const grant = grants.get(origin);
          if (!grant) throw new ProviderError(ProviderErrorCode.UNAUTHORIZED, 'This site has no identity grant: call p2p_requestIdentity first');
          // Names only, and only the networks the identity this site sees is in.
          const networks = await engine.call('net.list', undefined);
          return networks.filter((n) => n.identity === grant.identity).map((n) => ({ name: n.name }));
        }
        case 'p2p_readFeed': {
          const p = feedParams(params, ['name'], ['author']);
          const grant = grantOf(origin);
          const { from: _from, ...view } = await engine.call('feed.read', { identity: grant.identity, author: p.author ?? grant.identity, name: p.name! });
          return view;
        }
        case 'p2p_writeFeed':
          return writeFeed(origin, params);
        case 'p2p_putItem':
          return putItem(origin, params);
        case 'p2p_subscribeFeed': {
          const p = feedParams(params, ['author', 'name']);
          const grant = grantOf(origin);
          if (!connection) throw new ProviderError(ProviderErrorCode.DISCONNECTED, 'No page connection to deliver events on');
          if (connection.feeds.size >= MAX_PAGE_SUBSCRIPTIONS) {
            throw new ProviderError(ProviderErrorCode.LIMIT_EXCEEDED, `at most ${MAX_PAGE_SUBSCRIPTIONS} feed subscriptions per page`);
          }
          if (p.author !== grant.identity) {
            await engine.call('feed.follow', { identity: grant.identity, author: p.author! });
            followsChanged(grant.identity);
          }
          connection.feeds.add(`${p.author}/${p.name}`);
          return null;
        }
        case 'p2p_follow':
        case 'p2p_unfollow': {
          const p = feedParams(params, ['author']);
          const grant = grantOf(origin);
          await engine.call(method === 'p2p_follow' ? 'feed.follow' : 'feed.unfollow', { identity: grant.identity, author: p.author! });
          followsChanged(grant.identity);
          return null;
        }
        case 'p2p_resolve': {
          const keys = (params as { keys?: unknown } | null)?.keys;
          if (typeof params !== 'object' || params === null || Array.isArray(params) || !hasExactKeys(params as Record<string, unknown>, ['keys']) || !isResolveKeys(keys)) {
            throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `p2p_resolve takes { keys }: 1 to ${MAX_RESOLVE_KEYS} public keys`);
          }
          return engine.call('feed.resolve', { identity: grantOf(origin).identity, keys });
        }
        case 'p2p_following':
          noParams(params);
          return engine.call('feed.following', { identity: grantOf(origin).identity });
        case 'p2p_query':
          return engine.call('feed.query', { identity: grantOf(origin).identity, ...queryParams(method, params) });
        case 'p2p_watchQuery':
          return watchQuery(origin, queryParams(method, params), connection);
        case 'p2p_unwatchQuery': {
          const { id } = feedParams(params, ['id']);
          grantOf(origin);
          if (!connection?.queries.delete(id!)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, `no live query ${JSON.stringify(id!.slice(0, 40))} on this page`);
          return null;
        }
        case 'p2p_hidden': {
          if (typeof params !== 'object' || params === null || Array.isArray(params) || !hasExactKeys(params as Record<string, unknown>, ['name'], ['authors'])) {
            throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'p2p_hidden takes { name, authors? }');
          }
          const p = params as { name: unknown; authors?: unknown };
          if (!isValidFeedName(p.name)) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'name is not a valid feed name');
          const grant = grantOf(origin);
          return engine.call('feed.hidden', { identity: grant.identity, name: p.name, ...(p.authors === undefined ? {} : { authors: p.authors as string[] }) });
        }
        case 'p2p_explain': {
          const p = feedParams(params, ['author']);
          grantOf(origin);
          return engine.call('mod.explain', { key: p.author! });
        }
        case 'p2p_showAnyway':
          return showAnyway(origin, params);
        case 'p2p_unsubscribeFeed': {
          const p = feedParams(params, ['author', 'name']);
          grantOf(origin);
          connection?.feeds.delete(`${p.author}/${p.name}`);
          return null;
        }
      }
    }

    // ---- privileged UI ---------------------------------------------------------------------

    type UiHandlers = { [M in keyof UiMethods]: (params: unknown) => Promise<UiMethods[M]['result']> };

    async function dropGrantsOf(identity: string): Promise<void> {
      const affected = grants.list().filter((g) => g.identity === identity).map((g) => g.origin);
      if (affected.length === 0) return;
      await grants.remove(affected);
      for (const origin of affected) await notifyOrigin(origin);
    }

    const ui: UiHandlers = {
      'state.get': async () => state(),
      'vault.initialize': async (params) => {
        const p = expectParams(params, ['passphrase', 'displayName']);
        await vault.initialize(text(p.passphrase, 'passphrase'));
        const info = await vault.createIdentity(text(p.displayName, 'displayName'));
        activeIdentity = info.id;
        await savePrefs();
        return identityView(info);
      },
      'vault.unlock': async (params) => {
        const p = expectParams(params, ['passphrase']);
        await vault.unlock(text(p.passphrase, 'passphrase'));
        return null;
      },
      'vault.lock': async () => {
        await vault.lock();
        return null;
      },
      'vault.changePassphrase': async (params) => {
        const p = expectParams(params, ['oldPassphrase', 'newPassphrase']);
        await vault.changePassphrase(text(p.oldPassphrase, 'oldPassphrase'), text(p.newPassphrase, 'newPassphrase'));
        return null;
      },
      'identity.create': async (params) => {
        const p = expectParams(params, ['displayName']);
        const info = await vault.createIdentity(text(p.displayName, 'displayName'));
        if (activeIdentity === null) {
          activeIdentity = info.id;
          await savePrefs();
        }
        return identityView(info);
      },
      'identity.rename': async (params) => {
        const p = expectParams(params, ['id', 'displayName']);
        const id = knownIdentity(p.id);
        const info = await vault.renameIdentity(id, text(p.displayName, 'displayName'));
        for (const grant of grants.list()) if (grant.identity === id) await notifyOrigin(grant.origin);
        return identityView(info);
      },
      'identity.delete': async (params) => {
        const p = expectParams(params, ['id']);
        const id = knownIdentity(p.id);
        await vault.deleteIdentity(id);
        await dropGrantsOf(id);
        if (activeIdentity === id) {
          activeIdentity = vault.listIdentities()[0]?.id ?? null;
          await savePrefs();
        }
        return null;
      },
      'identity.setActive': async (params) => {
        const p = expectParams(params, ['id']);
        activeIdentity = knownIdentity(p.id);
        await savePrefs();
        return null;
      },
      'grant.setIdentity': async (params) => {
        const p = expectParams(params, ['origin', 'id']);
        const origin = text(p.origin, 'origin');
        const grant = grants.get(origin);
        if (!grant) throw new UnknownGrantError(origin);
        const identity = knownIdentity(p.id);
        if (grant.identity === identity) return null;
        // A new identity for the site: a standing sign grant does not carry over to it.
        await grants.set({ ...grant, identity, sign: false });
        await notifyOrigin(origin);
        return null;
      },
      'grant.setSign': async (params) => {
        const p = expectParams(params, ['origin', 'sign']);
        const origin = text(p.origin, 'origin');
        const grant = grants.get(origin);
        if (!grant) throw new UnknownGrantError(origin);
        if (typeof p.sign !== 'boolean') throw new InvalidParamsError('sign must be a boolean');
        await grants.set({ ...grant, sign: p.sign });
        return null;
      },
      'grant.revoke': async (params) => {
        const p = expectParams(params, ['origin']);
        const origin = text(p.origin, 'origin');
        if (!grants.get(origin)) throw new UnknownGrantError(origin);
        await grants.remove([origin]);
        prompts.cancel((view) => view.origin === origin);
        await notifyOrigin(origin);
        return null;
      },
      'prompt.get': async (params) => {
        const p = expectParams(params, ['id']);
        return prompts.get(text(p.id, 'id'));
      },
      'prompt.resolve': async (params) => {
        const p = expectParams(params, ['id', 'decision']);
        const decision = p.decision as PromptDecision;
        if (typeof decision !== 'object' || decision === null || typeof decision.approved !== 'boolean') {
          throw new InvalidParamsError('decision must be { approved: boolean, identity?, remember? }');
        }
        if (decision.approved && decision.identity !== undefined) knownIdentity(decision.identity);
        prompts.resolve(text(p.id, 'id'), decision);
        return null;
      },
      'backup.export': async (params) => {
        const p = expectParams(params, ['passphrase']);
        const exported = await vault.exportBackup(text(p.passphrase, 'passphrase'));
        const date = new Date(now()).toISOString().slice(0, 10);
        return { filename: `p2p-browser-identities-${date}.json`, text: exported };
      },
      'backup.import': async (params) => {
        const p = expectParams(params, ['text', 'passphrase']);
        const result = await vault.importBackup(text(p.text, 'text'), text(p.passphrase, 'passphrase'));
        if (activeIdentity === null && result.added[0]) {
          activeIdentity = result.added[0];
          await savePrefs();
        }
        return result;
      },
      'network.join': async (params) => {
        const p = expectParams(params, ['link', 'identity']);
        const identity = knownIdentity(p.identity);
        return engine.call('net.join', { link: text(p.link, 'link'), identity });
      },
      'network.create': async (params) => {
        const p = expectParams(params, ['name', 'host', 'identity', 'closed']);
        const identity = knownIdentity(p.identity);
        if (typeof p.closed !== 'boolean') throw new InvalidParamsError('closed must be a boolean');
        return engine.call('net.create', { name: text(p.name, 'name'), host: text(p.host, 'host'), identity, closed: p.closed });
      },
      'network.leave': async (params) => {
        const p = expectParams(params, ['id']);
        return engine.call('net.leave', { id: text(p.id, 'id') });
      },
      'network.peers': async (params) => {
        const p = expectParams(params, ['id']);
        return engine.call('net.peers', { id: text(p.id, 'id') });
      },
      'network.connect': async (params) => {
        const p = expectParams(params, ['id', 'publicKey']);
        return engine.call('net.connect', { id: text(p.id, 'id'), publicKey: text(p.publicKey, 'publicKey') });
      },
      'network.delegate': async (params) => {
        const p = expectParams(params, ['id']);
        return engine.call('net.delegate', { id: text(p.id, 'id') });
      },
      'feed.read': async (params) => {
        const p = expectParams(params, ['identity', 'author', 'name'], ['fresh']);
        const fresh = (p as Record<string, unknown>).fresh;
        if (fresh !== undefined && typeof fresh !== 'boolean') throw new InvalidParamsError('fresh must be a boolean');
        return engine.call('feed.read', { identity: knownIdentity(p.identity), author: text(p.author, 'author'), name: text(p.name, 'name'), ...(fresh ? { fresh: true } : {}) });
      },
      'feed.resolve': async (params) => {
        const p = expectParams(params, ['identity', 'keys']);
        const keys = (p as Record<string, unknown>).keys;
        if (!isResolveKeys(keys)) throw new InvalidParamsError(`keys must be 1 to ${MAX_RESOLVE_KEYS} public keys`);
        return engine.call('feed.resolve', { identity: knownIdentity(p.identity), keys });
      },
      'feed.write': async (params) => {
        const p = expectParams(params, ['identity', 'name', 'update']);
        const name = text(p.name, 'name');
        if (!isValidFeedName(name)) throw new InvalidParamsError('name is not a valid feed name (docs/feeds.md)');
        return engine.call('feed.write', { identity: knownIdentity(p.identity), name, update: text(p.update, 'update') });
      },
      'moderation.state': async () => engine.call('mod.state', undefined),
      'moderation.set': async (params) => {
        const p = expectParams(params, ['key', 'kind'], ['reason']);
        return engine.call('mod.set', { key: text(p.key, 'key'), kind: text(p.kind, 'kind') as 'block', ...optionalReason(p) });
      },
      'moderation.punch': async (params) => {
        const p = expectParams(params, ['key', 'allow'], ['reason']);
        if (typeof p.allow !== 'boolean') throw new InvalidParamsError('allow must be a boolean');
        return engine.call('mod.punch', { key: text(p.key, 'key'), allow: p.allow, ...optionalReason(p) });
      },
      'moderation.explain': async (params) => engine.call('mod.explain', { key: text(expectParams(params, ['key']).key, 'key') }),
      'moderation.preview': async (params) => engine.call('mod.preview', { list: text(expectParams(params, ['list']).list, 'list') }),
      'moderation.subscribe': async (params) => engine.call('mod.subscribe', { list: text(expectParams(params, ['list']).list, 'list') }),
      'moderation.unsubscribe': async (params) => engine.call('mod.unsubscribe', { list: text(expectParams(params, ['list']).list, 'list') }),
      'moderation.publish': async (params) => {
        const p = expectParams(params, ['identity', 'name']);
        const identity = vault.getIdentity(knownIdentity(p.identity)).publicKey;
        return engine.call('mod.publish', { identity, name: text(p.name, 'name') });
      },
      'moderation.trustDepth': async (params) => {
        const p = expectParams(params, ['depth']);
        if (typeof p.depth !== 'number') throw new InvalidParamsError('depth must be a number');
        return engine.call('mod.trustDepth', { depth: p.depth });
      },
      'network.revoke': async (params) => {
        const p = expectParams(params, ['id', 'host']);
        return engine.call('net.revoke', { id: text(p.id, 'id'), host: text(p.host, 'host') });
      },
    };

    // ---- engine ----------------------------------------------------------------------------

    type EngineHandlers = { [M in Exclude<keyof BackgroundMethods, 'engine.ready' | 'engine.changed' | 'engine.feed' | 'link.open'>]: (params: unknown) => Promise<BackgroundMethods[M]['result']> };
    const engineHandlers: EngineHandlers = {
      'signer.sign': async (params) => {
        const p = expectParams(params, ['identity', 'context', 'message']);
        const context = text(p.context, 'context');
        if (!ENGINE_CONTEXTS.includes(context)) throw new ForbiddenContextError(context);
        const identity = knownIdentity(p.identity);
        const signature = await vault.sign(identity, context, fromBase64url(text(p.message, 'message')));
        return { signature: toBase64url(signature) };
      },
      'signer.identities': async () => vault.listIdentities().map(identityView),
    };

    return {
      prompts,
      async start() {
        await vault.start();
        await grants.load();
        const prefs = await local.get<{ version: number; activeIdentity: string | null }>(PREFS_KEY);
        if (prefs) {
          if (prefs.version > PREFS_VERSION) throw new UnsupportedStoredVersionError('prefs', prefs.version);
          activeIdentity = prefs.activeIdentity;
        }
        vault.onChange(() => {
          void broadcastState();
          // Networks that could not sign their address record while the vault was locked.
          if (vault.status() === 'unlocked') engine.call('net.retry', undefined).catch((err: unknown) => log.debug('engine not ready for retry', err));
        });
      },

      connectPage(origin, port) {
        const connection: PageConnection = { origin, emit: () => {}, feeds: new Set(), queries: new Map() };
        const server = servePort(port, (method, params) => handlePage(origin, method, params, connection), log, {
          maxInFlight: MAX_IN_FLIGHT_PER_PAGE,
        });
        connection.emit = server.emit;
        pages.add(connection);
        // What this page's queries already reflect: later changes are news to it.
        if (moderationSeen === undefined) checkModeration().catch(() => {});
        port.onDisconnect(() => {
          pages.delete(connection);
          // The page went away: its prompts are refused, unless another tab of it is still open.
          if (![...pages].some((p) => p.origin === origin)) prompts.cancel((view) => view.origin === origin);
        });
      },

      connectUi(port) {
        const viewed = new Set<string>();
        const server = servePort(
          port,
          async (method, params) => {
            const handler = (ui as Record<string, (p: unknown) => Promise<unknown>>)[method];
            if (!handler) throw new ProviderError(ProviderErrorCode.UNSUPPORTED_METHOD, `Unsupported method ${method}`);
            if (method === 'prompt.get') viewed.add((params as { id: string }).id);
            const result = await handler(params);
            if (method !== 'state.get' && method !== 'prompt.get') void broadcastState();
            if (method.startsWith('moderation.')) await checkModeration().catch(() => {});
            return result;
          },
          log,
        );
        uis.add(server);
        port.onDisconnect(() => {
          uis.delete(server);
          // The prompt window was closed without an answer: a refusal.
          for (const id of viewed) prompts.dismissed(id);
        });
      },

      engineChanged() {
        void broadcastState();
        checkModeration().catch((err: unknown) => log.debug('engine status unavailable', err));
      },

      engineFeed(event) {
        const feed = `${event.author}/${event.name}`;
        const { local: _local, ...data } = event;
        for (const page of pages) if (page.feeds.has(feed) && grants.get(page.origin)) page.emit('feedUpdate', data);
        rerunQueries((query) => query.params.name === event.name && (query.params.authors === undefined || query.params.authors.includes(event.author)));
      },

      async handleEngineRequest(method, params) {
        const handler = (engineHandlers as Record<string, (p: unknown) => Promise<unknown>>)[method];
        if (!handler) throw new ProviderError(ProviderErrorCode.UNSUPPORTED_METHOD, `Unsupported method ${method}`);
        return handler(params);
      },
    };
  };

