/**
 * One acceptance suite for every FeedStore (automerge-repo's runStorageAdapterTests): each
 * implementation's test file calls it with a factory. The factory makes a fresh, empty store
 * with the given options, and `reopen` stops it and opens a new instance on the same data (what
 * a restart after a crash sees).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ZERO_HASH, createEnvelope, feedIdOf } from '../feeds/index.ts';
import { envelopePrefix } from '../feeds/envelope-bytes.ts';
import type { FeedSigner } from '../feeds/index.ts';
import { createSigningKey } from '../identity/index.ts';
import { fromHex, toHex, utf8 } from '../util/bytes.ts';
import { P2pbError } from '../util/errors.ts';
import { ENVELOPE_OVERHEAD_BYTES, MAX_RANGE_ENVELOPES, RECORD_OVERHEAD_BYTES } from './constants.ts';
import type { FeedStoreOptions } from './store.ts';
import type { FeedStore, StoredEnvelope } from './types.ts';

export interface StoreFixture {
  store: FeedStore;
  /** Stops `store` and opens a new instance over the same data (same options, no faults). */
  reopen(): Promise<FeedStore>;
}

export type StoreFactory = (options: FeedStoreOptions) => Promise<StoreFixture>;

const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());
const ZERO = new Uint8Array(32);

/** A chain of fake envelopes (the store never parses them): `count` entries after `from`. */
export function fakeChain(
  feed: string,
  count: number,
  options: { from?: { seq: number; hash: Uint8Array }; size?: number; salt?: string } = {},
): StoredEnvelope[] {
  const out: StoredEnvelope[] = [];
  let prev = options.from?.hash ?? ZERO;
  let seq = options.from?.seq ?? 0;
  for (let i = 0; i < count; i++) {
    seq++;
    const body = utf8(`${options.salt ?? ''}${feed}#${seq}:`.padEnd(options.size ?? 40, '.'));
    const hash = sha256(body);
    out.push({ seq, hash, prev, bytes: body });
    prev = hash;
  }
  return out;
}

/**
 * What the store accounts for fake envelopes that continue what it holds: each kept as given
 * (a tag byte, then the bytes) plus the hash and key beside it.
 */
const cost = (entries: readonly StoredEnvelope[]) =>
  entries.reduce((sum, e) => sum + 1 + e.bytes.length + ENVELOPE_OVERHEAD_BYTES, 0);

/** A fixed test author (seed 07 × 32): the store compacts only envelopes of the feed its id names. */
export const author: Promise<FeedSigner> = createSigningKey(fromHex('07'.repeat(32)));
export const NAME = 'social/posts';
/** The id of the author's feed `name`. */
export const signedFeedId = async (name = NAME): Promise<string> => feedIdOf((await author).publicKey, name);

/** Yjs updates of a document, one per transaction: small ones and, at `big`, one of 70 kB (3-byte length heads). */
function yjsUpdates(count: number, big = -1): Uint8Array[] {
  const doc = new Y.Doc();
  doc.clientID = 42;
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const text = doc.getText('t');
  for (let i = 0; i < count; i++) text.insert(0, i === big ? 'x'.repeat(70_000) : `edit ${i} `.repeat(1 + (i % 5)));
  return updates;
}

/** The timestamp and update each signed test envelope was made from. */
const parts = new WeakMap<StoredEnvelope, { timestamp: number; update: Uint8Array }>();

/** A signed envelope as lib/feeds makes it, as the store is given it. */
async function signed(feedName: string, seq: number, prev: Uint8Array, update: Uint8Array, timestamp = 1_767_225_600_000 + seq): Promise<StoredEnvelope> {
  const envelope = await createEnvelope({ signer: await author, feedName, seq, prev, timestamp, update });
  const entry = { seq, hash: envelope.hash, prev, bytes: envelope.bytes };
  parts.set(entry, { timestamp, update });
  return entry;
}

/** A chain of real signed envelopes of the author's feed (from seq 1, or after `from`); the third has timestamp 5. */
export async function signedChain(
  count: number,
  options: { from?: { seq: number; hash: Uint8Array }; big?: number; name?: string } = {},
): Promise<StoredEnvelope[]> {
  const out: StoredEnvelope[] = [];
  let prev = options.from?.hash ?? ZERO_HASH;
  const updates = yjsUpdates(count, options.big);
  for (let i = 0; i < count; i++) {
    out.push(await signed(options.name ?? NAME, (options.from?.seq ?? 0) + i + 1, prev, updates[i]!, i === 2 ? 5 : undefined));
    prev = out[i]!.hash;
  }
  return out;
}

