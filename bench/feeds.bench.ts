/**
 * Signed Yjs feeds (lib/feeds) against plain Yjs, on a synthetic trace shaped like
 * crdt-benchmarks B4 (bench/lib/feeds-trace.ts): P2PB_BENCH_FEED_OPS ops (default 260,000).
 *
 * Batching: one Yjs transaction = one envelope per P2PB_BENCH_FEED_BATCH consecutive ops
 * (default 100: an editor flushing a typing burst), plus 1 op per envelope for the size figures.
 *
 * (a) ingest. Same run, same update bytes, interleaved rounds (P2PB_BENCH_FEED_ROUNDS, default 5),
 *   each contender estimated three ways: median wall time, minimum wall time (the round least
 *   disturbed by other work on a shared machine) and median CPU time of the process:
 *   author  — feed: Feed.transact per batch (Yjs edit → sign → encode → MemoryFeedStore);
 *             plain: the same Y.Doc transactions, no feed.
 *   reader  — feed, as sync delivers it: the sync `batch` messages a holder sends for the whole
 *             feed (PULL_BATCH_ENVELOPES per message, envelopes as compact runs), each decoded
 *             (decodeSyncMessage) and received with Feed.receiveRun (rebuild → verify signature
 *             + hash → chain → MemoryFeedStore → Y.applyUpdate in one transaction) — what
 *             FeedLibrary.receive does; also, for comparison, Feed.receiveMany of the whole
 *             envelopes in ranges of DEFAULT_RANGE_ENVELOPES (backup import, sync 1.0.0);
 *             plain: Y.applyUpdate of the same raw update bytes into a fresh Y.Doc.
 *   Ratios: reader alone (feed / plain apply) and end to end (author + sync reader). What the
 *   holder spends building the messages (pull → compactRun → encode) is shown apart: it is
 *   neither the author's nor the reader's work.
 *   What the store's compaction costs (lib/store/compact.ts), in the same rounds: the author's
 *   path into a store that keeps whole envelopes (`compact: false`) against the compacting one,
 *   and Feed.start of the finished feed from each (load: read → rebuild + hash check → apply).
 * (b) signed bytes ÷ raw Yjs update bytes, batched and 1 op/envelope: the envelopes themselves;
 *   on the wire, every sync message as sent (length prefix included) to pull the whole feed
 *   and to push it live one envelope per message, in sync 2.0.0 (compact runs) and, for
 *   comparison, in 1.0.0's form (whole envelopes); on disk, what the store accounts (FeedInfo.bytes:
 *   each record's stored value — a compact entry — + ENVELOPE_OVERHEAD_BYTES for its hash and key)
 *   and what the node's LevelDB directory measures.
 * (c) viral scale: bench/lib/feeds-viral.ts (model described there).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import * as Y from 'yjs';
import { createSigningKey, generateKeyPair } from '../lib/identity/index.ts';
import { ZERO_HASH, compactRun, createEnvelope, createFeed, pullFeed } from '../lib/feeds/index.ts';
import type { Feed, FeedEnvelopeEvent, FeedSigner } from '../lib/feeds/index.ts';
import { DEFAULT_RANGE_ENVELOPES, ENVELOPE_KEY_BYTES, ENVELOPE_OVERHEAD_BYTES, MemoryFeedStore } from '../lib/store/index.ts';
import type { FeedStore, StoredEnvelope } from '../lib/store/index.ts';
import { FileFeedStore } from '../lib/store/file.ts';
import { envelopeHash } from '../lib/feeds/index.ts';
import { MAX_PUSH_ENVELOPES, PULL_BATCH_BYTES, PULL_BATCH_ENVELOPES } from '../lib/sync/constants.ts';
import { decodeSyncMessage, encodeSyncMessage } from '../lib/sync/wire.ts';
import { encodeCanonical } from '../lib/util/cbor.ts';
import { applyOps, generateTrace } from './lib/feeds-trace.ts';
import type { TraceOp } from './lib/feeds-trace.ts';
import { simulateViral } from './lib/feeds-viral.ts';
import { envNumber, median } from './lib/stats.ts';

const OPS = envNumber('P2PB_BENCH_FEED_OPS', 260_000);
const BATCH = Math.max(1, envNumber('P2PB_BENCH_FEED_BATCH', 100));
const ROUNDS = Math.max(1, envNumber('P2PB_BENCH_FEED_ROUNDS', 5));
const READERS = envNumber('P2PB_BENCH_FEED_READERS', 200);
const NAME = 'b4-trace';

/**
 * The authors' Yjs client id, fixed so that update sizes (and the byte ratios) are the same in
 * every run: Yjs writes it as a varint in every update, and a random id (what Y.Doc picks) is
 * 5 bytes long 15 times out of 16 — this one is too.
 */
