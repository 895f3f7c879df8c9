/**
 * Signed Yjs feeds (lib/feeds) against plain Yjs, on a synthetic trace shaped like
 * crdt-benchmarks B4 (bench/lib/feeds-trace.ts): P2PB_BENCH_FEED_OPS ops (default 260,000).
 *
 * Batching: one Yjs transaction = one envelope per P2PB_BENCH_FEED_BATCH consecutive ops
 * (default 100: an editor flushing a typing burst), plus 1 op per envelope for the size figures.
 *
 * (a) ingest. Same run, same update bytes, interleaved rounds (median of P2PB_BENCH_FEED_ROUNDS):
 *   author  — feed: Feed.transact per batch (Yjs edit → sign → encode → MemoryFeedStore);
 *             plain: the same Y.Doc transactions, no feed.
 *   reader  — feed: Feed.receiveMany in ranges of DEFAULT_RANGE_ENVELOPES (parse → verify
 *             signature + hash → chain → MemoryFeedStore → Y.applyUpdate in one transaction);
 *             plain: Y.applyUpdate of the same raw update bytes into a fresh Y.Doc.
 *   Ratios: reader alone (feed / plain apply) and end to end (author + reader).
 * (b) signed bytes ÷ raw Yjs update bytes: on the wire (envelope bytes) and on disk (what the
 *   store accounts: envelope + ENVELOPE_OVERHEAD_BYTES per record), batched and 1 op/envelope.
 * (c) viral scale: bench/lib/feeds-viral.ts (model described there).
 */
import * as Y from 'yjs';
import { createSigningKey, generateKeyPair } from '../lib/identity/index.ts';
import { ZERO_HASH, createEnvelope, createFeed } from '../lib/feeds/index.ts';
import type { Feed, FeedEnvelopeEvent, FeedSigner } from '../lib/feeds/index.ts';
import { DEFAULT_RANGE_ENVELOPES, ENVELOPE_OVERHEAD_BYTES, MemoryFeedStore } from '../lib/store/index.ts';
import { applyOps, generateTrace } from './lib/feeds-trace.ts';
import type { TraceOp } from './lib/feeds-trace.ts';
import { simulateViral } from './lib/feeds-viral.ts';
import { envNumber, median } from './lib/stats.ts';

const OPS = envNumber('P2PB_BENCH_FEED_OPS', 260_000);
const BATCH = Math.max(1, envNumber('P2PB_BENCH_FEED_BATCH', 100));
const ROUNDS = Math.max(1, envNumber('P2PB_BENCH_FEED_ROUNDS', 3));
const READERS = envNumber('P2PB_BENCH_FEED_READERS', 200);
const NAME = 'b4-trace';

const sum = (xs: readonly Uint8Array[]) => xs.reduce((n, x) => n + x.length, 0);
const ms = (t: number) => `${t.toFixed(0).padStart(6)} ms`;

async function startedStore(): Promise<MemoryFeedStore> {
  const store = new MemoryFeedStore();
  await store.start();
  return store;
}