/** Envelopes with their byte fields in hex: compared at once (toEqual walks a long Uint8Array byte by byte). */
const hex = (list: ReadonlyArray<StoredEnvelope | undefined>) =>
  list.map((e) => e && { seq: e.seq, hash: toHex(e.hash), prev: toHex(e.prev), bytes: toHex(e.bytes) });

/** Bytes of an unsigned LEB128 number. */
const uvarintLength = (n: number): number => (n < 0x80 ? 1 : 1 + uvarintLength(Math.floor(n / 0x80)));

/**
 * What the store accounts for signed envelopes kept as compact entries (docs/store.md): a tag
 * byte, the signature, the timestamp as a LEB128 number and the update, plus the hash and key
 * beside it; `ownPrev` records also carry their prev (32 bytes).
 */
function compactCost(entries: readonly StoredEnvelope[], ownPrev = 0): number {
  let sum = ownPrev * 32;
  for (const e of entries) {
    const { timestamp, update } = parts.get(e)!;
    sum += 1 + 64 + uvarintLength(timestamp) + update.length + ENVELOPE_OVERHEAD_BYTES;
  }
  return sum;
}

export async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(P2pbError);
    return (error as P2pbError).code;
  }
  throw new Error('expected an error');
}

function quotaError(): Error {
  return typeof DOMException === 'function'
    ? new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    : Object.assign(new Error('QuotaExceededError'), { name: 'QuotaExceededError' });
}

const A = 'z6MkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/posts';
const B = 'z6MkBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/posts';
const C = 'z6MkCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC/posts';
const D = 'z6MkDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD/posts';