const CLIENT_ID = 0x9e3779b9;

const sum = (xs: readonly Uint8Array[]) => xs.reduce((n, x) => n + x.length, 0);
const ms = (t: number) => `${t.toFixed(0).padStart(6)} ms`;
/** Bytes of the unsigned-varint length prefix lpStream puts before a message. */
const prefixLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);
/** Bytes a list of messages takes on a stream, length prefixes included. */
const onStream = (messages: readonly Uint8Array[]) => messages.reduce((n, m) => n + prefixLength(m.length) + m.length, 0);

async function startedStore(compact = true): Promise<MemoryFeedStore> {
  const store = new MemoryFeedStore({ compact });
  await store.start();
  return store;
}

/** Plain Yjs author: one transaction per batch; returns the updates. */
function plainAuthor(ops: readonly TraceOp[], batch: number): { updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc();
  doc.clientID = CLIENT_ID;
  const text = doc.getText('t');
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < ops.length; i += batch) doc.transact(() => applyOps(text, ops, i, Math.min(ops.length, i + batch)));
  return { updates, text: text.toString() };
}

function plainReader(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc.getText('t').toString();
}

async function feedAuthor(
  ops: readonly TraceOp[],
  batch: number,
  signer: FeedSigner,
  compact = true,
): Promise<{ feed: Feed; store: FeedStore; envelopes: Uint8Array[]; updates: Uint8Array[] }> {
  const store = await startedStore(compact);
  const feed = createFeed({ store, author: signer.publicKey, name: NAME, signer });
  await feed.start();
  feed.doc!.clientID = CLIENT_ID;
  const envelopes: Uint8Array[] = [];
  const updates: Uint8Array[] = [];
  feed.addEventListener('envelope', (e) => envelopes.push((e as CustomEvent<FeedEnvelopeEvent>).detail.bytes));
  feed.doc!.on('update', (u: Uint8Array) => updates.push(u));
  const text = feed.doc!.getText('t');
  for (let i = 0; i < ops.length; i += batch) await feed.transact(() => applyOps(text, ops, i, Math.min(ops.length, i + batch)));
  return { feed, store, envelopes, updates };
}

/** Feed.start of a finished feed from its store: loads every envelope into a new document. */
async function openFeed(store: FeedStore, author: Uint8Array): Promise<string> {
  const feed = createFeed({ store, author, name: NAME });
  await feed.start();
  const text = feed.doc!.getText('t').toString();
  await feed.stop();
  return text;
}

/** What a holder sends for a pull of the whole feed: `batch` messages, built as lib/sync/peer.ts builds them. */
async function serveBatches(store: FeedStore, feedId: string): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = [];
  for (let after = 0; ; ) {
    const result = await pullFeed(store, feedId, after, { limit: PULL_BATCH_ENVELOPES, maxBytes: PULL_BATCH_BYTES });
    if (result.envelopes.length === 0) return messages;
    messages.push(encodeSyncMessage({ t: 'batch', feed: feedId, snapshot: null, run: compactRun(result.envelopes), head: result.head }));
    after += result.envelopes.length;
  }
}

/** The reader as sync feeds it: decode each batch message, receive its run. */
async function syncReader(author: Uint8Array, messages: readonly Uint8Array[]): Promise<{ feed: Feed; store: MemoryFeedStore }> {
  const store = await startedStore();
  const feed = createFeed({ store, author, name: NAME });
  await feed.start();
  for (const bytes of messages) {
    const message = decodeSyncMessage(bytes, 'response');
    if (message.t !== 'batch' || message.run === null) throw new Error(`expected a batch with a run, got ${message.t}`);
    const result = await feed.receiveRun(message.run);
    if (result.refused.length > 0) throw new Error(`refused: ${result.refused[0]!.error.message}`);
  }
  return { feed, store };
}

