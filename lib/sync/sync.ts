/**
 * Sync in one network (`/p2pb/<networkId>/sync/2.0.0`, members only in a closed network): serves
 * what this peer holds to whoever asks, pulls feeds from their holders, and keeps push
 * subscriptions to the authors it follows — resumed after every disconnect. Holders are found
 * the way DESIGN.md says: the author's signed address record first (their devices, then their
 * delegated host), then DHT provider records of everyone who cached the author's feeds.
 */
import type { PeerId, Stream } from '@libp2p/interface';
import type { NetworkNode } from '../net/node.ts';
import { decodePublicKey } from '../identity/index.ts';
import { P2pbError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import type { FeedLibrary, ReceivedBatch } from './library.ts';
import {
  FIND_PROVIDERS_TIMEOUT,
  INVALID_SENDER_PAUSE,
  MAX_HOLDERS_TRIED,
  MAX_PROVIDERS,
  MAX_PULL_ROUNDS,
  SUBSCRIBE_RETRY_MAX,
  SUBSCRIBE_RETRY_MIN,
  SYNC_MAX_INBOUND_STREAMS,
  SYNC_MAX_OUTBOUND_STREAMS,
  SYNC_PROTOCOL_NAME,
  SYNC_PROTOCOL_VERSION,
  SYNC_REQUEST_TIMEOUT,
} from './constants.ts';
import { FeedNotFoundError, PEER_FAULT_CODES, PeerSentInvalidError, SyncFailedError, SyncTimeoutError } from './errors.ts';
import { requestDelegate, requestHeads, requestPull, runSubscription, serveSyncStream, type FeedSource } from './peer.ts';
import type { FeedQuery, Head } from './wire.ts';

export interface FeedSyncInit {
  node: NetworkNode;
  library: FeedLibrary;
  log: Logger;
  /** Whether this peer serves `feed` in this network (its own identity's, cached here, hosted). */
  serves(feed: string): boolean;
  /** Told when a feed was received in this network (it becomes servable here). */
  received?(feed: string): void;
  /** Hosts only: accept a hosting delegation. */
  delegate?: FeedSource['delegate'];
  /** Announce held authors in the DHT (default true). */
  provide?: boolean;
}

export interface FetchResult {
  /** Feeds brought up to date, with what each holder gave. */
  feeds: ReceivedBatch[];
  /** The peer that answered. */
  from: string;
}

/** A followed author: subscribed at one holder at a time, resumed until stop(). */
export interface Follow {
  readonly author: string;
  /** The peer the live subscription runs to, or null while (re)connecting. */
  readonly peer: string | null;
  /** Resolves when the first subscription is live (heads received and caught up). */
  readonly ready: Promise<void>;
  stop(): void;
}

const authorOf = (feed: string): string => feed.slice(0, feed.indexOf('/'));
const utf8 = new TextEncoder();
/** The DHT provider key for "holds feeds of author": the author's key with a sync prefix. */
const providerKey = (author: string): Uint8Array => utf8.encode(`/p2pb-feeds/${author}`);

export class FeedSync {
  readonly protocol: string;
  readonly #init: FeedSyncInit;
  readonly #follows = new Map<string, FollowState>();
  readonly #provided = new Set<string>();
  #unlisten: (() => void) | null = null;
  #abort = new AbortController();

  constructor(init: FeedSyncInit) {
    this.#init = init;
    this.protocol = `/p2pb/${init.node.networkId}/${SYNC_PROTOCOL_NAME}/${SYNC_PROTOCOL_VERSION}`;
  }

  async start(): Promise<void> {
    this.#abort = new AbortController();
    const { library } = this.#init;
    const source: FeedSource = {
      heads: (query) => library.heads(query, (feed) => this.#init.serves(feed)),
      pull: async (feed, after, limit, { signal }) => (this.#init.serves(feed) ? library.pull(feed, after, limit, signal) : null),
      onEnvelope: (listener) => library.onEnvelope((feed, seq, bytes) => this.#init.serves(feed) && listener(feed, seq, bytes)),
      ...(this.#init.delegate ? { delegate: this.#init.delegate } : {}),
    };
    await this.#init.node.handle(
      SYNC_PROTOCOL_NAME,
      SYNC_PROTOCOL_VERSION,
      (stream, connection) => serveSyncStream(stream, connection, source, { log: this.#init.log, signal: this.#abort.signal }),
      { maxInboundStreams: SYNC_MAX_INBOUND_STREAMS, maxOutboundStreams: SYNC_MAX_OUTBOUND_STREAMS },
    );
    // Announce authors whose feeds this peer holds and serves here, as they come.
    this.#unlisten = library.onEnvelope((feed) => {
      if (this.#init.serves(feed)) this.announce(authorOf(feed));
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort(new SyncFailedError('sync stopped'));
    this.#unlisten?.();
    for (const follow of this.#follows.values()) follow.stop();
    this.#follows.clear();
    await this.#init.node.libp2p.unhandle(this.protocol).catch(() => {});
  }

  /** Announces (once per run) that this peer holds feeds of `author` in this network. */
  announce(author: string): void {
    if (this.#init.provide === false || this.#provided.has(author) || !this.#init.node.running) return;
    this.#provided.add(author);
    this.#init.node.provide(providerKey(author), { signal: this.#abort.signal }).catch((error: unknown) => {
      this.#provided.delete(author);
      this.#init.log.debug('announcing', author, 'failed:', (error as Error)?.message ?? error);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Client

  /**
   * A sync stream to `peer`, opened within SYNC_REQUEST_TIMEOUT. That limit is for opening only:
   * the signal handed to libp2p stays with the stream, and a timer in it cut off a pull that was
   * still moving (a 4 MiB app between two browsers ended in TimeoutError after 15 s). The stream
   * still ends with this service or the caller's signal; each request sets its own time.
   */
  async #stream(peer: PeerId, signal?: AbortSignal): Promise<Stream> {
    const opening = new AbortController();
    const timer = setTimeout(() => opening.abort(new SyncTimeoutError('sync stream opened')), SYNC_REQUEST_TIMEOUT);
    try {
      return await this.#init.node.openStream(peer, this.protocol, {
        signal: AbortSignal.any([opening.signal, this.#abort.signal, ...(signal ? [signal] : [])]),
        maxOutboundStreams: SYNC_MAX_OUTBOUND_STREAMS,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Peers that may hold `author`'s feeds, best first. `source` (for following: freshest, and
   * pushes come straight from the writer): the author's record in its order — devices (direct
   * WebRTC where possible) and delegated hosts — then DHT providers. `cache` (for one-off reads,
   * so a popular author's own device is not what everybody reads from): delegated hosts, then
   * other holders found through DHT providers, then the author's devices.
   */
  async *holders(author: string, signal?: AbortSignal, prefer: 'source' | 'cache' = 'source'): AsyncGenerator<PeerId> {
    const { node } = this.#init;
    const tried = new Set<string>([node.peerId.toString()]);
    let count = 0;
    let record: Awaited<ReturnType<NetworkNode['resolve']>> | undefined;
    try {
      record = await node.resolve(author, { ...(signal ? { signal } : {}) });
    } catch (error) {
      signal?.throwIfAborted();
      this.#init.log.debug('no address record for', author, (error as P2pbError)?.code ?? error);
    }
    const entries = record?.servedBy ?? [];
    const self = this;
    async function* fromRecord(kinds: ReadonlyArray<'device' | 'host'>): AsyncGenerator<PeerId> {
      for (const entry of entries) {
        if (!kinds.includes(entry.kind) || tried.has(entry.peerId) || count >= MAX_HOLDERS_TRIED) continue;
        tried.add(entry.peerId);
        try {
          const { peerId } = await node.connect({ ...record!, servedBy: [entry] }, { ...(signal ? { signal } : {}) });
          count++;
          yield peerId;
        } catch (error) {
          signal?.throwIfAborted();
          self.#init.log.debug('holder', entry.peerId, 'unreachable:', (error as Error)?.message ?? error);
        }
      }
    }
    async function* fromProviders(): AsyncGenerator<PeerId> {
      if (count >= MAX_HOLDERS_TRIED) return;
      let providers: Awaited<ReturnType<NetworkNode['findProviders']>> = [];
      try {
        providers = await node.findProviders(providerKey(author), {
          limit: MAX_PROVIDERS,
          signal: AbortSignal.any([AbortSignal.timeout(FIND_PROVIDERS_TIMEOUT), ...(signal ? [signal] : [])]),
        });
      } catch (error) {
        signal?.throwIfAborted();
        self.#init.log.debug('provider lookup for', author, 'failed:', (error as Error)?.message ?? error);
      }
      // The author's own devices are providers too; with `cache` they come last, from the record.
      const devices = new Set(entries.filter((e) => e.kind === 'device').map((e) => e.peerId));
      for (const provider of shuffled(providers)) {
        const id = provider.id.toString();
        if (tried.has(id) || count >= MAX_HOLDERS_TRIED || (prefer === 'cache' && devices.has(id))) continue;
        tried.add(id);
        // Connected the way record peers are (direct, then WebRTC, relay last): a stream cannot
        // run on a relayed (limited) connection, which a plain dial may pick.
        try {
          const { peerId } = await node.connectPeer(id, provider.multiaddrs.map(String), { ...(signal ? { signal } : {}) });
          count++;
          yield peerId;
        } catch (error) {
          signal?.throwIfAborted();
          self.#init.log.debug('provider', id, 'unreachable:', (error as Error)?.message ?? error);
        }
      }
    }
    if (prefer === 'source') {
      yield* fromRecord(['device', 'host']);
      yield* fromProviders();
    } else {
      yield* fromRecord(['host']);
      yield* fromProviders();
      yield* fromRecord(['device']);
    }
  }

  /** Heads `peer` holds for the query. */
  async heads(peer: PeerId, query: FeedQuery, signal?: AbortSignal): Promise<Head[]> {
    return requestHeads(await this.#stream(peer, signal), query, signal);
  }

  /** Pulls `feed` from `peer` until this store reaches the peer's head (bounded rounds). */
  async pull(peer: PeerId, feed: string, signal?: AbortSignal): Promise<ReceivedBatch> {
    const { library } = this.#init;
    let total: ReceivedBatch = { feed, appended: 0, refused: [], head: await library.head(feed), gapAfter: null };
    for (let round = 0; round < MAX_PULL_ROUNDS; round++) {
      const after = total.head?.seq ?? 0;
      const batch = await requestPull(await this.#stream(peer, signal), feed, after, signal);
      if (batch.snapshot === null && batch.run === null) break;
      const result = await library.receive(feed, batch);
      this.markReceived(feed);
      total = { ...result, appended: total.appended + result.appended, refused: [...total.refused, ...result.refused] };
      if (result.appended === 0 && result.head?.seq === after) break; // nothing usable came
      if (!batch.head || (result.head?.seq ?? 0) >= batch.head.seq) break;
    }
    return total;
  }

  /**
   * Brings `author`'s feeds (all of them, or the named ones) up to date from the first holder
   * that answers. @throws FeedNotFoundError when no holder answered
   */
  async fetch(author: string, options: { feeds?: string[]; signal?: AbortSignal } = {}): Promise<FetchResult> {
    decodePublicKey(author);
    const query: FeedQuery = options.feeds ? { feeds: options.feeds, authors: [] } : { feeds: [], authors: [author] };
    let tried = 0;
    for await (const peer of this.holders(author, options.signal, 'cache')) {
      tried++;
      try {
        const heads = await this.heads(peer, query, options.signal);
        const feeds: ReceivedBatch[] = [];
        for (const head of heads) {
          if (authorOf(head.feed) !== author) continue;
          const local = await this.#init.library.head(head.feed);
          if (local && local.seq >= head.seq) continue;
          const batch = await this.pull(peer, head.feed, options.signal);
          checkSender(peer, batch); // what verified is kept; the rest from the next holder
          feeds.push(batch);
        }
        if (heads.length === 0) continue; // this holder has nothing: try the next
        return { feeds, from: peer.toString() };
      } catch (error) {
        options.signal?.throwIfAborted();
        this.#init.log.debug('fetching', author, 'from', peer.toString(), 'failed:', (error as P2pbError)?.code ?? error);
      }
    }
    throw new FeedNotFoundError(options.feeds?.[0] ?? `${author}/*`, tried);
  }

  /** Asks `peer` (an always-on node) to host this identity's feeds under `delegation`. */
  async delegate(peer: PeerId, delegation: Uint8Array, signal?: AbortSignal): Promise<void> {
    await requestDelegate(await this.#stream(peer, signal), delegation, signal);
  }

  /**
   * Follows `author`: a push subscription to one holder at a time, caught up on (re)connect,
   * retried with backoff while it fails and at once when a holder connects. `hint`: try this
   * peer first (a host following the device that just delegated to it).
   */
  follow(author: string, options: { hint?: PeerId } = {}): Follow {
    decodePublicKey(author);
    const existing = this.#follows.get(author);
    if (existing) return existing;
    const state = new FollowState(this, author, this.#init.node, this.#init.library, this.#init.log, options.hint, () => {
      this.#follows.delete(author);
    });
    this.#follows.set(author, state);
    state.run();
    return state;
  }

  following(): string[] {
    return [...this.#follows.keys()];
  }

  /** @internal */
  openStream(peer: PeerId, signal?: AbortSignal): Promise<Stream> {
    return this.#stream(peer, signal);
  }

  /** @internal A feed came in through this network: it is cached, served and announced here. */
  markReceived(feed: string): void {
    this.#init.received?.(feed);
    if (this.#init.serves(feed)) this.announce(authorOf(feed));
  }
}

class FollowState implements Follow {
  readonly author: string;
  peer: string | null = null;
  readonly ready: Promise<void>;
  #resolveReady!: () => void;
  readonly #sync: FeedSync;
  readonly #node: NetworkNode;
  readonly #library: FeedLibrary;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #onStop: () => void;
  #hint: PeerId | undefined;
  /** Holders that sent what does not verify, and until when they are passed over. */
  readonly #invalidSenders = new Map<string, number>();
  #wake: (() => void) | null = null;

  constructor(sync: FeedSync, author: string, node: NetworkNode, library: FeedLibrary, log: Logger, hint: PeerId | undefined, onStop: () => void) {
    this.#sync = sync;
    this.author = author;
    this.#node = node;
    this.#library = library;
    this.#log = log;
    this.#hint = hint;
    this.#onStop = onStop;
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.ready.catch(() => {});
  }

  stop(): void {
    this.#abort.abort(new SyncFailedError('unfollowed'));
    this.#wake?.();
    this.#node.libp2p.removeEventListener('peer:connect', this.#onConnect);
    this.#onStop();
  }

  readonly #onConnect = (): void => this.#wake?.();

  run(): void {
    this.#node.libp2p.addEventListener('peer:connect', this.#onConnect);
    void this.#loop().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#log.warn('following', this.author, 'stopped:', error);
    });
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    let delay = SUBSCRIBE_RETRY_MIN;
    while (!signal.aborted) {
      let subscribed = false;
      // The peer we were just subscribed to (or the hint) first: a dropped connection is usually
      // back at once, and a full lookup costs a DHT query and a new WebRTC handshake.
      const first = this.#hint;
      const candidates: AsyncIterable<PeerId> = first ? then(one(first), () => this.#sync.holders(this.author, signal)) : this.#sync.holders(this.author, signal);
      this.#hint = undefined;
      for await (const peer of candidates) {
        if (signal.aborted) return;
        if ((this.#invalidSenders.get(peer.toString()) ?? 0) > Date.now()) continue;
        try {
          await this.#subscribe(peer, signal);
          subscribed = true;
          delay = SUBSCRIBE_RETRY_MIN;
          this.#hint = peer;
          break; // the subscription ended (disconnect): that peer again, then any holder
        } catch (error) {
          if (signal.aborted) return;
          if ((error as P2pbError)?.code === 'PEER_SENT_INVALID') {
            this.#invalidSenders.set(peer.toString(), Date.now() + INVALID_SENDER_PAUSE);
            this.#log.warn('following', this.author, ': leaving a holder for another:', (error as Error).message);
          } else {
            this.#log.debug('subscription to', peer.toString(), 'for', this.author, 'failed:', (error as P2pbError)?.code ?? error);
          }
        } finally {
          this.peer = null;
        }
      }
      if (subscribed) continue;
      // Nobody answered: wait (less when any peer connects: maybe a holder came back).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
      delay = Math.min(delay * 2, SUBSCRIBE_RETRY_MAX);
    }
  }

  async #subscribe(peer: PeerId, signal: AbortSignal): Promise<void> {
    const stream = await this.#sync.openStream(peer, signal);
    const query: FeedQuery = { feeds: [], authors: [this.author] };
    await runSubscription(
      stream,
      query,
      {
        onHeads: async (heads) => {
          this.peer = peer.toString();
          for (const head of heads) {
            const local = await this.#library.head(head.feed);
            if (!local || local.seq < head.seq) checkSender(peer, await this.#sync.pull(peer, head.feed, signal));
          }
          this.#resolveReady();
        },
        onPush: async (feed, run) => {
          const result = await this.#library.receive(feed, { snapshot: null, run });
          this.#sync.markReceived(feed);
          // A tampered push ends the subscription: the next holder's heads bring what was refused.
          checkSender(peer, result);
          if (result.gapAfter !== null || result.refused.some((e) => e.code === 'OUT_OF_CHAIN')) {
            checkSender(peer, await this.#sync.pull(peer, feed, signal));
          }
        },
      },
      signal,
    );
  }
}

/** Throws PeerSentInvalidError when `peer` sent records of the batch's feed that do not verify. */
function checkSender(peer: PeerId, batch: Pick<ReceivedBatch, 'feed' | 'refused'>): void {
  const faults = batch.refused.filter((e) => PEER_FAULT_CODES.has(String(e.code)));
  if (faults.length > 0) throw new PeerSentInvalidError(peer.toString(), batch.feed, faults);
}

/** A copy of `list` in random order (readers spread over holders instead of all taking the first). */
function shuffled<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function* one<T>(value: T): AsyncGenerator<T> {
  yield value;
}

async function* then<T>(head: AsyncIterable<T>, rest: () => AsyncIterable<T>): AsyncGenerator<T> {
  yield* head;
  yield* rest();
}

