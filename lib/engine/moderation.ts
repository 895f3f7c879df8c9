/**
 * The person's moderation, applied beneath every app (docs/moderation.md "Where it applies"):
 * keeps their settings (own entries, punch-throughs, subscriptions), fetches and follows the
 * community lists they subscribe to, reads the published lists of keys they trust (the trust
 * web), and compiles one EffectiveView that the engine asks on every read, receive and serve.
 *
 * Lists are feeds: a subscribed list is fetched from whichever of the person's networks holds it
 * and its curator is followed in all of them, so a new entry takes effect as it is pushed. The
 * view is one decision per key, so a block holds in every network at once.
 */
import {
  KeyBlockedError,
  LIST_FEED_PREFIX,
  ListNotFoundError,
  OWN_LIST_FEED,
  addPunchThrough,
  createEffectiveView,
  emptyModerationState,
  listIdOf,
  parseListId,
  parseModerationState,
  readList,
  removeOwnEntry,
  removePunchThrough,
  setOwnEntry,
  subscribe,
  unsubscribe,
  viewInputOf,
  writeListChanges,
  checkKeyText,
  type EffectiveView,
  type ListChange,
  type ListReadResult,
  type ListRef,
  type ModerationList,
  type ModerationState,
  type Verdict,
} from '../moderation/index.ts';
import { formatLink } from '../net/invite.ts';
import { isValidFeedName } from '../feeds/codec.ts';
import type { KeyValueStore } from '../kv/index.ts';
import type { FeedLibrary } from '../sync/library.ts';
import type { Logger } from '../util/log.ts';
import { P2pbError } from '../util/errors.ts';
import type { NetworkManager } from './networks.ts';
import { ProviderError, ProviderErrorCode, type ListPreview, type ModerationInfo, type SubscriptionInfo, type VerdictInfo } from '../protocol/index.ts';

const STATE_KEY = 'moderation';
/** Lists the person publishes from their own entries: kept in step as the entries change. */
const PUBLISHED_KEY = 'moderation-published';

export function verdictInfo(verdict: Verdict): VerdictInfo {
  return {
    key: verdict.key,
    decision: verdict.decision,
    because: verdict.because?.text ?? null,
    reasons: verdict.reasons.map((r) => ('list' in r ? { kind: r.kind, text: r.text, list: listIdOf(r.list) } : { kind: r.kind, text: r.text })),
  };
}

export interface ModerationServiceInit {
  kv: KeyValueStore;
  library: FeedLibrary;
  networks: NetworkManager;
  log: Logger;
  now: () => number;
  /** The person's identities (public keys): always allowed. */
  self: () => Iterable<string>;
  /** Keep `author`'s feeds followed in every network (a list's curator), or stop. */
  followEverywhere: (author: string, follow: boolean) => void;
}

export class ModerationService {
  readonly #c: ModerationServiceInit;
  #state: ModerationState = emptyModerationState();
  #published: { identity: string; feed: string }[] = [];
  /** Subscribed lists as last read from their feeds, by list id. */
  readonly #reads = new Map<string, ListReadResult>();
  /** Keys' own published lists (`<key>/moderation/own`) held on this drive: the trust web. */
  readonly #ownLists = new Map<string, ModerationList>();
  #view: EffectiveView = createEffectiveView();
  readonly #listeners = new Set<() => void>();
  #unlisten: (() => void) | null = null;
  readonly #dirty = new Set<string>();
  #rereading: Promise<void> | null = null;

  constructor(init: ModerationServiceInit) {
    this.#c = init;
  }