/** The reader given whole envelopes, in store-sized ranges. */
async function envelopeReader(author: Uint8Array, envelopes: readonly Uint8Array[]): Promise<{ feed: Feed; store: MemoryFeedStore }> {
  const store = await startedStore();
  const feed = createFeed({ store, author, name: NAME });
  await feed.start();
  for (let i = 0; i < envelopes.length; i += DEFAULT_RANGE_ENVELOPES) {
    const result = await feed.receiveMany(envelopes.slice(i, i + DEFAULT_RANGE_ENVELOPES));
    if (result.refused.length > 0) throw new Error(`refused: ${result.refused[0]!.error.message}`);
  }
  return { feed, store };
}

/** Sync message bytes for a whole feed, pulled in batches and pushed one envelope per message, in both wire versions. */
function wireBytes(feedId: string, envelopes: readonly Uint8Array[]) {
  const v2Pull: Uint8Array[] = [];
  const v1Pull: Uint8Array[] = [];
  for (let from = 0; from < envelopes.length; ) {
    // PULL_BATCH_ENVELOPES per message, fewer when PULL_BATCH_BYTES of envelopes come first.
    let to = from;
    let bytes = 0;
    while (to < envelopes.length && to - from < PULL_BATCH_ENVELOPES && (to === from || bytes + envelopes[to]!.length <= PULL_BATCH_BYTES)) bytes += envelopes[to++]!.length;
    const slice = envelopes.slice(from, to);
    const head = { seq: to, hash: new Uint8Array(32) };
    v2Pull.push(encodeSyncMessage({ t: 'batch', feed: feedId, snapshot: null, run: compactRun(slice), head }));
    v1Pull.push(encodeCanonical({ v: 1, t: 'batch', feed: feedId, snapshot: null, envelopes: slice, head: [head.seq, head.hash] }));
    from = to;
  }
  const v2Push = envelopes.map((e) => encodeSyncMessage({ t: 'push', feed: feedId, run: compactRun([e]) }));
  const v1Push = envelopes.map((e) => encodeCanonical({ v: 1, t: 'push', feed: feedId, envelopes: [e] }));
  // A subscriber that fell behind gets MAX_PUSH_ENVELOPES per push message.
  const v2Burst: Uint8Array[] = [];
  for (let i = 0; i < envelopes.length; i += MAX_PUSH_ENVELOPES) v2Burst.push(encodeSyncMessage({ t: 'push', feed: feedId, run: compactRun(envelopes.slice(i, i + MAX_PUSH_ENVELOPES)) }));
  return { v2Pull: onStream(v2Pull), v1Pull: onStream(v1Pull), v2Push: onStream(v2Push), v1Push: onStream(v1Push), v2Burst: onStream(v2Burst) };
}

/**
 * What the always-on node's disk holds for the feed: the envelopes appended to a FileFeedStore
 * (LevelDB) as the feed would, then what the store accounts (FeedInfo.bytes, the same on every
 * backend) and the directory's size once LevelDB has compacted it (its tables are
 * snappy-compressed and share key prefixes; the write-ahead log is then empty).
 */
