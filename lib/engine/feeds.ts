/**
 * The person's feeds as the engine offers them: read (from this drive, else fetched from a
 * holder in one of the identity's networks), write (signed through the vault), follow (push
 * subscriptions in every network the identity is in, resumed as networks come and go).
 */
import { feedIdOf, parseEnvelope } from '../feeds/index.ts';
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import type { KeyValueStore } from '../kv/index.ts';
import type { FeedLibrary } from '../sync/library.ts';
import { FeedNotFoundError } from '../sync/errors.ts';
import type { Follow } from '../sync/sync.ts';
import { P2pbError } from '../util/errors.ts';
import { toBase64url } from '../util/bytes.ts';
import { MINUTE, SECOND } from '../util/time.ts';
import * as Y from 'yjs';
import { decodeIdentityStatement, identityStatementToJSON, type IdentityStatementJSON } from '../records/index.ts';
import { equalBytes } from '../util/bytes.ts';
import type { Logger } from '../util/log.ts';
import type { Member, NetworkManager } from './networks.ts';
import { MAX_QUERY_ITEMS, itemsOf, sortItems, type Item, type SortSpec } from '../data/items.ts';

const FOLLOWS_KEY = 'follows';
/** How long following waits for the first live subscription before it answers (it goes on trying). */
export const FOLLOW_READY_WAIT = 10 * SECOND;
/** How long a fresh read of a held feed waits for a holder before it answers with what is held. */
export const FRESH_READ_WAIT = 5 * SECOND;

/**
 * The feed in which every identity publishes its signed identity statement (Y.Map "profile", key
 * "statement"). Under `identity/`, which pages and apps may not write (an app's own "profile"
 * feed is its business).
 */
export const PROFILE_FEED = 'identity/profile';
/** How long a resolve waits for the network for keys not held here. */
export const RESOLVE_WAIT = 5 * SECOND;
/** A key nobody served is not looked up again for this long (a timeline asks for the same authors often). */
export const RESOLVE_MISS_TTL = 1 * MINUTE;

/** What a public key resolves to: its signed identity statement and the feeds of it held here. */
export interface ResolvedKey {
  publicKey: string;
  /** Verified, and of this key; null when nobody reachable serves one (or the key is blocked). */
  statement: IdentityStatementJSON | null;
  /** The key's feeds on this drive, after the lookup. */
  feeds: { name: string; seq: number }[];
  /** Hidden by the person's moderation: nothing of it is looked up or shown. */
  blocked: boolean;
}

/** What the engine tells the background when a followed or own feed grows. */
export interface FeedEvent {
  feed: string;
  author: string;
  name: string;
  seq: number;
  /** The Yjs update the envelope carried. */
  update: Uint8Array;
  local: boolean;
}

/** A feed event as it crosses to the background (bytes as base64url). */
export function feedEventToWire(event: FeedEvent): { author: string; name: string; seq: number; update: string; local: boolean } {
  return { author: event.author, name: event.name, seq: event.seq, update: toBase64url(event.update), local: event.local };
}

export interface FeedStateResult {
  feed: string;
  seq: number;
  update: Uint8Array;
  /** Where it came from: this drive, or the PeerId of the holder that served it just now. */
  from: 'local' | string;
}

/** What FeedService asks of the person's moderation (lib/engine/moderation.ts). */
export interface FeedModeration {
  isBlocked(author: string): boolean;
  /** @throws KeyBlockedError */
  check(author: string): void;
  trustScore(author: string): number;
}

const NO_MODERATION: FeedModeration = { isBlocked: () => false, check: () => {}, trustScore: () => 0 };

export class FeedService {
  readonly #networks: NetworkManager;
  #moderation: FeedModeration = NO_MODERATION;
  /** Authors followed in every network whatever the identity (community lists' curators). */
  readonly #everywhere = new Set<string>();
  readonly #library: FeedLibrary;
  readonly #kv: KeyValueStore;
  readonly #log: Logger;
  /** identity → authors it follows. */
  #follows = new Map<string, Set<string>>();
  /** network id → author → live follow. */
  readonly #live = new Map<string, Map<string, Follow>>();
  readonly #listeners = new Set<(event: FeedEvent) => void>();
  #unlisten: (() => void) | null = null;
  /** Profile lookups in flight, by key: concurrent resolves of one key share one. */
  readonly #resolving = new Map<string, Promise<void>>();
  /** Keys nobody served, and until when they are not asked for again. */
  readonly #resolveMisses = new Map<string, number>();