export function runFeedStoreTests(name: string, factory: StoreFactory): void {
  const fresh = async (options: FeedStoreOptions = {}) => {
    const fixture = await factory(options);
    await fixture.store.start();
    return fixture;
  };

  describe(`FeedStore: ${name}`, () => {
    it('starts empty and refuses calls before start with STORE_NOT_STARTED', async () => {
      const fixture = await factory({});
      expect(await codeOf(() => fixture.store.feeds())).toBe('STORE_NOT_STARTED');
      await fixture.store.start();
      expect(await fixture.store.feeds()).toEqual([]);
      expect(await fixture.store.head(A)).toBeNull();
      expect(fixture.store.state()).toMatchObject({ status: 'ok', ownBytes: 0, cachedBytes: 0, ownFeeds: 0, cachedFeeds: 0, full: null });
      await fixture.store.stop();
      expect(fixture.store.state().status).toBe('stopped');
    });

    it('registers feeds idempotently, upgrades cached to own and never downgrades implicitly', async () => {
      const { store } = await fresh();
      expect((await store.ensureFeed(A, { ownership: 'cached' })).ownership).toBe('cached');
      expect((await store.ensureFeed(A, { ownership: 'own' })).ownership).toBe('own');
      expect((await store.ensureFeed(A, { ownership: 'cached' })).ownership).toBe('own');
      expect((await store.setOwnership(A, 'cached')).ownership).toBe('cached');
      expect((await store.feeds()).map((f) => f.id)).toEqual([A]);
      expect(await codeOf(() => store.ensureFeed('', { ownership: 'own' }))).toBe('STORE_INVALID_ARGUMENT');
      expect(await codeOf(() => store.append(B, fakeChain(B, 1)))).toBe('UNKNOWN_FEED');
    });

    it('appends a chain and reads it back by sequence and in ranges, as copies', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'own' });
      const chain = fakeChain(A, 10);
      const head = await store.append(A, chain.slice(0, 4));
      expect(head.seq).toBe(4);
      expect(head.hash).toEqual(chain[3]!.hash);
      await store.append(A, chain.slice(4));
      expect((await store.head(A))?.seq).toBe(10);
      const third = await store.get(A, 3);
      expect(third).toEqual(chain[2]);
      third!.bytes.fill(0);
      expect((await store.get(A, 3))?.bytes).toEqual(chain[2]!.bytes);
      expect(await store.get(A, 11)).toBeUndefined();
      expect(await store.get(B, 1)).toBeUndefined();
      expect((await store.range(A, { after: 0 })).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect((await store.range(A, { after: 7 })).map((e) => e.seq)).toEqual([8, 9, 10]);
      expect(await store.range(A, { after: 10 })).toEqual([]);
      expect(await store.range(B, { after: 0 })).toEqual([]);
      const info = await store.feed(A);
      expect(info).toMatchObject({ envelopes: 10, firstSeq: 1, bytes: cost(chain), ownership: 'own' });
      expect(store.state().ownBytes).toBe(cost(chain));
    });

    it('returns ranges in bounded batches: by count, by bytes, never empty while more exist', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'cached' });
      const chain = fakeChain(A, 30, { size: 100 });
      await store.append(A, chain);
      expect((await store.range(A, { after: 0, limit: 7 })).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await store.range(A, { after: 5, maxBytes: 350 })).map((e) => e.seq)).toEqual([6, 7, 8]);
      expect((await store.range(A, { after: 5, maxBytes: 1 })).map((e) => e.seq)).toEqual([6]);
      // Paging through with "after my head" visits every envelope once.
      const seen: number[] = [];
      for (let after = 0; ; ) {
        const batch = await store.range(A, { after, limit: 4 });
        if (batch.length === 0) break;
        seen.push(...batch.map((e) => e.seq));
        after = batch[batch.length - 1]!.seq;
      }
      expect(seen).toEqual(chain.map((e) => e.seq));
      expect(await codeOf(() => store.range(A, { after: -1 }))).toBe('STORE_INVALID_ARGUMENT');
      expect((await store.range(A, { after: 0, limit: MAX_RANGE_ENVELOPES * 10 })).length).toBe(30);
    });

    it('refuses appends that do not continue the head with STORE_CONFLICT, leaving the feed unchanged', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'own' });
      const chain = fakeChain(A, 5);
      await store.append(A, chain.slice(0, 3));
      const before = await store.feed(A);
      const other = fakeChain(A, 5, { salt: 'x' });
      expect(await codeOf(() => store.append(A, [chain[4]!]))).toBe('STORE_CONFLICT'); // gap
      expect(await codeOf(() => store.append(A, [chain[2]!]))).toBe('STORE_CONFLICT'); // replay
      expect(await codeOf(() => store.append(A, [{ ...other[3]!, prev: other[2]!.hash }]))).toBe('STORE_CONFLICT'); // wrong prev
      expect(await codeOf(() => store.append(A, [chain[3]!, chain[3]!]))).toBe('STORE_CONFLICT'); // not consecutive inside the batch
      expect(await codeOf(() => store.append(A, [{ ...chain[3]!, hash: new Uint8Array(5) }]))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.feed(A)).toEqual(before);
      expect((await store.range(A, { after: 0 })).length).toBe(3);
      await store.append(A, chain.slice(3));
      expect((await store.head(A))?.seq).toBe(5);
    });

    it('keeps everything across a restart', async () => {
      const fixture = await fresh();
      const { store } = fixture;
      await store.ensureFeed(A, { ownership: 'own' });
      await store.ensureFeed(B, { ownership: 'cached' });
      const a = fakeChain(A, 6);
      const b = fakeChain(B, 2);
      await store.append(A, a);
      await store.append(B, b);
      await store.putSnapshot(A, { seq: 4, hash: a[3]!.hash, bytes: utf8('snapshot A@4') });
      await store.addFork(B, { seq: 2, first: b[1]!.bytes, second: utf8('other 2'), detectedAt: 5 });
      const before = (await store.feeds()).sort((x, y) => x.id.localeCompare(y.id));
      const again = await fixture.reopen();
      await again.start();
      const after = (await again.feeds()).sort((x, y) => x.id.localeCompare(y.id));
      expect(after.map(({ lastUsed: _, ...rest }) => rest)).toEqual(before.map(({ lastUsed: _, ...rest }) => rest));
      expect((await again.range(A, { after: 0 })).map((e) => e.bytes)).toEqual(a.map((e) => e.bytes));
      expect(await again.snapshot(A)).toEqual({ seq: 4, hash: a[3]!.hash, bytes: utf8('snapshot A@4') });
      expect(await again.forks(B)).toEqual([{ seq: 2, first: b[1]!.bytes, second: utf8('other 2'), detectedAt: 5 }]);
      expect(again.state()).toMatchObject({ ownBytes: store.state().ownBytes, cachedBytes: store.state().cachedBytes });
      await again.append(A, fakeChain(A, 1, { from: { seq: 6, hash: a[5]!.hash } }));
      expect((await again.head(A))?.seq).toBe(7);
      await again.stop();
    });

    it('keeps the newest snapshot, moves the head past it, and prunes only below it', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'cached' });
      const chain = fakeChain(A, 3);
      await store.append(A, chain);
      // A reader with 1..3 receives a snapshot at 8: its head jumps to 8 and appends go on from there.
      const hash8 = sha256(utf8('envelope 8'));
      expect(await store.putSnapshot(A, { seq: 8, hash: hash8, bytes: utf8('state@8') })).toBe(true);
      expect(await store.head(A)).toEqual({ seq: 8, hash: hash8 });
      expect(await store.putSnapshot(A, { seq: 5, hash: chain[2]!.hash, bytes: utf8('older') })).toBe(false);
      expect((await store.snapshot(A))?.seq).toBe(8);
      expect(await codeOf(() => store.append(A, fakeChain(A, 1, { from: { seq: 3, hash: chain[2]!.hash } })))).toBe('STORE_CONFLICT');
      const next = fakeChain(A, 2, { from: { seq: 8, hash: hash8 } });
      await store.append(A, next);
      expect((await store.range(A, { after: 0 })).map((e) => e.seq)).toEqual([1, 2, 3, 9, 10]);
      expect(await codeOf(() => store.prune(A, 9))).toBe('STORE_INVALID_ARGUMENT');
      const bytesBefore = (await store.feed(A))!.bytes;
      expect(await store.prune(A, 8)).toBe(3);
      expect((await store.range(A, { after: 0 })).map((e) => e.seq)).toEqual([9, 10]);
      expect(await store.feed(A)).toMatchObject({ envelopes: 2, firstSeq: 9, snapshotSeq: 8, head: { seq: 10 } });
      expect((await store.feed(A))!.bytes).toBe(bytesBefore - cost(chain));
      expect(await store.prune(A, 8)).toBe(0);
    });

    it('records fork evidence once per pair and lists it', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'cached' });
      const fork = { seq: 3, first: utf8('one'), second: utf8('two'), detectedAt: 1 };
      expect(await store.addFork(A, fork)).toBe(true);
      expect(await store.addFork(A, { ...fork, detectedAt: 2 })).toBe(false);
      expect(await store.addFork(A, { ...fork, first: fork.second, second: fork.first })).toBe(false);
      expect(await store.addFork(A, { ...fork, second: utf8('three') })).toBe(true);
      expect((await store.forks(A)).map((f) => [f.seq, new TextDecoder().decode(f.second)])).toEqual([
        [3, 'two'],
        [3, 'three'],
      ]);
      expect((await store.feed(A))?.forks).toBe(2);
      expect(await store.forks(B)).toEqual([]);
    });

    it('leaves nothing half-written when a write fails between its records and its commit', async () => {
      let fail: string | null = null;
      const fixture = await fresh({
        faults: {
          beforeCommit: (operation) => {
            if (fail === operation) throw new Error(`injected failure in ${operation}`);
          },
        },
      });
      const { store } = fixture;
      await store.ensureFeed(A, { ownership: 'own' });
      const chain = fakeChain(A, 6);
      await store.append(A, chain.slice(0, 2));
      const before = await store.feed(A);
      fail = 'append';
      expect(await codeOf(() => store.append(A, chain.slice(2, 5)))).toBe('STORE_FAILED');
      fail = 'snapshot';
      expect(await codeOf(() => store.putSnapshot(A, { seq: 2, hash: chain[1]!.hash, bytes: utf8('s') }))).toBe('STORE_FAILED');
      fail = 'fork';
      expect(await codeOf(() => store.addFork(A, { seq: 1, first: utf8('a'), second: utf8('b'), detectedAt: 0 }))).toBe('STORE_FAILED');
      expect(await store.feed(A)).toEqual(before);
      expect(await store.get(A, 3)).toBeUndefined();
      expect(store.state().status).toBe('ok');
      // After a restart (what a crash at that point leaves): still exactly the first two.
      const again = await fixture.reopen();
      await again.start();
      expect((await again.range(A, { after: 0 })).map((e) => e.seq)).toEqual([1, 2]);
      expect(await again.snapshot(A)).toBeUndefined();
      expect(await again.forks(A)).toEqual([]);
      expect((await again.feed(A))?.bytes).toBe(before!.bytes);
      // And the chain goes on from there.
      await again.append(A, chain.slice(2));
      expect((await again.head(A))?.seq).toBe(6);
      await again.stop();
    });

    it('on the backend quota error evicts cached feeds and retries; if that is not enough: STORAGE_FULL, nothing written, own data intact', async () => {
      let quotaFailures = 0;
      const { store } = await fresh({
        faults: {
          beforeCommit: (operation) => {
            if (operation === 'append' && quotaFailures > 0) {
              quotaFailures--;
              throw quotaError();
            }
          },
        },
      });
      await store.ensureFeed(A, { ownership: 'own' });
      await store.ensureFeed(B, { ownership: 'cached' });
      const a = fakeChain(A, 6);
      await store.append(A, a.slice(0, 2));
      await store.append(B, fakeChain(B, 3));
      // One quota error: B is evicted to make room, the retry succeeds.
      quotaFailures = 1;
      await store.append(A, a.slice(2, 4));
      expect((await store.head(A))?.seq).toBe(4);
      expect(await store.feed(B)).toBeUndefined();
      // Quota errors that eviction cannot cure: STORAGE_FULL, and the UI can show it.
      quotaFailures = 100;
      const error = await store.append(A, a.slice(4)).catch((e: unknown) => e as P2pbError & { scope?: string });
      expect(error).toBeInstanceOf(P2pbError);
      expect((error as P2pbError).code).toBe('STORAGE_FULL');
      expect((error as { scope?: string }).scope).toBe('own');
      expect(store.state().status).toBe('full');
      expect(store.state().full?.neededBytes).toBe(cost(a.slice(4)));
      expect((await store.range(A, { after: 0 })).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      quotaFailures = 0;
      await store.append(A, a.slice(4));
      expect(store.state().status).toBe('ok');
    });

    it('bounds cached feeds by an LRU: least recently used goes first, own and retained feeds never', async () => {
      const per = cost(fakeChain('x', 4, { size: 200 }));
      const { store } = await fresh({ cacheLimitBytes: per * 2 + 10 });
      for (const id of [A, B, C]) await store.ensureFeed(id, { ownership: 'cached' });
      await store.ensureFeed(D, { ownership: 'own' });
      await store.append(D, fakeChain(D, 20, { size: 200 })); // own: not counted against the cache bound
      await store.append(A, fakeChain(A, 4, { size: 200 }));
      await new Promise((r) => setTimeout(r, 2));
      await store.append(B, fakeChain(B, 4, { size: 200 }));
      await new Promise((r) => setTimeout(r, 2));
      await store.range(A, { after: 0 }); // A is now more recently used than B
      await new Promise((r) => setTimeout(r, 2));
      await store.append(C, fakeChain(C, 4, { size: 200 }));
      expect((await store.feeds()).map((f) => f.id).sort()).toEqual([A, C, D].sort());
      expect(store.state().cachedBytes).toBeLessThanOrEqual(per * 2 + 10);
      // Retained feeds are skipped: with A and C retained, a new cached feed cannot fit.
      const releaseA = store.retain(A);
      const releaseC = store.retain(C);
      await store.ensureFeed(B, { ownership: 'cached' });
      const error = await store.append(B, fakeChain(B, 4, { size: 200 })).catch((e: unknown) => e as P2pbError);
      expect(error).toMatchObject({ code: 'STORAGE_FULL', scope: 'cache' });
      expect(store.state().status).toBe('ok'); // the person's own data is not what is full
      releaseA();
      releaseC();
      await store.append(B, fakeChain(B, 4, { size: 200 }));
      expect((await store.feeds()).map((f) => f.id).sort()).toEqual([B, C, D].sort());
      expect((await store.head(D))?.seq).toBe(20);
      // A cached feed larger than the whole bound is refused rather than allowed to take it all.
      const big = await store.append(B, fakeChain(B, 40, { from: (await store.head(B))!, size: 200 })).catch((e: unknown) => e as P2pbError);
      expect(big).toMatchObject({ code: 'STORAGE_FULL', scope: 'cache' });
    });

    it('refuses own data past maxBytes with STORAGE_FULL after evicting every cached feed, and says so in state()', async () => {
      const ownChain = fakeChain(A, 10, { size: 100 });
      const maxBytes = cost(ownChain.slice(0, 6)) + RECORD_OVERHEAD_BYTES;
      const { store } = await fresh({ maxBytes });
      await store.ensureFeed(A, { ownership: 'own' });
      await store.ensureFeed(B, { ownership: 'cached' });
      await store.append(A, ownChain.slice(0, 3));
      await store.append(B, fakeChain(B, 2, { size: 100 }));
      await store.append(A, ownChain.slice(3, 6)); // fits only by evicting B
      expect(await store.feed(B)).toBeUndefined();
      const error = await store.append(A, ownChain.slice(6, 7)).catch((e: unknown) => e as P2pbError);
      expect(error).toMatchObject({ code: 'STORAGE_FULL', scope: 'own' });
      const state = store.state();
      expect(state.status).toBe('full');
      expect(state.full?.message).toMatch(/storage limit/);
      expect(state.ownBytes).toBe(cost(ownChain.slice(0, 6)));
      expect((await store.head(A))?.seq).toBe(6);
      // Freeing room (here: deleting a feed) clears the state; the next write tells the truth again.
      await store.ensureFeed(C, { ownership: 'own' });
      await store.deleteFeed(C);
      expect(store.state().status).toBe('ok');
    });

    it('deletes a feed with everything it holds', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'own' });
      await store.ensureFeed(B, { ownership: 'own' });
      const a = fakeChain(A, 3);
      await store.append(A, a);
      await store.append(B, fakeChain(B, 2));
      await store.putSnapshot(A, { seq: 3, hash: a[2]!.hash, bytes: utf8('s') });
      await store.addFork(A, { seq: 1, first: utf8('a'), second: utf8('b'), detectedAt: 0 });
      expect(await store.deleteFeed(A)).toBe(true);
      expect(await store.deleteFeed(A)).toBe(false);
      expect(await store.feed(A)).toBeUndefined();
      expect(await store.get(A, 1)).toBeUndefined();
      expect(await store.snapshot(A)).toBeUndefined();
      expect(await store.forks(A)).toEqual([]);
      expect((await store.range(B, { after: 0 })).length).toBe(2);
      // The id can be used again from scratch.
      await store.ensureFeed(A, { ownership: 'cached' });
      await store.append(A, fakeChain(A, 1, { salt: 'new' }));
      expect((await store.range(A, { after: 0 })).length).toBe(1);
    });

    it('serialises concurrent appends: exactly one of two racing writers of one sequence wins', async () => {
      const { store } = await fresh();
      await store.ensureFeed(A, { ownership: 'own' });
      const one = fakeChain(A, 1, { salt: 'one' });
      const two = fakeChain(A, 1, { salt: 'two' });
      const results = await Promise.allSettled([store.append(A, one), store.append(A, two)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((rejected.reason as P2pbError).code).toBe('STORE_CONFLICT');
      expect((await store.range(A, { after: 0 })).length).toBe(1);
    });

    it('keeps signed envelopes of its feed as compact entries and gives back their exact bytes, hash and prev', async () => {
      const fixture = await fresh();
      const { store } = fixture;
      const id = await signedFeedId();
      await store.ensureFeed(id, { ownership: 'own' });
      const chain = await signedChain(8, { big: 5 });
      await store.append(id, chain.slice(0, 3));
      await store.append(id, chain.slice(3));
      expect(hex(await store.range(id, { after: 0 }))).toEqual(hex(chain));
      for (const entry of chain) expect(hex([await store.get(id, entry.seq)])).toEqual(hex([entry]));
      expect(hex(await store.range(id, { after: 4, limit: 2 }))).toEqual(hex(chain.slice(4, 6)));
      // The byte bound applies to the envelopes as returned, not to what is stored.
      expect(hex(await store.range(id, { after: 0, maxBytes: chain[0]!.bytes.length + chain[1]!.bytes.length }))).toEqual(hex(chain.slice(0, 2)));
      // Accounted as compact entries: far less than the envelopes kept whole.
      const accounted = compactCost(chain);
      expect((await store.feed(id))!.bytes).toBe(accounted);
      expect(accounted).toBeLessThan(cost(chain) - chain.length * 90);
      const again = await fixture.reopen();
      await again.start();
      expect(hex(await again.range(id, { after: 0 }))).toEqual(hex(chain));
      expect((await again.feed(id))!.bytes).toBe(accounted);
      await again.stop();
    });

    it('keeps what is not an envelope of its feed at that sequence and prev as given, and reads it back exactly', async () => {
      const { store } = await fresh();
      const id = await signedFeedId();
      await store.ensureFeed(id, { ownership: 'cached' });
      const [update] = yjsUpdates(1);
      const given: StoredEnvelope[] = [];
      const add = (entry: StoredEnvelope) => {
        given.push(entry);
        return entry.hash;
      };
      // 1: the same author's envelope of another feed.
      let prev = add(await signed('social/other', 1, ZERO_HASH, update!));
      // 2: this feed's envelope 2 with its sequence in a longer head than the shortest: it reads
      //    as an envelope but does not rebuild to these bytes.
      const two = (await signed(NAME, 2, prev, update!)).bytes;
      const at = envelopePrefix((await author).publicKey, NAME).length + 1;
      const longHead = Uint8Array.of(...two.subarray(0, at), 0x18, 2, ...two.subarray(at + 1));
      prev = add({ seq: 2, hash: sha256(longHead), prev, bytes: longHead });
      // 3: this feed's envelope 3 naming another prev than the chain's.
      prev = add({ ...(await signed(NAME, 3, sha256(utf8('elsewhere')), update!)), prev });
      // 4: this feed's envelope 9, given as 4.
      prev = add({ ...(await signed(NAME, 9, prev, update!)), seq: 4 });
      // 5: no envelope at all.
      const junk = utf8('not an envelope');
      prev = add({ seq: 5, hash: sha256(junk), prev, bytes: junk });
      // 6: a genuine one after them is compact again.
      add(await signed(NAME, 6, prev, update!));
      await store.append(id, given);
      expect(hex(await store.range(id, { after: 0 }))).toEqual(hex(given));
      for (const entry of given) expect(hex([await store.get(id, entry.seq)])).toEqual(hex([entry]));
      expect((await store.feed(id))!.bytes).toBe(cost(given.slice(0, 5)) + compactCost(given.slice(5)));
    });

    it('gives every envelope its prev after a snapshot moved the head past a gap, and after a prune', async () => {
      const fixture = await fresh();
      const { store } = fixture;
      const id = await signedFeedId();
      await store.ensureFeed(id, { ownership: 'cached' });
      const chain = await signedChain(12);
      // A reader that held 1..3 catches up from a snapshot at 8, then receives 9 and 10.
      await store.append(id, chain.slice(0, 3));
      await store.putSnapshot(id, { seq: 8, hash: chain[7]!.hash, bytes: utf8('state@8') });
      await store.append(id, chain.slice(8, 10));
      const held = [...chain.slice(0, 3), ...chain.slice(8, 10)];
      expect(hex(await store.range(id, { after: 0 }))).toEqual(hex(held));
      expect(hex(await store.range(id, { after: 3 }))).toEqual(hex(chain.slice(8, 10)));
      expect(hex([await store.get(id, 9)])).toEqual(hex([chain[8]]));
      // 9 carries its prev: envelope 8 was never stored.
      expect((await store.feed(id))!.bytes).toBe(compactCost(held, 1) + 'state@8'.length + RECORD_OVERHEAD_BYTES);
      expect(await store.prune(id, 8)).toBe(3);
      expect(hex(await store.range(id, { after: 0 }))).toEqual(hex(chain.slice(8, 10)));
      // 11 and 12 follow; a snapshot at 11 lets 9 and 10 go, and 11 takes its prev from 10 as it goes.
      await store.append(id, chain.slice(10, 12));
      await store.putSnapshot(id, { seq: 11, hash: chain[10]!.hash, bytes: utf8('state@11') });
      expect(await store.prune(id, 10)).toBe(2);
      expect(hex(await store.range(id, { after: 0 }))).toEqual(hex(chain.slice(10, 12)));
      expect(hex(await store.range(id, { after: 11 }))).toEqual(hex(chain.slice(11, 12)));
      expect(hex([await store.get(id, 11)])).toEqual(hex([chain[10]]));
      expect((await store.feed(id))!.bytes).toBe(compactCost(chain.slice(10, 12), 1) + 'state@11'.length + RECORD_OVERHEAD_BYTES);
      const again = await fixture.reopen();
      await again.start();
      expect(hex(await again.range(id, { after: 0 }))).toEqual(hex(chain.slice(10, 12)));
      await again.stop();
    });
  });
}