async function levelDbBytes(feedId: string, envelopes: readonly Uint8Array[]): Promise<{ accounted: number; measured: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-bench-disk-'));
  try {
    const store = new FileFeedStore(dir);
    await store.start();
    await store.ensureFeed(feedId, { ownership: 'own' });
    let prev = ZERO_HASH;
    for (let i = 0; i < envelopes.length; i += 1024) {
      const batch: StoredEnvelope[] = envelopes.slice(i, i + 1024).map((bytes, k) => {
        const entry = { seq: i + k + 1, hash: envelopeHash(bytes), prev, bytes };
        prev = entry.hash;
        return entry;
      });
      await store.append(feedId, batch);
    }
    const accounted = (await store.feed(feedId))!.bytes;
    await store.stop();
    const db = new ClassicLevel(dir);
    await db.open();
    await db.compactRange('\u0000', '\uffff');
    await db.close();
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
    return { accounted, measured: total };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const started = performance.now();
  const ops = generateTrace(OPS);
  const inserts = ops.filter((o) => o.kind === 'ins').length;
  const { secretKey } = await generateKeyPair();
  const signer = await createSigningKey(secretKey);
  console.log(
    `trace: ${OPS.toLocaleString('en-US')} ops (${inserts.toLocaleString('en-US')} inserts, ${(OPS - inserts).toLocaleString('en-US')} deletes), ` +
      `random-walk cursor, B4-shaped; ${BATCH} ops per transaction/envelope → ${Math.ceil(OPS / BATCH)} envelopes; ` +
      `sync reader: batch messages of ≤ ${PULL_BATCH_ENVELOPES}; ${ROUNDS} interleaved rounds`,
  );

  // ---- (a) ingest ---------------------------------------------------------------------------
  const keys = ['plainAuthor', 'feedAuthor', 'serve', 'plainReader', 'syncReader', 'envelopeReader', 'wholeAuthor', 'openCompact', 'openWhole'] as const;
  type Key = (typeof keys)[number];
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  const cpu = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<Key, number[]>;
  /** Runs one contender, recording its wall time and the CPU time this process spent (all threads). */
  async function timed<T>(key: Key, fn: () => T | Promise<T>): Promise<T> {
    const c = process.cpuUsage();
    const t = performance.now();
    const result = await fn();
    times[key].push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu[key].push((used.user + used.system) / 1000);
    return result;
  }
  let reference = '';
  let envelopes: Uint8Array[] = [];
  let rawUpdates: Uint8Array[] = [];
  let diskBytes = 0;
  let feedId = '';
  for (let round = 0; round < ROUNDS; round++) {
    const plain = await timed('plainAuthor', () => plainAuthor(ops, BATCH));
    reference = plain.text;
    // The author into the compacting store and into one of whole envelopes (what compaction
    // costs), back to back; which goes first alternates between rounds.
    const author = (compact: boolean) => timed(compact ? 'feedAuthor' : 'wholeAuthor', () => feedAuthor(ops, BATCH, signer, compact));
    const first = await author(round % 2 === 0);
    const second = await author(round % 2 === 1);
    const [written, wholeAuthor] = round % 2 === 0 ? [first, second] : [second, first];
    envelopes = written.envelopes;
    rawUpdates = written.updates;
    feedId = written.feed.id;
    const messages = await timed('serve', () => serveBatches(written.store, feedId));
    const plainText = await timed('plainReader', () => plainReader(rawUpdates));
    const reader = await timed('syncReader', () => syncReader(signer.publicKey, messages));
    const whole = await timed('envelopeReader', () => envelopeReader(signer.publicKey, envelopes));
    // Loading the finished feed from each store; which goes first alternates too.
    await Promise.all([written.feed.stop(), wholeAuthor.feed.stop()]);
    const opens = [
      () => timed('openCompact', () => openFeed(written.store, signer.publicKey)),
      () => timed('openWhole', () => openFeed(wholeAuthor.store, signer.publicKey)),
    ];
    const loaded = [await opens[round % 2]!(), await opens[1 - (round % 2)]!()];

    for (const text of [plainText, reader.feed.doc!.getText('t').toString(), whole.feed.doc!.getText('t').toString(), written.feed.doc!.getText('t').toString(), ...loaded]) {
      if (text !== reference) throw new Error('contenders disagree on the final text');
    }
    const stored = (await reader.store.range(reader.feed.id, { after: 0, limit: 1 }))[0]!.bytes;
    if (stored.length !== envelopes[0]!.length || !stored.every((b, i) => b === envelopes[0]![i])) throw new Error('the sync reader stored other bytes than the author signed');
    diskBytes = (await reader.store.feed(reader.feed.id))!.bytes;
    await Promise.all([reader.feed.stop(), whole.feed.stop()]);
  }
  // Three estimates per contender, all from the same interleaved rounds: the median wall time;
  // the minimum wall time (the round least disturbed by other work on a shared machine); and the
  // median CPU time of this process (all its threads), which other processes do not inflate.
  type Times = Record<Key, number>;
  const of = (source: Record<Key, number[]>, pick: (v: number[]) => number) => Object.fromEntries(keys.map((k) => [k, pick(source[k])])) as Times;
  const estimates = [of(times, median), of(times, (v) => Math.min(...v)), of(cpu, median)];
  const ratios = (f: (t: Times) => number) => estimates.map((t) => f(t).toFixed(2)).join(' / ');
  const readerRatio = (t: Times) => t.syncReader / t.plainReader;
  const e2eRatio = (t: Times) => (t.feedAuthor + t.syncReader) / (t.plainAuthor + t.plainReader);
  const goal = (f: (t: Times) => number) => `(goal ≤ 1.5: ${estimates.map((t) => (f(t) <= 1.5 ? 'met' : 'NOT met')).join(' / ')})`;
  const cols = (f: (t: Times) => number) => estimates.map((t) => ms(f(t))).join('');
  const row = (label: string, f: (t: Times) => number, tail: string) => `  ${label.padEnd(70)}${cols(f)}   ${tail}`;
  console.log(`\n(a) ingest, final text ${reference.length.toLocaleString('en-US')} chars, all contenders agree; ${ROUNDS} interleaved rounds`);
  console.log(`  ${''.padEnd(70)}wall median  wall min  cpu median   ratios (same order)`);
  console.log(row(`plain Yjs author (edit, ${BATCH} ops/txn)`, (t) => t.plainAuthor, '(baseline)'));
  console.log(row('feed author (edit → sign → encode → store)', (t) => t.feedAuthor, ratios((t) => t.feedAuthor / t.plainAuthor)));
  console.log(row('plain Yjs reader (applyUpdate, same bytes)', (t) => t.plainReader, '(baseline)'));
  console.log(row('feed reader, sync (decode → rebuild → verify → store → apply)', (t) => t.syncReader, `${ratios(readerRatio)}  ${goal(readerRatio)}`));
  console.log(row('feed reader, whole envelopes (receiveMany)', (t) => t.envelopeReader, ratios((t) => t.envelopeReader / t.plainReader)));
  console.log(row('end to end (author + sync reader)', (t) => t.feedAuthor + t.syncReader, `${ratios(e2eRatio)}  ${goal(e2eRatio)}`));
  const over = (f: (t: Times) => number) => estimates.map((t) => ((f(t) * 1000) / envelopes.length).toFixed(0)).join(' / ');
  console.log(`  per envelope over plain (same order): author ${over((t) => t.feedAuthor - t.plainAuthor)} µs, sync reader ${over((t) => t.syncReader - t.plainReader)} µs`);
  console.log(`  (the holder building the ${Math.ceil(envelopes.length / PULL_BATCH_ENVELOPES)} batch messages — pull → compactRun → encode — took ${ms(estimates[0]!.serve).trim()}: neither side's ingest)`);
  console.log(`  the store's compaction, same rounds (memory store; ratios compacting ÷ whole envelopes):`);
  console.log(row('  feed author into a store of whole envelopes (compact: false)', (t) => t.wholeAuthor, ratios((t) => t.feedAuthor / t.wholeAuthor)));
  console.log(row(`  Feed.start of the ${envelopes.length}-envelope feed, compact entries`, (t) => t.openCompact, ratios((t) => t.openCompact / t.openWhole)));
  console.log(row(`  Feed.start of the ${envelopes.length}-envelope feed, whole envelopes`, (t) => t.openWhole, '(baseline)'));
  console.log(`  per envelope, compacting − whole (same order): append ${over((t) => t.feedAuthor - t.wholeAuthor)} µs, load ${over((t) => t.openCompact - t.openWhole)} µs`);

  // ---- (b) bytes ----------------------------------------------------------------------------
  const raw = sum(rawUpdates);
  // 1 op per envelope: the raw updates of per-op transactions, chained and signed with createEnvelope.
  const single = plainAuthor(ops, 1).updates;
  const t1 = performance.now();
  let prev = ZERO_HASH;
  const singleEnvelopes: Uint8Array[] = [];
  for (let i = 0; i < single.length; i++) {
    const envelope = await createEnvelope({ signer, feedName: NAME, seq: i + 1, prev, timestamp: Date.now(), update: single[i]! });
    prev = envelope.hash;
    singleEnvelopes.push(envelope.bytes);
  }
  const signMs = performance.now() - t1;
  const goalB = 1.25;
  const ratio = (bytes: number, of: number, mark = false) => `${(bytes / of).toFixed(3)}x${mark ? ` (goal ≤ ${goalB}: ${bytes / of <= goalB ? 'met' : 'NOT met'})` : ''}`;
  console.log('\n(b) signed bytes ÷ raw Yjs update bytes');
  for (const [label, updates, list, batched] of [
    [`${BATCH} ops/envelope`, rawUpdates, envelopes, true],
    ['1 op/envelope (no batching)', single, singleEnvelopes, false],
  ] as const) {
    const rawBytes = sum(updates);
    const w = wireBytes(feedId, list);
    const disk = await levelDbBytes(feedId, list);
    // Every backend accounts the same values: the sync reader's memory store agrees with the node's.
    if (batched && disk.accounted !== diskBytes) throw new Error(`the stores disagree: ${disk.accounted} B on LevelDB, ${diskBytes} B in memory`);
    console.log(`  ${label}: raw ${rawBytes.toLocaleString('en-US')} B in ${updates.length.toLocaleString('en-US')} updates`);
    console.log(`    envelopes whole           ${ratio(sum(list), rawBytes)}  (${((sum(list) - rawBytes) / updates.length).toFixed(0)} B/envelope)`);
    console.log(`    wire, pull (batch msgs)   ${ratio(w.v2Pull, rawBytes, batched)}  (${((w.v2Pull - rawBytes) / updates.length).toFixed(0)} B/envelope; sync 1.0.0's form: ${ratio(w.v1Pull, rawBytes)})`);
    console.log(`    wire, live push, 1/msg    ${ratio(w.v2Push, rawBytes)}  (sync 1.0.0: ${ratio(w.v1Push, rawBytes)}); push of ${MAX_PUSH_ENVELOPES}/msg to a subscriber behind: ${ratio(w.v2Burst, rawBytes)}`);
    console.log(`    disk (store accounting)   ${ratio(disk.accounted, rawBytes, batched)}  (${((disk.accounted - rawBytes) / updates.length).toFixed(0)} B/envelope)`);
    console.log(`    disk, node (LevelDB)      ${ratio(disk.measured, rawBytes)}  (measured; compressed, so not comparable with the raw bytes as such)`);
  }
  console.log(
    `  (store accounting = the store's own FeedInfo.bytes, what it counts against quotas: per record its stored value — tag, signature, ` +
      `timestamp, update — + ENVELOPE_OVERHEAD_BYTES=${ENVELOPE_OVERHEAD_BYTES} (hash 32, key ${ENVELOPE_KEY_BYTES}); ` +
      `wire = every message as sent, varint length prefix included; createEnvelope ×${single.length}: ${(signMs / 1000).toFixed(1)} s)`,
  );

  // ---- (c) viral ----------------------------------------------------------------------------
  const base = { readers: READERS, envelopes: envelopes.length, initial: Math.floor(envelopes.length / 2), liveRounds: 200, chunk: DEFAULT_RANGE_ENVELOPES, leave: 0.1, rejoin: 0.05 };
  console.log(`\n(c) viral: ${READERS} readers of one feed of ${envelopes.length} envelopes (${base.initial} at start, the rest written live over ${base.liveRounds} rounds), logistic arrivals, churn leave ${base.leave}/rejoin ${base.rejoin} per round, ranges of ${base.chunk}; 5 seeds`);
  const runs: Array<{ caching: boolean; policy: 'uniform' | 'cache-first'; label: string }> = [
    { caching: false, policy: 'uniform', label: 'caching off' },
    { caching: true, policy: 'uniform', label: 'caching on, any holder ' },
    { caching: true, policy: 'cache-first', label: 'caching on, caches first (lib/sync reads)' },
  ];
  for (const { caching, policy, label } of runs) {
    const results = [1, 2, 3, 4, 5].map((seed) => simulateViral({ ...base, caching, policy, seed }));
    const shares = results.map((r) => r.authorShare);
    const r = results[0]!;
    console.log(
      `  ${label}: author served ${(median(shares) * 100).toFixed(2)}% of envelopes (median; min ${(Math.min(...shares) * 100).toFixed(2)}%, max ${(Math.max(...shares) * 100).toFixed(2)}%)` +
        (caching ? `  (goal ≤ 5%: ${Math.max(...shares) <= 0.05 ? 'met' : median(shares) <= 0.05 ? 'met on median' : 'NOT met'})` : '') +
        `; seed 1: ${r.byAuthor.toLocaleString('en-US')} of ${r.served.toLocaleString('en-US')} transfers, busiest reader ${r.maxByOneReader.toLocaleString('en-US')}, ${r.rounds} rounds, ${r.caughtUp}/${READERS} caught up`,
    );
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