  constructor(networks: NetworkManager, library: FeedLibrary, kv: KeyValueStore, log: Logger) {
    this.#networks = networks;
    this.#library = library;
    this.#kv = kv;
    this.#log = log;
    networks.onStarted((member) => this.#startFollows(member));
  }

  /** Blocked authors are not followed, fetched, pushed to pages or returned by queries. */
  setModeration(moderation: FeedModeration): void {
    this.#moderation = moderation;
  }

  onEvent(listener: (event: FeedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async load(): Promise<void> {
    const stored = (await this.#kv.get<Record<string, string[]>>(FOLLOWS_KEY)) ?? {};
    this.#follows = new Map(Object.entries(stored).map(([identity, authors]) => [identity, new Set(authors)]));
    this.#unlisten = this.#library.onEnvelope((feed, seq, bytes, local) => {
      if (this.#listeners.size === 0) return;
      const author = feed.slice(0, feed.indexOf('/'));
      if (!local && ![...this.#follows.values()].some((authors) => authors.has(author))) return;
      if (!local && this.#moderation.isBlocked(author)) return;
      let update: Uint8Array;
      try {
        update = parseEnvelope(bytes).update;
      } catch {
        return; // stored bytes are valid; this cannot happen
      }
      const event: FeedEvent = { feed, author, name: feed.slice(author.length + 1), seq, update, local };
      for (const listener of this.#listeners) listener(event);
    });
  }

  stop(): void {
    this.#unlisten?.();
    for (const follows of this.#live.values()) for (const follow of follows.values()) follow.stop();
    this.#live.clear();
  }

  #membersOf(identity: string): Member[] {
    return this.#networks.members().filter((m) => m.stored.identity === identity && m.sync !== undefined);
  }

  #startFollows(member: Member): void {
    const old = this.#live.get(member.stored.id);
    for (const follow of old?.values() ?? []) follow.stop();
    this.#live.set(member.stored.id, new Map());
    this.#reconcile(member);
  }

  /** Authors `member` should have a live follow for: the identity's follows and the curators, not blocked ones. */
  #wanted(member: Member): Set<string> {
    const wanted = new Set<string>();
    for (const author of [...(this.#follows.get(member.stored.identity) ?? []), ...this.#everywhere]) {
      if (author !== member.stored.identity && !this.#moderation.isBlocked(author)) wanted.add(author);
    }
    return wanted;
  }

  /** Starts and stops live follows of `member` to match #wanted. */
  #reconcile(member: Member): void {
    if (!member.sync) return;
    const live = this.#live.get(member.stored.id) ?? new Map<string, Follow>();
    this.#live.set(member.stored.id, live);
    const wanted = this.#wanted(member);
    for (const [author, follow] of live) {
      if (wanted.has(author)) continue;
      follow.stop();
      live.delete(author);
    }
    for (const author of wanted) if (!live.has(author)) live.set(author, member.sync.follow(author));
  }

  /** The follows of every network again (after moderation changed, or a curator came or went). */
  refresh(): void {
    for (const member of this.#networks.members()) if (member.sync && this.#live.has(member.stored.id)) this.#reconcile(member);
  }

  /** Follows `author` in every network, whatever the identity there (a list's curator), or stops. */
  followEverywhere(author: string, follow: boolean): void {
    if (follow) this.#everywhere.add(author);
    else this.#everywhere.delete(author);
    this.refresh();
  }

  /**
   * The state of `author`'s feed `name` as one Yjs update. From this drive when held (and then
   * refreshed in the background), else fetched from a holder in the identity's networks.
   * `fresh`: when held, first ask a holder for anything newer (at most FRESH_READ_WAIT), as
   * opening a published app does, so that it runs the author's newest version.
   * @throws FeedNotFoundError when nobody reachable holds it
   */
  async read(identity: string, author: string, name: string, options: { signal?: AbortSignal; fresh?: boolean } = {}): Promise<FeedStateResult> {
    const feed = feedIdOf(decodePublicKey(author), name);
    if (author !== identity) this.#moderation.check(author);
    const local = await this.#library.head(feed);
    let from: string = 'local';
    if (local === null && author !== identity) {
      from = await this.#fetch(identity, author, feed, options);
    } else if (options.fresh && author !== identity) {
      // What the author has now (a published app's newest version), if a holder answers in time.
      const signal = AbortSignal.any([AbortSignal.timeout(FRESH_READ_WAIT), ...(options.signal ? [options.signal] : [])]);
      from = await this.#fetch(identity, author, feed, { signal }).catch(() => 'local');
    } else if (author !== identity && !this.#follows.get(identity)?.has(author)) {
      void this.#fetch(identity, author, feed, options).catch(() => {});
    }
    const state = await this.#library.state(feed);
    return { feed, seq: state.head?.seq ?? 0, update: state.update, from };
  }

  async #fetch(identity: string, author: string, feed: string, options: { signal?: AbortSignal }): Promise<string> {
    const members = this.#membersOf(identity);
    let tried = 0;
    for (const member of members) {
      try {
        const result = await member.sync!.fetch(author, { feeds: [feed], ...(options.signal ? { signal: options.signal } : {}) });
        return result.from;
      } catch (error) {
        options.signal?.throwIfAborted();
        tried++;
        this.#log.debug('fetch of', feed, 'in', member.stored.id, 'failed:', (error as P2pbError)?.code ?? error);
      }
    }
    throw new FeedNotFoundError(feed, tried);
  }

  /**
   * Publishes `statement` (an identity's signed statement) in its profile feed when that holds
   * an older one or none, so that others can resolve the key to a name.
   */
  async publishStatement(identity: string, statement: Uint8Array): Promise<boolean> {
    const held = await this.#statementOf(identity);
    if (held && (equalBytes(held.bytes, statement) || held.createdAt >= (await decodeIdentityStatement(statement)).createdAt)) return false;
    await this.#library.transact(identity, PROFILE_FEED, (doc) => doc.getMap('profile').set('statement', statement));
    return true;
  }

  /**
   * Resolves public keys to their identity statements and the feeds of theirs held here, as
   * `identity` sees them, in the fewest round trips: keys whose profile is on this drive cost
   * none; the rest are looked up all at once (one fetch of the profile feed per key, through the
   * identity's networks, at most RESOLVE_WAIT), a key already being looked up is not asked for
   * twice, and a key nobody served is not asked for again for RESOLVE_MISS_TTL. Profiles fetched
   * stay on this drive like any cached feed (and are refreshed when the author is followed).
   */
  async resolve(identity: string, keys: readonly string[], options: { signal?: AbortSignal } = {}): Promise<ResolvedKey[]> {
    const wanted = [...new Set(keys)];
    for (const key of wanted) encodePublicKey(decodePublicKey(key)); // INVALID_KEY before any work
    const now = Date.now();
    const lookups = wanted
      .filter((key) => key !== identity && !this.#moderation.isBlocked(key))
      .map(async (key) => {
        if ((await this.#library.head(feedIdOf(decodePublicKey(key), PROFILE_FEED))) !== null) return;
        if ((this.#resolveMisses.get(key) ?? 0) > now) return;
        let lookup = this.#resolving.get(key);
        if (!lookup) {
          const signal = AbortSignal.any([AbortSignal.timeout(RESOLVE_WAIT), ...(options.signal ? [options.signal] : [])]);
          lookup = this.#fetch(identity, key, feedIdOf(decodePublicKey(key), PROFILE_FEED), { signal })
            .then(
              () => void this.#resolveMisses.delete(key),
              () => void this.#resolveMisses.set(key, Date.now() + RESOLVE_MISS_TTL),
            )
            .finally(() => this.#resolving.delete(key));
          this.#resolving.set(key, lookup);
        }
        await lookup;
      });
    await Promise.all(lookups);
    const held = await this.#library.store.feeds();
    return Promise.all(
      wanted.map(async (key): Promise<ResolvedKey> => {
        if (key !== identity && this.#moderation.isBlocked(key)) return { publicKey: key, statement: null, feeds: [], blocked: true };
        const statement = await this.#statementOf(key);
        const prefix = `${key}/`;
        const feeds = held.filter((f) => f.id.startsWith(prefix) && f.head).map((f) => ({ name: f.id.slice(prefix.length), seq: f.head!.seq }));
        return { publicKey: key, statement: statement ? identityStatementToJSON(statement) : null, feeds, blocked: false };
      }),
    );
  }

  /** The statement `key`'s profile feed holds here, verified and of that key; null otherwise. */
  async #statementOf(key: string) {
    const feed = feedIdOf(decodePublicKey(key), PROFILE_FEED);
    if ((await this.#library.head(feed)) === null) return null;
    const doc = new Y.Doc();
    Y.applyUpdate(doc, (await this.#library.state(feed)).update);
    const bytes = doc.getMap('profile').get('statement');
    if (!(bytes instanceof Uint8Array)) return null;
    try {
      const statement = await decodeIdentityStatement(bytes);
      return encodePublicKey(statement.publicKey) === key ? statement : null;
    } catch (error) {
      this.#log.debug('profile of', key, 'holds no valid statement:', (error as P2pbError)?.code ?? error);
      return null;
    }
  }

  /** Writes a Yjs update to `identity`'s feed `name`: one envelope, signed through the vault. */
  async write(identity: string, name: string, update: Uint8Array): Promise<{ feed: string; seq: number }> {
    const head = await this.#library.write(identity, name, update);
    return { feed: feedIdOf(decodePublicKey(identity), name), seq: head.seq };
  }

  /** Follows `author` as `identity`: a live subscription in each of the identity's networks. */
  /**
   * Follows `author` as `identity`: a live subscription in each of the identity's networks.
   * Resolves once one of them is live (caught up, pushes flowing) or after `wait` ms — so a
   * page that subscribed hears of the next envelope — and keeps trying in the background.
   */
  async follow(identity: string, author: string, options: { wait?: number } = {}): Promise<void> {
    encodePublicKey(decodePublicKey(author));
    if (author === identity) return;
    const authors = this.#follows.get(identity) ?? new Set<string>();
    if (!authors.has(author)) {
      authors.add(author);
      this.#follows.set(identity, authors);
      await this.#save();
      for (const member of this.#membersOf(identity)) this.#reconcile(member);
    }
    const readies = this.#membersOf(identity)
      .map((member) => this.#live.get(member.stored.id)?.get(author)?.ready)
      .filter((ready): ready is Promise<void> => ready !== undefined);
    if (readies.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.any(readies).catch(() => {}),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, options.wait ?? FOLLOW_READY_WAIT))),
    ]);
    clearTimeout(timer);
  }

  async unfollow(identity: string, author: string): Promise<void> {
    const authors = this.#follows.get(identity);
    if (!authors?.delete(author)) return;
    await this.#save();
    for (const member of this.#membersOf(identity)) this.#reconcile(member);
  }

  /**
   * Items of feed `name` of `authors` (default: the identity and everyone it follows) held on
   * this drive, ordered by `sort`, at most `limit`. Following keeps them fresh; nothing here
   * waits on the network.
   */
  async query(identity: string, name: string, sort: SortSpec, options: { authors?: string[]; limit?: number } = {}): Promise<Item[]> {
    const { items } = await this.#collect(identity, name, options.authors);
    const trustOf = (author: string) => this.#moderation.trustScore(author);
    return sortItems(items, sort, { trustOf }).slice(0, Math.min(options.limit ?? MAX_QUERY_ITEMS, MAX_QUERY_ITEMS));
  }

  /** Authors whose items of feed `name` the query leaves out because the person blocks them, with how many. */
  async hidden(identity: string, name: string, authors?: string[]): Promise<Map<string, number>> {
    return (await this.#collect(identity, name, authors)).hidden;
  }

  /** The items of feed `name` held on this drive for a query: shown ones, and counts of blocked authors' items. */
  async #collect(identity: string, name: string, authors = [identity, ...this.following(identity)]): Promise<{ items: Item[]; hidden: Map<string, number> }> {
    const items: Item[] = [];
    const hidden = new Map<string, number>();
    for (const author of new Set(authors)) {
      const feed = feedIdOf(decodePublicKey(author), name);
      if ((await this.#library.head(feed)) === null) continue;
      const held = itemsOf(await this.#library.doc(feed), author, feed);
      if (this.#moderation.isBlocked(author)) {
        if (held.length > 0) hidden.set(author, held.length);
      } else {
        items.push(...held);
      }
    }
    return { items, hidden };
  }

  following(identity: string): string[] {
    return [...(this.#follows.get(identity) ?? [])];
  }

  async #save(): Promise<void> {
    await this.#kv.set(FOLLOWS_KEY, Object.fromEntries([...this.#follows].map(([identity, authors]) => [identity, [...authors]])));
  }
}