  /** Told after the effective view changed (a list, an entry, a punch-through). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get view(): EffectiveView {
    return this.#view;
  }

  isBlocked(key: string): boolean {
    return this.#view.isBlocked(key);
  }

  /** @throws KeyBlockedError when the person blocks `key` */
  check(key: string): void {
    if (this.#view.isBlocked(key)) throw new KeyBlockedError(key, this.#view.explain(key).because?.text ?? 'blocked');
  }

  async load(): Promise<void> {
    const { state, errors } = parseModerationState(await this.#c.kv.get(STATE_KEY));
    for (const error of errors) this.#c.log.warn('moderation setting dropped:', error.message);
    this.#state = state;
    this.#published = (await this.#c.kv.get<{ identity: string; feed: string }[]>(PUBLISHED_KEY)) ?? [];
    for (const s of state.subscriptions) await this.#read(s.list);
    this.#unlisten = this.#c.library.onEnvelope((feed) => {
      const slash = feed.indexOf('/');
      const name = feed.slice(slash + 1);
      // A subscribed list (also one not fetched yet: it applies as it arrives), or a key's own
      // published list (the trust web).
      if (name === OWN_LIST_FEED || this.#state.subscriptions.some((sub) => listIdOf(sub.list) === feed)) this.#reread(feed);
    });
    this.rebuild(false);
  }

  /** Follows the curators of subscribed lists (call once networks run). */
  startFollows(): void {
    for (const s of this.#state.subscriptions) this.#c.followEverywhere(s.list.curator, true);
  }

  stop(): void {
    this.#unlisten?.();
  }

  /** Compiles the view again (also when the person's identities changed); `notify`: tell listeners. */
  rebuild(notify = true): void {
    const lists = new Map<string, ModerationList>();
    for (const [id, read] of this.#reads) lists.set(id, read.list);
    this.#view = createEffectiveView(viewInputOf(this.#state, lists, { self: this.#c.self(), published: (key) => this.#ownLists.get(key) }));
    if (!notify) return;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        this.#c.log.warn('moderation listener failed', error);
      }
    }
  }

  /** A list feed changed: read it again (coalesced: a burst of envelopes is one read). */
  #reread(feed: string): void {
    this.#dirty.add(feed);
    this.#rereading ??= (async () => {
      await Promise.resolve();
      while (this.#dirty.size > 0) {
        const [id] = this.#dirty;
        this.#dirty.delete(id!);
        try {
          await this.#read(parseListId(id));
        } catch (error) {
          this.#c.log.warn('reading list', id, 'failed', error);
        }
      }
      this.#rereading = null;
      this.rebuild();
    })();
  }

  /** Reads list `ref` from this drive into #reads (a subscription) or #ownLists (the trust web). */
  async #read(ref: ListRef): Promise<ListReadResult | null> {
    const id = listIdOf(ref);
    if ((await this.#c.library.head(id)) === null) return null;
    const result = readList(await this.#c.library.doc(id), ref);
    if (result.refused) this.#c.log.warn('list', id, 'refused:', result.refused.message);
    if (this.#state.subscriptions.some((s) => listIdOf(s.list) === id)) this.#reads.set(id, result);
    if (ref.feed === OWN_LIST_FEED) this.#ownLists.set(ref.curator, result.list);
    return result;
  }

  /** Brings list `ref` onto this drive from whichever network has it. @throws ListNotFoundError */
  async #fetch(ref: ListRef): Promise<string> {
    const id = listIdOf(ref);
    if (this.#isSelf(ref.curator)) {
      if ((await this.#c.library.head(id)) !== null) return 'local';
      throw new ListNotFoundError(id);
    }
    let last: unknown;
    for (const member of this.#c.networks.members()) {
      if (!member.sync) continue;
      try {
        const result = await member.sync.fetch(ref.curator, { feeds: [id] });
        if (result.feeds.some((f) => f.head !== null) || (await this.#c.library.head(id)) !== null) return result.from;
      } catch (error) {
        last = error;
      }
    }
    if ((await this.#c.library.head(id)) !== null) return 'local';
    throw new ListNotFoundError(id, { cause: last });
  }

  #isSelf(key: string): boolean {
    for (const own of this.#c.self()) if (own === key) return true;
    return false;
  }

  async #save(state: ModerationState): Promise<void> {
    await this.#c.kv.set(STATE_KEY, state);
    this.#state = state;
  }

  // ---- what the UI asks -------------------------------------------------------------------

  info(): ModerationInfo {
    return {
      own: this.#state.own.map((e) => ({ ...e })),
      punchThroughs: this.#state.punchThroughs.map((p) => ({ ...p })),
      subscriptions: this.#state.subscriptions.map((s) => {
        const id = listIdOf(s.list);
        const read = this.#reads.get(id);
        return {
          list: id,
          curator: s.list.curator,
          feed: s.list.feed,
          ts: s.ts,
          status: read === undefined ? 'pending' : read.refused ? 'refused' : 'ok',
          blocks: read?.list.blocks ?? 0,
          trusts: read?.list.trusts ?? 0,
          skipped: read?.skipped ?? 0,
          error: read?.refused?.message ?? null,
        };
      }),
      published: this.#published.map((p) => {
        const list = `${p.identity}/${p.feed}`;
        return { list, link: formatLink('list', list), entries: this.#state.own.length };
      }),
      trustDepth: this.#state.trustDepth,
      stats: this.#view.stats,
    };
  }

  explain(key: string): VerdictInfo {
    return verdictInfo(this.#view.explain(checkKeyText(key)));
  }

  /** Sets the person's own entry for `key` ('none' removes it). A new block ends a punch-through for the key. */
  async setEntry(key: string, kind: 'block' | 'trust' | 'none', reason?: string): Promise<void> {
    checkKeyText(key);
    let state = kind === 'none' ? removeOwnEntry(this.#state, key) : setOwnEntry(this.#state, { key, kind, ts: this.#c.now(), ...(reason ? { reason } : {}) });
    // Blocking again is the person changing their mind about a key they let through.
    if (kind === 'block') state = removePunchThrough(state, key);
    await this.#save(state);
    this.rebuild();
    await this.#republish();
  }

  /** Lets `key` through whatever lists say (allow), or stops doing so. */
  async punchThrough(key: string, allow: boolean, reason?: string): Promise<void> {
    checkKeyText(key);
    await this.#save(allow ? addPunchThrough(this.#state, { key, ts: this.#c.now(), ...(reason ? { reason } : {}) }) : removePunchThrough(this.#state, key));
    this.rebuild();
  }

  async setTrustDepth(depth: number): Promise<void> {
    const { state } = parseModerationState({ ...this.#state, trustDepth: depth });
    if (state.trustDepth !== depth) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'trustDepth must be an integer in 1..4');
    await this.#save(state);
    this.rebuild();
  }

  /** What list `id` is (curator, size), fetching it when not held; nothing is subscribed. */
  async preview(id: string): Promise<ListPreview> {
    const ref = parseListId(id);
    const from = await this.#fetch(ref);
    const result = readList(await this.#c.library.doc(id), ref);
    return {
      list: id,
      curator: ref.curator,
      feed: ref.feed,
      blocks: result.list.blocks,
      trusts: result.list.trusts,
      skipped: result.skipped,
      refused: result.refused?.message ?? null,
      subscribed: this.#state.subscriptions.some((s) => listIdOf(s.list) === id),
      from,
    };
  }

  /**
   * Subscribes to list `id`: kept on this drive, its curator followed in every network, its
   * entries in the view at once. @throws ListNotFoundError when nobody reachable holds it
   */
  async subscribe(id: string): Promise<SubscriptionInfo> {
    const ref = parseListId(id);
    await this.#fetch(ref);
    await this.#save(subscribe(this.#state, ref, this.#c.now()));
    await this.#read(ref);
    this.#c.followEverywhere(ref.curator, true);
    this.rebuild();
    return this.info().subscriptions.find((s) => s.list === id)!;
  }

  async unsubscribe(id: string): Promise<void> {
    const ref = parseListId(id);
    await this.#save(unsubscribe(this.#state, ref));
    this.#reads.delete(id);
    if (!this.#state.subscriptions.some((s) => s.list.curator === ref.curator)) this.#c.followEverywhere(ref.curator, false);
    this.rebuild();
  }

  /**
   * Publishes the person's own entries as community list `name` of `identity`
   * (`moderation/lists/<name>`): a feed others subscribe to by its link. Kept in step as the
   * entries change. Punch-throughs are never published.
   */
  async publish(identity: string, name: string): Promise<{ list: string; link: string; entries: number }> {
    checkKeyText(identity);
    if (!this.#isSelf(identity)) throw new P2pbError('UNKNOWN_IDENTITY', 'lists are published by one of your identities');
    const feed = `${LIST_FEED_PREFIX}lists/${name}`;
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name) || !isValidFeedName(feed)) {
      throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'a list name is 1..64 of a-z 0-9 - (starting with a letter or digit)');
    }
    if (this.#state.own.length === 0) throw new ProviderError(ProviderErrorCode.INVALID_PARAMS, 'nothing to publish yet: block or trust a key first');
    if (!this.#published.some((p) => p.identity === identity && p.feed === feed)) {
      this.#published = [...this.#published, { identity, feed }];
      await this.#c.kv.set(PUBLISHED_KEY, this.#published);
    }
    await this.#sync(identity, feed);
    const list = `${identity}/${feed}`;
    return { list, link: formatLink('list', list), entries: this.#state.own.length };
  }

  /** Writes what changed between the published list `feed` and the own entries. */
  async #sync(identity: string, feed: string): Promise<void> {
    const id = `${identity}/${feed}`;
    const held = (await this.#c.library.head(id)) === null ? new Map() : readList(await this.#c.library.doc(id), { curator: identity, feed }).list.entries;
    const changes: ListChange[] = [];
    const own = new Map(this.#state.own.map((e) => [e.key, e]));
    for (const entry of own.values()) {
      const was = held.get(entry.key);
      if (!was || was.kind !== entry.kind || was.reason !== entry.reason || was.ts !== entry.ts) changes.push({ op: 'put', entry });
    }
    for (const key of held.keys()) if (!own.has(key)) changes.push({ op: 'remove', key });
    if (changes.length === 0) return;
    await writeListChanges({ transact: async (fn) => void (await this.#c.library.transact(identity, feed, fn)) }, changes);
  }

  async #republish(): Promise<void> {
    for (const p of this.#published) {
      await this.#sync(p.identity, p.feed).catch((error: unknown) => this.#c.log.warn('republishing', p.feed, 'failed', error));
    }
  }
}