/** Plain Yjs author: one transaction per batch; returns the updates. */
function plainAuthor(ops: readonly TraceOp[], batch: number): { updates: Uint8Array[]; text: string } {
  const doc = new Y.Doc();
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

async function feedAuthor(ops: readonly TraceOp[], batch: number, signer: FeedSigner): Promise<{ feed: Feed; envelopes: Uint8Array[]; updates: Uint8Array[] }> {
  const feed = createFeed({ store: await startedStore(), author: signer.publicKey, name: NAME, signer });
  await feed.start();
  const envelopes: Uint8Array[] = [];
  const updates: Uint8Array[] = [];
  feed.addEventListener('envelope', (e) => envelopes.push((e as CustomEvent<FeedEnvelopeEvent>).detail.bytes));
  feed.doc!.on('update', (u: Uint8Array) => updates.push(u));
  const text = feed.doc!.getText('t');
  for (let i = 0; i < ops.length; i += batch) await feed.transact(() => applyOps(text, ops, i, Math.min(ops.length, i + batch)));
  return { feed, envelopes, updates };
}

async function feedReader(author: Uint8Array, envelopes: readonly Uint8Array[]): Promise<{ feed: Feed; store: MemoryFeedStore }> {
  const store = await startedStore();
  const feed = createFeed({ store, author, name: NAME });
  await feed.start();
  for (let i = 0; i < envelopes.length; i += DEFAULT_RANGE_ENVELOPES) {
    const result = await feed.receiveMany(envelopes.slice(i, i + DEFAULT_RANGE_ENVELOPES));
    if (result.refused.length > 0) throw new Error(`refused: ${result.refused[0]!.error.message}`);
  }
  return { feed, store };
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
      `reader ingests ranges of ${DEFAULT_RANGE_ENVELOPES}; ${ROUNDS} interleaved rounds, median`,
  );

  // ---- (a) ingest ---------------------------------------------------------------------------
  const times = { plainAuthor: [] as number[], feedAuthor: [] as number[], plainReader: [] as number[], feedReader: [] as number[] };
  let reference = '';
  let envelopes: Uint8Array[] = [];
  let rawUpdates: Uint8Array[] = [];
  let diskBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const plain = plainAuthor(ops, BATCH);
    times.plainAuthor.push(performance.now() - t);
    reference = plain.text;

    t = performance.now();
    const written = await feedAuthor(ops, BATCH, signer);
    times.feedAuthor.push(performance.now() - t);
    envelopes = written.envelopes;
    rawUpdates = written.updates;

    t = performance.now();
    const plainText = plainReader(rawUpdates);
    times.plainReader.push(performance.now() - t);

    t = performance.now();
    const reader = await feedReader(signer.publicKey, envelopes);
    times.feedReader.push(performance.now() - t);

    const readerText = reader.feed.doc!.getText('t').toString();
    if (plainText !== reference || readerText !== reference || written.feed.doc!.getText('t').toString() !== reference) {
      throw new Error('contenders disagree on the final text');
    }
    diskBytes = (await reader.store.feed(reader.feed.id))!.bytes;
    await reader.feed.stop();
    await written.feed.stop();
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof times, number>;
  const readerRatio = m.feedReader / m.plainReader;
  const e2eRatio = (m.feedAuthor + m.feedReader) / (m.plainAuthor + m.plainReader);
  console.log(`\n(a) ingest, final text ${reference.length.toLocaleString('en-US')} chars, all contenders agree`);
  console.log(`  plain Yjs author (edit, ${BATCH} ops/txn)            ${ms(m.plainAuthor)}  (baseline)`);
  console.log(`  feed author (edit → sign → encode → store)       ${ms(m.feedAuthor)}  ratio ${(m.feedAuthor / m.plainAuthor).toFixed(2)}`);
  console.log(`  plain Yjs reader (applyUpdate, same bytes)        ${ms(m.plainReader)}  (baseline)`);
  console.log(`  feed reader (verify → store → applyUpdate)       ${ms(m.feedReader)}  ratio ${readerRatio.toFixed(2)}  (goal ≤ 1.5: ${readerRatio <= 1.5 ? 'met' : 'NOT met'})`);
  console.log(`  end to end (author + reader)                      ${ms(m.feedAuthor + m.feedReader)} vs ${ms(m.plainAuthor + m.plainReader)}  ratio ${e2eRatio.toFixed(2)}  (goal ≤ 1.5: ${e2eRatio <= 1.5 ? 'met' : 'NOT met'})`);
  console.log(`  per op: feed reader ${((m.feedReader * 1000) / OPS).toFixed(2)} µs, plain ${((m.plainReader * 1000) / OPS).toFixed(2)} µs; per envelope: feed reader ${((m.feedReader * 1000) / envelopes.length).toFixed(0)} µs`);

  // ---- (b) bytes ----------------------------------------------------------------------------
  const raw = sum(rawUpdates);
  const wire = sum(envelopes);
  // 1 op per envelope: the raw updates of per-op transactions, chained and signed with createEnvelope.
  const single = plainAuthor(ops, 1).updates;
  const t1 = performance.now();
  let prev = ZERO_HASH;
  let singleWire = 0;
  for (let i = 0; i < single.length; i++) {
    const envelope = await createEnvelope({ signer, feedName: NAME, seq: i + 1, prev, timestamp: Date.now(), update: single[i]! });
    prev = envelope.hash;
    singleWire += envelope.bytes.length;
  }
  const signMs = performance.now() - t1;
  const singleRaw = sum(single);
  const singleDisk = singleWire + single.length * ENVELOPE_OVERHEAD_BYTES;
  const goal = 1.25;
  console.log('\n(b) signed bytes ÷ raw Yjs update bytes');
  console.log(`  ${BATCH} ops/envelope: raw ${raw.toLocaleString('en-US')} B in ${rawUpdates.length} updates; wire ${wire.toLocaleString('en-US')} B → ${(wire / raw).toFixed(3)}x (goal ≤ ${goal}: ${wire / raw <= goal ? 'met' : 'NOT met'}); disk (store accounting) ${diskBytes.toLocaleString('en-US')} B → ${(diskBytes / raw).toFixed(3)}x; ${((wire - raw) / rawUpdates.length).toFixed(0)} B overhead/envelope`);
  console.log(`  1 op/envelope:   raw ${singleRaw.toLocaleString('en-US')} B in ${single.length} updates; wire ${singleWire.toLocaleString('en-US')} B → ${(singleWire / singleRaw).toFixed(2)}x; disk ${singleDisk.toLocaleString('en-US')} B → ${(singleDisk / singleRaw).toFixed(2)}x  (createEnvelope ×${single.length}: ${(signMs / 1000).toFixed(1)} s)`);
  console.log(`  (disk = envelope bytes + ENVELOPE_OVERHEAD_BYTES=${ENVELOPE_OVERHEAD_BYTES} per record, as MemoryFeedStore/FileFeedStore account it; the batched figure is the store's own FeedInfo.bytes)`);

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
