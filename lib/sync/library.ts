/**
 * The feeds of one store, open and in step: what the engine reads, writes and serves. Every
 * envelope that arrives from a peer goes through lib/feeds (limits, signature, chain, Yjs)
 * before the store or a document sees it; every newly stored envelope — written here or
 * received — is announced to listeners (push subscriptions, apps).
 */
import * as Y from 'yjs';
import {
  createFeed,
  feedIdOf,
  parseFeedId,
  checkYjsUpdate,
  type EnvelopeRun,
  type Feed,
  type FeedEnvelopeEvent,
  type FeedSigner,
  type ReceiveManyResult,
} from '../feeds/index.ts';
import { pullFeed, type PullResult } from '../feeds/pull.ts';
import type { FeedHead, FeedStore, Ownership } from '../store/index.ts';
import { P2pbError } from '../util/errors.ts';
import { decodePublicKey, encodePublicKey } from '../identity/index.ts';
import type { Logger } from '../util/log.ts';
import type { FeedQuery, Head } from './wire.ts';
import { MAX_HEADS, PULL_BATCH_BYTES } from './constants.ts';

/** Open feeds kept in memory (with their documents); the least recently used one closes first. */
export const MAX_OPEN_FEEDS = 64;
/**
 * Compaction: after this many envelopes past the last snapshot, the author's device signs a new
 * snapshot and prunes the envelopes it covers, so new readers pull one snapshot and the rest.
 */
export const COMPACT_EVERY_ENVELOPES = 1024;

export interface ReceivedBatch {
  feed: string;
  /** Envelopes stored and applied. */
  appended: number;
  /** Refused envelopes (named errors); nothing of them was stored. */
  refused: P2pbError[];
  head: FeedHead | null;
  /** When envelopes arrived early: pull after this sequence to fill the gap. */
  gapAfter: number | null;
}

export interface EnvelopeListener {
  (feed: string, seq: number, bytes: Uint8Array, local: boolean): void;
}

export interface FeedLibraryInit {
  store: FeedStore;
  /** Signs for the person's identities (the vault); undefined for anyone else. */
  signerFor: (author: string) => FeedSigner | undefined;
  /** Whether `author`'s feeds are kept for good ("own": never evicted) rather than cached. */
  keeps: (author: string) => boolean;
  log: Logger;
  now?: () => number;
  /** Envelopes between snapshots of own feeds (default COMPACT_EVERY_ENVELOPES; 0: never). */
  compactEvery?: number;
  /**
   * Moderation: throws (KeyBlockedError) when the person blocks `author`, so nothing of theirs
   * that arrives from a peer is stored, applied or re-served. Unset: every author is received.
   */
  checkAuthor?: (author: string) => void;
}

export class FeedLibrary {
  readonly store: FeedStore;
  readonly #init: FeedLibraryInit;
  readonly #open = new Map<string, Promise<Feed>>();
  readonly #listeners = new Set<EnvelopeListener>();

  constructor(init: FeedLibraryInit) {
    this.store = init.store;
    this.#init = init;
  }

