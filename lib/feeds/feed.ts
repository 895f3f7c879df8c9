/**
 * A feed: (author key, feed name) backed by a Y.Doc and a FeedStore.
 *
 * Writing (a signer for the author key is given): every Yjs transaction on `doc` becomes one
 * signed envelope (seq = head + 1, prev = hash of the head), stored before it is announced.
 * Reading: envelopes from anywhere are checked — size, strict CBOR, signature, Yjs parse, feed,
 * chain — and stored, and only then applied to `doc`. Untrusted bytes never touch the document
 * first. Rules: docs/feeds.md.
 */
import * as Y from 'yjs';
import { copyBytes, equalBytes } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import type { FeedHead, FeedStore, Ownership, StoredEnvelope } from '../store/index.ts';
import {
  ZERO_HASH,
  createSnapshot,
  decodeSnapshot,
  envelopeLayout,
  feedIdOf,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from './codec.ts';
import type { DecodeResult, EnvelopeLayout, FeedEnvelope, FeedId, FeedSigner, ParsedEnvelope } from './codec.ts';
import { readEnvelope } from './envelope-bytes.ts';
import { checkRun } from './run.ts';
import type { EnvelopeRun } from './run.ts';
import { LOAD_BATCH_BYTES, LOAD_BATCH_ENVELOPES, MAX_HELD_BYTES, MAX_HELD_ENVELOPES, MAX_UPDATE_BYTES, RUN_INGEST_CHUNK } from './constants.ts';
import {
  EmptyFeedError,
  EnvelopeTooLargeError,
  FeedNotStartedError,
  FeedNotWritableError,
  ForkDetectedError,
  MalformedEnvelopeError,
  OutOfChainError,
  ReplayedEnvelopeError,
  SignerMismatchError,
  WrongFeedError,
} from './errors.ts';
import { pullFeed } from './pull.ts';
import type { PullResult } from './pull.ts';

export interface FeedInit {
  store: FeedStore;
  /** The author's public key (32 bytes). */
  author: Uint8Array;
  name: string;
  /** Makes the feed writable here. Must sign for `author`. The feed never sees a secret key. */
  signer?: FeedSigner;
  /** How the store files it. Default: "own" with a signer, "cached" without. */
  ownership?: Ownership;
  /** The document to keep in step (default: a new Y.Doc); false for a headless feed that only stores and serves. */
  doc?: Y.Doc | false;
  /** Clock for envelope timestamps (ms). */
  now?: () => number;
  /** Bounds of the out-of-order buffer (defaults MAX_HELD_ENVELOPES, MAX_HELD_BYTES). */
  maxHeldEnvelopes?: number;
  maxHeldBytes?: number;
}

/** What happened to one received envelope that was not refused. */
export type ReceiveOutcome =
  /** Stored and applied; `released` held envelopes that it unblocked were applied after it. */
  | { status: 'appended'; seq: number; head: FeedHead; released: number }
  /** Valid but early: held until the envelopes before it arrive (pull after `head`). */
  | { status: 'held'; seq: number; head: FeedHead | null };

export interface ReceiveManyResult {
  /** Envelopes stored and applied (including held ones that were released). */
  appended: number;
  /** Envelopes of this call now held waiting for a gap to fill. */
  held: number;
  /** Refusals, by index into the input. */
  refused: Array<{ index: number; error: P2pbError }>;
  head: FeedHead | null;
  /** When envelopes are held: the sequence to pull after to fill the gap; else null. */
  gapAfter: number | null;
}

export type SnapshotOutcome = { status: 'applied' | 'stored' | 'ignored'; seq: number; head: FeedHead | null };

/** Detail of the "envelope" event: a newly stored envelope (what push-sync sends on). */
export interface FeedEnvelopeEvent {
  readonly feedId: FeedId;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly local: boolean;
}
/** Detail of the "fork" event. */
export interface FeedForkEvent {
  readonly feedId: FeedId;
  readonly seq: number;
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}
/** Detail of the "snapshot" event. */
export interface FeedSnapshotEvent {
  readonly feedId: FeedId;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly local: boolean;
}

const toStored = (e: FeedEnvelope): StoredEnvelope => ({ seq: e.seq, hash: e.hash, prev: e.prev, bytes: e.bytes });

/** Local changes published per store write at most (each is still its own envelope). */
const PUBLISH_BATCH = 64;

export class Feed extends EventTarget {
  readonly author: Uint8Array;
  readonly name: string;
  readonly id: FeedId;
  /** The document: write to it (when writable) and observe it. Null for a headless feed. */
  readonly doc: Y.Doc | null;
  readonly ownership: Ownership;

  readonly #store: FeedStore;
  /** Author, name and encoded prefix: every envelope of this feed is signed and rebuilt with it. */
  readonly #layout: EnvelopeLayout;
  readonly #signer: FeedSigner | undefined;
  readonly #now: () => number;
  readonly #maxHeld: number;
  readonly #maxHeldBytes: number;
  /** Origin of every transaction this feed applies, so its update handler can skip them. */
  readonly #remote = Symbol('p2pb-feed-remote');

  #started = false;
  #release: (() => void) | null = null;
  #head: FeedHead | null = null;
  #lock: Promise<unknown> = Promise.resolve();
  readonly #held = new Map<number, FeedEnvelope>();
  #heldBytes = 0;
  /** Local updates not yet stored as envelopes, oldest first… */
  readonly #pending: Uint8Array[] = [];
  /** …and envelopes already signed for the first of them (reused on retry: never two different envelopes at one seq). */
  #prepared: FeedEnvelope[] = [];
  #publishing: Promise<void> | null = null;
  #publishError: P2pbError | null = null;
  /** Set when a local change could not be published at all: the local doc is ahead of the feed. */
  #broken: P2pbError | null = null;

  constructor(init: FeedInit) {
    super();
    this.author = copyBytes(init.author);
    this.name = init.name;
    this.id = feedIdOf(this.author, this.name);
    this.#layout = envelopeLayout(this.author, this.name);
    if (init.signer && !equalBytes(init.signer.publicKey, this.author)) throw new SignerMismatchError();
    this.#store = init.store;
    this.#signer = init.signer;
    this.ownership = init.ownership ?? (init.signer ? 'own' : 'cached');
    this.doc = init.doc === false ? null : (init.doc ?? new Y.Doc());
    this.#now = init.now ?? Date.now;
    this.#maxHeld = init.maxHeldEnvelopes ?? MAX_HELD_ENVELOPES;
    this.#maxHeldBytes = init.maxHeldBytes ?? MAX_HELD_BYTES;
  }

  get writable(): boolean {
    return this.#signer !== undefined;
  }

  /** The last envelope of the chain this feed holds (or the snapshot standing in for it). */
  head(): FeedHead | null {
    return this.#head ? { seq: this.#head.seq, hash: copyBytes(this.#head.hash) } : null;
  }

  /** Local changes not yet stored as envelopes. */
  get pendingChanges(): number {
    return this.#pending.length;
  }

  /** When out-of-order envelopes are held: pull after this sequence to fill the gap. */
  gapAfter(): number | null {
    return this.#held.size > 0 ? (this.#head?.seq ?? 0) : null;
  }

  /** Registers the feed in the store and loads the document from it (snapshot, then envelopes). */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#started) return;
    options.signal?.throwIfAborted();
    await this.#store.ensureFeed(this.id, { ownership: this.ownership, signal: options.signal });
    this.#release = this.#store.retain(this.id);
    try {
      const info = await this.#store.feed(this.id);
      this.#head = info?.head ?? null;
      if (this.doc) await this.#load(this.doc, options.signal);
    } catch (error) {
      this.#release();
      this.#release = null;
      throw error;
    }
    this.doc?.on('update', this.#onUpdate);
    this.#started = true;
  }

  /**
   * Publishes what it can of the pending local changes, then detaches from the doc and the store.
   * `discard`: drop unpublished local changes instead (the document is then ahead of the feed:
   * throw it away and reopen the feed from the store).
   */
  async stop(options: { discard?: boolean } = {}): Promise<void> {
    if (!this.#started) return;
    if (options.discard) {
      this.#pending.length = 0;
      this.#prepared = [];
    }
    try {
      if (this.writable && !options.discard) await this.flush().catch(() => {});
    } finally {
      this.doc?.off('update', this.#onUpdate);
      this.#release?.();
      this.#release = null;
      this.#started = false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /**
   * Runs `fn` in one Yjs transaction (one envelope) and resolves once it is signed and stored.
   * @throws FeedNotWritableError; whatever flush() throws
   */
  async transact(fn: (doc: Y.Doc) => void, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#requireStarted();
    if (!this.writable) throw new FeedNotWritableError();
    if (this.#broken) throw this.#broken;
    const doc = this.doc;
    if (!doc) throw new FeedNotWritableError('a headless feed has no document to write to');
    doc.transact(() => fn(doc));
    await this.flush(options);
  }

  /**
   * Signs and stores every pending local change. Rejects with the reason when it cannot
   * (StorageFullError, the signer's error, EnvelopeTooLargeError); the changes stay pending and
   * the next flush() tries again.
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    for (;;) {
      options.signal?.throwIfAborted();
      if (this.#broken) throw this.#broken;
      if (this.#pending.length === 0 && !this.#publishing) return;
      this.#publishError = null;
      await this.#kick();
      if (this.#publishError) throw this.#publishError;
    }
  }

  /**
   * Signs a snapshot of the document as of the current head and stores it, so new readers can
   * start from it. `prune`: also delete the envelopes it covers from this store.
   * @throws FeedNotWritableError, EmptyFeedError, SnapshotTooLargeError
   */
  async createSnapshot(options: { prune?: boolean; signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.#requireStarted();
    const signer = this.#signer;
    const doc = this.doc;
    if (!signer || !doc) throw new FeedNotWritableError('only the author, with the document, can snapshot a feed');
    for (;;) {
      await this.flush(options);
      const bytes = await this.#withLock(async () => {
        if (this.#pending.length > 0) return null; // changed meanwhile: flush again
        const head = this.#head;
        if (!head) throw new EmptyFeedError();
        // Synchronously, with nothing pending: the document is exactly envelopes 1..head.
        const state = Y.encodeStateAsUpdate(doc);
        const snapshot = await createSnapshot({
          signer,
          feedName: this.name,
          seq: head.seq,
          headHash: head.hash,
          timestamp: this.#now(),
          state,
        });
        await this.#store.putSnapshot(this.id, { seq: head.seq, hash: head.hash, bytes: snapshot.bytes }, options);
        if (options.prune) await this.#store.prune(this.id, head.seq, options);
        this.#emit<FeedSnapshotEvent>('snapshot', { feedId: this.id, seq: head.seq, bytes: snapshot.bytes, local: true });
        return snapshot.bytes;
      });
      if (bytes) return bytes;
    }
  }

  readonly #onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this.#remote) return;
    if (!this.writable) {
      this.#emitError(new FeedNotWritableError('a local change to a feed this device cannot sign was not published'));
      return;
    }
    if (this.#broken) {
      this.#emitError(this.#broken);
      return;
    }
    if (update.length > MAX_UPDATE_BYTES) {
      // The change is in the local document but can never be published: stop publishing, so
      // readers never get later changes that depend on it. Reopening the feed drops it.
      this.#broken = new EnvelopeTooLargeError(update.length, MAX_UPDATE_BYTES);
      this.#emitError(this.#broken);
      return;
    }
    this.#pending.push(update);
    void this.#kick();
  };

  #kick(): Promise<void> {
    this.#publishing ??= this.#publishLoop().finally(() => {
      this.#publishing = null;
    });
    return this.#publishing;
  }

  async #publishLoop(): Promise<void> {
    while (this.#pending.length > 0) {
      try {
        await this.#withLock(() => this.#publishBatch());
      } catch (error) {
        this.#publishError = error instanceof P2pbError ? error : new P2pbError('PUBLISH_FAILED', String(error), { cause: error });
        this.#emitError(this.#publishError);
        return;
      }
    }
  }

  async #publishBatch(): Promise<void> {
    const signer = this.#signer!;
    this.#mergePending();
    const count = Math.min(this.#pending.length, PUBLISH_BATCH);
    // Sign in order: each envelope names the hash of the one before.
    for (let i = this.#prepared.length; i < count; i++) {
      const before = i === 0 ? this.#head : { seq: this.#prepared[i - 1]!.seq, hash: this.#prepared[i - 1]!.hash };
      this.#prepared.push(
        await signEnvelope(
          this.#layout,
          signer,
          { seq: (before?.seq ?? 0) + 1, prev: before?.hash ?? ZERO_HASH, timestamp: this.#now(), update: this.#pending[i]! },
          { updateFromDoc: true }, // #onUpdate takes only what this feed's Y.Doc emitted
        ),
      );
    }
    const batch = this.#prepared.slice(0, count);
    await this.#store.append(this.id, batch.map(toStored));
    this.#prepared = this.#prepared.slice(count);
    this.#pending.splice(0, count);
    const last = batch[batch.length - 1]!;
    this.#head = { seq: last.seq, hash: last.hash };
    for (const envelope of batch) {
      this.#emit<FeedEnvelopeEvent>('envelope', { feedId: this.id, seq: envelope.seq, bytes: envelope.bytes, local: true });
    }
  }

  /**
   * Local changes that queued while the last envelope was being signed and stored (an editor's
   * keystrokes) become one update, so one envelope: one signature and one record for a burst
   * instead of one per transaction (each costs ~80 bytes on the wire and a trip to the signer).
   * The first change of a burst is never held back. Only changes not yet signed are merged, and
   * only while the merged update stays within MAX_UPDATE_BYTES.
   */
  #mergePending(): void {
    const from = this.#prepared.length;
    let to = from;
    let bytes = 0;
    while (to < this.#pending.length && bytes + this.#pending[to]!.length <= MAX_UPDATE_BYTES) bytes += this.#pending[to++]!.length;
    if (to - from < 2) return;
    const merged = Y.mergeUpdates(this.#pending.slice(from, to));
    if (merged.length > MAX_UPDATE_BYTES) return;
    this.#pending.splice(from, to - from, merged);
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  /**
   * Receives one envelope from anywhere. Refusals throw (the store and the document are then
   * unchanged): ENVELOPE_TOO_LARGE, MALFORMED_ENVELOPE, NON_CANONICAL_ENVELOPE,
   * UNSUPPORTED_FEED_VERSION, INVALID_FEED_FIELD, WRONG_FEED, BAD_ENVELOPE_SIGNATURE,
   * MALFORMED_UPDATE, REPLAYED_ENVELOPE, OUT_OF_CHAIN, FORK_DETECTED (after recording it), and
   * the store's STORAGE_FULL.
   */
  async receive(bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<ReceiveOutcome> {
    this.#requireStarted();
    const envelope = await verifyEnvelope(this.#checkFeed(parseEnvelope(bytes)));
    options.signal?.throwIfAborted();
    const [outcome] = await this.#withLock(() => this.#ingest([envelope]));
    if (outcome instanceof P2pbError) throw outcome;
    return outcome!;
  }

  /** Receives a batch (signatures verified concurrently); never throws for a refused envelope. */
  async receiveMany(list: readonly Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<ReceiveManyResult> {
    this.#requireStarted();
    const checked = await Promise.all(
      list.map(async (bytes): Promise<DecodeResult<FeedEnvelope>> => {
        try {
          return { ok: true, value: await verifyEnvelope(this.#checkFeed(parseEnvelope(bytes))) };
        } catch (error) {
          if (!(error instanceof P2pbError)) throw error;
          return { ok: false, error };
        }
      }),
    );
    options.signal?.throwIfAborted();
    return this.#ingestChecked(checked);
  }

  /**
   * Receives a compact run of this feed's envelopes (run.ts): each is rebuilt from this feed's
   * author and name, the run's sequence and the envelope before it, then checked like any
   * envelope (signature, Yjs, chain). A run is consecutive, so it is stored and applied in
   * chunks of RUN_INGEST_CHUNK, each as soon as its signatures are checked. Refusals are
   * reported by entry index, never thrown.
   * @throws MalformedEnvelopeError when `run` has no list of entries
   */
  async receiveRun(run: EnvelopeRun, options: { signal?: AbortSignal } = {}): Promise<ReceiveManyResult> {
    this.#requireStarted();
    const checks = checkRun(this.#layout, run);
    const total: ReceiveManyResult = { appended: 0, held: 0, refused: [], head: this.head(), gapAfter: this.gapAfter() };
    try {
      for (let from = 0; from < checks.length; from += RUN_INGEST_CHUNK) {
        const chunk = await Promise.all(checks.slice(from, from + RUN_INGEST_CHUNK));
        options.signal?.throwIfAborted();
        const result = await this.#ingestChecked(chunk, from);
        total.appended += result.appended;
        total.held += result.held;
        total.refused.push(...result.refused);
        Object.assign(total, { head: result.head, gapAfter: result.gapAfter });
      }
    } finally {
      for (const check of checks) check.catch(() => {}); // left unread after an abort
    }
    return total;
  }

  /**
   * The chain rules for verified envelopes, under the lock; refusals keep their input index
   * (plus `offset`, for a chunk of a longer input).
   */
  async #ingestChecked(checked: ReadonlyArray<DecodeResult<FeedEnvelope>>, offset = 0): Promise<ReceiveManyResult> {
    const refused: Array<{ index: number; error: P2pbError }> = [];
    const valid: Array<{ index: number; envelope: FeedEnvelope }> = [];
    checked.forEach((result, index) => {
      if (result.ok) valid.push({ index: offset + index, envelope: result.value });
      else refused.push({ index: offset + index, error: result.error });
    });
    const outcomes = await this.#withLock(() => this.#ingest(valid.map((c) => c.envelope)));
    let appended = 0;
    let held = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome instanceof P2pbError) refused.push({ index: valid[i]!.index, error: outcome });
      else if (outcome.status === 'held') held++;
      else appended += 1 + outcome.released;
    });
    refused.sort((a, b) => a.index - b.index);
    return { appended, held, refused, head: this.head(), gapAfter: this.gapAfter() };
  }

  /**
   * Receives a snapshot. Past the head: stored, the head moves to it, and its state is applied.
   * At or below the head: checked against the stored envelope it names (a different one is a
   * fork) and kept for re-serving if newer than the stored snapshot.
   */
  async receiveSnapshot(bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<SnapshotOutcome> {
    this.#requireStarted();
    const snapshot = await decodeSnapshot(bytes);
    if (!equalBytes(snapshot.author, this.author) || snapshot.feedName !== this.name) {
      throw new WrongFeedError(this.id, snapshot.feedId);
    }
    options.signal?.throwIfAborted();
    return this.#withLock(async () => {
      const head = this.#head;
      const stored = { seq: snapshot.seq, hash: snapshot.headHash, bytes: snapshot.bytes };
      if (head && snapshot.seq <= head.seq) {
        const known = snapshot.seq === head.seq ? head.hash : (await this.#store.get(this.id, snapshot.seq))?.hash;
        const existing = await this.#store.snapshot(this.id);
        if (known && !equalBytes(known, snapshot.headHash)) {
          const first = (await this.#store.get(this.id, snapshot.seq))?.bytes ?? existing?.bytes;
          if (first) await this.#recordFork(snapshot.seq, first, snapshot.bytes);
          throw new ForkDetectedError(this.id, snapshot.seq);
        }
        if (existing && existing.seq === snapshot.seq && !equalBytes(existing.hash, snapshot.headHash)) {
          await this.#recordFork(snapshot.seq, existing.bytes, snapshot.bytes);
          throw new ForkDetectedError(this.id, snapshot.seq);
        }
        const kept = await this.#store.putSnapshot(this.id, stored, options);
        if (kept) this.#emit<FeedSnapshotEvent>('snapshot', { feedId: this.id, seq: snapshot.seq, bytes: snapshot.bytes, local: false });
        return { status: kept ? 'stored' : 'ignored', seq: snapshot.seq, head: this.head() };
      }
      await this.#store.putSnapshot(this.id, stored, options);
      this.#head = { seq: snapshot.seq, hash: snapshot.headHash };
      if (this.doc) Y.applyUpdate(this.doc, snapshot.state, this.#remote);
      this.#emit<FeedSnapshotEvent>('snapshot', { feedId: this.id, seq: snapshot.seq, bytes: snapshot.bytes, local: false });
      for (const seq of [...this.#held.keys()]) if (seq <= snapshot.seq) this.#unhold(seq);
      await this.#ingest([]); // held envelopes right after the snapshot can go in now
      return { status: 'applied', seq: snapshot.seq, head: this.head() };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Serving and evidence

  /** What to send a peer that holds this feed up to `after`: see pullFeed(). */
  pull(after: number, options: { limit?: number; maxBytes?: number; signal?: AbortSignal } = {}): Promise<PullResult> {
    return pullFeed(this.#store, this.id, after, options);
  }

  /** Recorded forks of this feed: pairs of conflicting signed envelopes (or envelope and snapshot). */
  async forks(options: { signal?: AbortSignal } = {}): Promise<Array<{ seq: number; first: Uint8Array; second: Uint8Array; detectedAt: number }>> {
    return this.#store.forks(this.id, options);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  #requireStarted(): void {
    if (!this.#started) throw new FeedNotStartedError();
  }

  #checkFeed(parsed: ParsedEnvelope): ParsedEnvelope {
    if (!equalBytes(parsed.author, this.author) || parsed.feedName !== this.name) throw new WrongFeedError(this.id, parsed.feedId);
    return parsed;
  }

  #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The chain rules, under the lock. Envelopes are verified already. Consecutive ones (and held
   * ones they release) are appended to the store in one atomic write, then applied to the doc in
   * one transaction. Returns one outcome or refusal per input, in input order.
   */
  async #ingest(envelopes: readonly FeedEnvelope[]): Promise<Array<ReceiveOutcome | P2pbError>> {
    const outcomes: Array<ReceiveOutcome | P2pbError> = new Array(envelopes.length);
    const order = envelopes.map((_, i) => i).sort((a, b) => envelopes[a]!.seq - envelopes[b]!.seq);
    const append: FeedEnvelope[] = [];
    const released: FeedEnvelope[] = [];
    /** Index in `outcomes` of the input each appended envelope came from (-1: released from the buffer). */
    const origin: number[] = [];
    let head = this.#head;
    const forks: Array<{ seq: number; first: Uint8Array; second: Uint8Array }> = [];

    const release = () => {
      for (;;) {
        const next = this.#held.get((head?.seq ?? 0) + 1);
        if (!next) return;
        this.#unhold(next.seq);
        if (!equalBytes(next.prev, head?.hash ?? ZERO_HASH)) continue; // does not follow: dropped
        append.push(next);
        released.push(next);
        origin.push(-1);
        head = { seq: next.seq, hash: next.hash };
      }
    };
    release();

    for (const i of order) {
      const envelope = envelopes[i]!;
      const top = head?.seq ?? 0;
      if (envelope.seq <= top) {
        outcomes[i] = await this.#compareKnown(envelope, append, forks);
      } else if (envelope.seq === top + 1) {
        if (!equalBytes(envelope.prev, head?.hash ?? ZERO_HASH)) {
          outcomes[i] = new OutOfChainError(`envelope ${envelope.seq} does not follow the envelope ${top} held here`, this.#head?.seq ?? 0);
          continue;
        }
        append.push(envelope);
        origin.push(i);
        head = { seq: envelope.seq, hash: envelope.hash };
        release();
      } else {
        outcomes[i] = this.#hold(envelope, forks);
      }
    }

    for (const fork of forks) await this.#recordFork(fork.seq, fork.first, fork.second);

    if (append.length > 0) {
      try {
        await this.#store.append(this.id, append.map(toStored));
      } catch (error) {
        for (const envelope of released) this.#holdAgain(envelope);
        const refusal = error instanceof P2pbError ? error : new P2pbError('STORE_FAILED', String(error), { cause: error });
        origin.forEach((i) => {
          if (i >= 0) outcomes[i] = refusal;
        });
        return outcomes;
      }
      this.#head = head;
      const doc = this.doc;
      if (doc) {
        doc.transact(() => {
          for (const envelope of append) Y.applyUpdate(doc, envelope.update, this.#remote);
        }, this.#remote);
      }
      // Outcomes: each appended input reports how many released envelopes followed it.
      let last = -1;
      const releasedAfter = new Map<number, number>();
      origin.forEach((i) => {
        if (i >= 0) last = i;
        else if (last >= 0) releasedAfter.set(last, (releasedAfter.get(last) ?? 0) + 1);
      });
      origin.forEach((i, k) => {
        if (i >= 0) {
          outcomes[i] = { status: 'appended', seq: append[k]!.seq, head: { seq: head!.seq, hash: copyBytes(head!.hash) }, released: releasedAfter.get(i) ?? 0 };
        }
      });
      for (const envelope of append) {
        this.#emit<FeedEnvelopeEvent>('envelope', { feedId: this.id, seq: envelope.seq, bytes: envelope.bytes, local: false });
      }
    }
    return outcomes;
  }

  /** An envelope at or below the head: the same one again, or a fork. */
  async #compareKnown(
    envelope: FeedEnvelope,
    pendingAppend: readonly FeedEnvelope[],
    forks: Array<{ seq: number; first: Uint8Array; second: Uint8Array }>,
  ): Promise<P2pbError> {
    const inBatch = pendingAppend.find((e) => e.seq === envelope.seq);
    let knownHash: Uint8Array | undefined = inBatch?.hash;
    let knownBytes: Uint8Array | undefined = inBatch?.bytes;
    if (!inBatch) {
      const stored = await this.#store.get(this.id, envelope.seq);
      if (stored) {
        knownHash = stored.hash;
        knownBytes = stored.bytes;
      } else {
        // Pruned below a snapshot (or skipped by one): only the snapshot's own sequence can be compared.
        const snapshot = await this.#store.snapshot(this.id);
        if (snapshot && snapshot.seq === envelope.seq) {
          knownHash = snapshot.hash;
          knownBytes = snapshot.bytes;
        }
      }
    }
    if (knownHash && knownBytes && !equalBytes(knownHash, envelope.hash)) {
      forks.push({ seq: envelope.seq, first: knownBytes, second: envelope.bytes });
      return new ForkDetectedError(this.id, envelope.seq);
    }
    return new ReplayedEnvelopeError(envelope.seq);
  }

  #hold(envelope: FeedEnvelope, forks: Array<{ seq: number; first: Uint8Array; second: Uint8Array }>): ReceiveOutcome | P2pbError {
    const already = this.#held.get(envelope.seq);
    if (already) {
      if (equalBytes(already.hash, envelope.hash)) return new ReplayedEnvelopeError(envelope.seq);
      forks.push({ seq: envelope.seq, first: already.bytes, second: envelope.bytes });
      return new ForkDetectedError(this.id, envelope.seq);
    }
    const top = this.#head?.seq ?? 0;
    if (this.#held.size >= this.#maxHeld || this.#heldBytes + envelope.bytes.length > this.#maxHeldBytes) {
      return new OutOfChainError(`envelope ${envelope.seq} is early (head ${top}) and the out-of-order buffer is full`, top);
    }
    this.#held.set(envelope.seq, envelope);
    this.#heldBytes += envelope.bytes.length;
    return { status: 'held', seq: envelope.seq, head: this.head() };
  }

  #holdAgain(envelope: FeedEnvelope): void {
    if (this.#held.has(envelope.seq)) return;
    this.#held.set(envelope.seq, envelope);
    this.#heldBytes += envelope.bytes.length;
  }

  #unhold(seq: number): void {
    const envelope = this.#held.get(seq);
    if (!envelope) return;
    this.#held.delete(seq);
    this.#heldBytes -= envelope.bytes.length;
  }

  async #recordFork(seq: number, first: Uint8Array, second: Uint8Array): Promise<void> {
    const detectedAt = this.#now();
    const isNew = await this.#store.addFork(this.id, { seq, first, second, detectedAt }).catch((error: unknown) => {
      // Evidence that does not fit is still surfaced through the event.
      this.#emitError(error instanceof P2pbError ? error : new P2pbError('STORE_FAILED', String(error)));
      return true;
    });
    if (isNew) this.#emit<FeedForkEvent>('fork', { feedId: this.id, seq, first, second });
  }

  /** Snapshot first (if any), then every stored envelope after it, batch by batch. */
  async #load(doc: Y.Doc, signal: AbortSignal | undefined): Promise<void> {
    const stored = await this.#store.snapshot(this.id, { signal });
    let after = 0;
    if (stored) {
      // The store holds only what was verified before it was written; decoding re-checks the signature once.
      const snapshot = await decodeSnapshot(stored.bytes);
      Y.applyUpdate(doc, snapshot.state, this.#remote);
      after = snapshot.seq;
    }
    for (;;) {
      signal?.throwIfAborted();
      const batch = await this.#store.range(this.id, { after, limit: LOAD_BATCH_ENVELOPES, maxBytes: LOAD_BATCH_BYTES, signal });
      if (batch.length === 0 || batch[0]!.seq !== after + 1) return;
      doc.transact(() => {
        for (const entry of batch) {
          if (entry.seq !== after + 1) break;
          // Envelopes in the store were verified when they arrived: read the update, check nothing.
          Y.applyUpdate(doc, storedUpdate(entry.bytes, entry.seq), this.#remote);
          after = entry.seq;
        }
      }, this.#remote);
    }
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #emitError(error: P2pbError): void {
    this.#emit('error', { feedId: this.id, error });
  }
}

/** The update of an envelope this store holds (verified when it arrived), read by position. */
function storedUpdate(bytes: Uint8Array, seq: number): Uint8Array {
  try {
    return readEnvelope(bytes).update;
  } catch (cause) {
    throw new MalformedEnvelopeError(`stored envelope ${seq} is not an envelope: ${(cause as Error).message}`, { cause });
  }
}

/** Creates a feed; call start() before using it. */
export function createFeed(init: FeedInit): Feed {
  return new Feed(init);
}