  onEnvelope(listener: EnvelopeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The open feed `id` (opened and loaded on first use: own when the author is one of ours). */
  feed(id: string): Promise<Feed> {
    const open = this.#open.get(id);
    if (open) {
      this.#open.delete(id);
      this.#open.set(id, open);
      return open;
    }
    const { author, name } = parseFeedId(id);
    const authorText = encodePublicKey(author);
    const signer = this.#init.signerFor(authorText);
    const feed = createFeed({
      store: this.store,
      author,
      name,
      ...(signer ? { signer } : {}),
      ownership: (signer || this.#init.keeps(authorText) ? 'own' : 'cached') satisfies Ownership,
      ...(this.#init.now ? { now: this.#init.now } : {}),
    });
    feed.addEventListener('envelope', (event) => {
      const detail = (event as CustomEvent<FeedEnvelopeEvent>).detail;
      for (const listener of this.#listeners) {
        try {
          listener(detail.feedId, detail.seq, detail.bytes, detail.local);
        } catch (error) {
          this.#init.log.warn('envelope listener failed', error);
        }
      }
    });
    const opening = feed.start().then(
      () => feed,
      (error: unknown) => {
        this.#open.delete(id);
        throw error;
      },
    );
    this.#open.set(id, opening);
    while (this.#open.size > MAX_OPEN_FEEDS) {
      const [oldest, promise] = this.#open.entries().next().value!;
      this.#open.delete(oldest);
      void promise.then((f) => f.stop()).catch(() => {});
    }
    return opening;
  }

  /**
   * Applies a batch from a peer: snapshot first, then envelopes — a compact run (what sync
   * sends) or whole envelopes — each rebuilt if need be and verified by lib/feeds.
   */
  async receive(
    id: string,
    batch: { snapshot: Uint8Array | null; run?: EnvelopeRun | null; envelopes?: readonly Uint8Array[] },
  ): Promise<ReceivedBatch> {
    this.#init.checkAuthor?.(encodePublicKey(parseFeedId(id).author));
    const feed = await this.feed(id);
    const refused: P2pbError[] = [];
    if (batch.snapshot) {
      try {
        await feed.receiveSnapshot(batch.snapshot);
      } catch (error) {
        if (!(error instanceof P2pbError) || error.code === 'STORAGE_FULL') throw error;
        refused.push(error);
      }
    }
    let appended = 0;
    const results: ReceiveManyResult[] = [];
    if (batch.run) results.push(await feed.receiveRun(batch.run));
    if (batch.envelopes && batch.envelopes.length > 0) results.push(await feed.receiveMany(batch.envelopes));
    for (const result of results) {
      appended += result.appended;
      for (const { error } of result.refused) {
        if (error.code === 'STORAGE_FULL') throw error;
        // An envelope we already hold is not a refusal worth reporting.
        if (error.code !== 'REPLAYED_ENVELOPE') refused.push(error);
      }
    }
    return { feed: id, appended, refused, head: feed.head(), gapAfter: feed.gapAfter() };
  }

  /** Writes a Yjs update to one of the person's feeds: one signed envelope. */
  async write(author: string, name: string, update: Uint8Array): Promise<FeedHead> {
    checkYjsUpdate(update, 'update');
    return this.transact(author, name, (doc) => Y.applyUpdate(doc, update));
  }

  /** Runs `fn` on the document of one of the person's feeds, as one signed envelope. */
  async transact(author: string, name: string, fn: (doc: Y.Doc) => void): Promise<FeedHead> {
    const id = feedIdOf(decodePublicKey(author), name);
    const feed = await this.feed(id);
    try {
      await feed.transact(fn);
    } catch (error) {
      // Refused (storage full, the vault locked…): the write did not happen. Its change is in
      // the open document only, so that document goes; the next use reopens it from the store.
      if (this.#open.get(id) !== undefined) this.#open.delete(id);
      await feed.stop({ discard: true });
      throw error;
    }
    const head = feed.head()!;
    void this.#maybeCompact(feed, head.seq).catch((error: unknown) => this.#init.log.warn('compacting', id, 'failed', error));
    return head;
  }

  readonly #compacting = new Set<string>();

  async #maybeCompact(feed: Feed, seq: number): Promise<void> {
    const every = this.#init.compactEvery ?? COMPACT_EVERY_ENVELOPES;
    if (every <= 0 || this.#compacting.has(feed.id)) return;
    const info = await this.store.feed(feed.id);
    if (seq - (info?.snapshotSeq ?? 0) < every) return;
    this.#compacting.add(feed.id);
    try {
      await feed.createSnapshot({ prune: true });
    } finally {
      this.#compacting.delete(feed.id);
    }
  }

  /** The feed's whole state as one Yjs update (empty document when nothing is held). */
  async state(id: string): Promise<{ update: Uint8Array; head: FeedHead | null }> {
    const feed = await this.feed(id);
    return { update: Y.encodeStateAsUpdate(feed.doc!), head: feed.head() };
  }

  /** The open document of `id` (read-only for callers: write through write()). */
  async doc(id: string): Promise<Y.Doc> {
    return (await this.feed(id)).doc!;
  }

  /** The stored head of `id` without opening it. */
  head(id: string): Promise<FeedHead | null> {
    return this.store.head(id);
  }

  /** Heads of stored feeds the query covers and `allowed` lets through. */
  async heads(query: FeedQuery, allowed: (feed: string) => boolean = () => true): Promise<Head[]> {
    const heads: Head[] = [];
    const named = new Set(query.feeds);
    const authors = new Set(query.authors);
    for (const info of await this.store.feeds()) {
      if (!info.head || !allowed(info.id)) continue;
      if (!named.has(info.id) && !authors.has(info.id.slice(0, info.id.indexOf('/')))) continue;
      heads.push({ feed: info.id, seq: info.head.seq, hash: info.head.hash });
      if (heads.length >= MAX_HEADS) break;
    }
    return heads;
  }

  /** One bounded batch for a peer: at most `limit` envelopes and PULL_BATCH_BYTES of them (docs/sync.md). */
  pull(id: string, after: number, limit: number, signal?: AbortSignal): Promise<PullResult> {
    return pullFeed(this.store, id, after, { limit, maxBytes: PULL_BATCH_BYTES, ...(signal ? { signal } : {}) });
  }

  async close(): Promise<void> {
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(open.map((p) => p.then((f) => f.stop()).catch(() => {})));
  }
}
