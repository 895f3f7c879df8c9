/**
 * DHT lookups: how many request rounds a lookup of an address record takes, against the
 * Kademlia ideal for the network's size, and how often it succeeds when 30% of the nodes accept
 * stores but never return values.
 *
 * Networks (sizes from P2PB_BENCH_DHT_SIZES, default 100,1000):
 * - real: lib/net nodes (createNetworkNode: kad-dht 16 on /p2pb/<id>/kad/1.0.0, our validator and
 *   selector, noise, yamux) on the in-process memory transport: one always-on bootstrap node and
 *   n-1 devices in DHT server mode, joining JOIN_BATCH at a time. Records are published with
 *   NetworkNode.publish and looked up with NetworkNode.resolve. Only for n ≤
 *   P2PB_BENCH_DHT_REAL_MAX (default 100): on this machine (2 cores) 100 nodes join in ~30 s with
 *   ~650 MB of RSS; a trial of 1,000 had 751 joined after 367 s (3.5 GB RSS), slowing down, when a
 *   joining node's first self-query timed out — 1,000 do not fit the time budget.
 *   libp2p's connection monitor is stopped on these nodes (see bench/lib/dht-network.ts: with
 *   100 nodes on 2 cores its pings overload the event loop and abort connections).
 *   Lookups run CONCURRENCY at a time from different queriers, each request delayed by
 *   SIMULATED_RTT_MS so that requests sent together answer together.
 * - simulation (bench/lib/kad-sim.ts): kad-dht 16's routing table, query paths and join
 *   procedure re-implemented over random ids with the same k, alpha and d, in synchronous rounds.
 *   Run at every size, so at 100 it can be checked against the real nodes. Three variants: tables
 *   grown by joining (every peer named in a response is added, as kad-dht does when its pings
 *   succeed), tables grown by joining from direct contacts only (lower bound), and converged
 *   tables (every node offered every other: the best kad-dht's trie can hold).
 *
 * Round: requests a querier sends together form a round; a request's round is one more than the
 * highest round among the answered requests of its disjoint path when it was sent (kad-dht runs
 * each path as its own queue with alpha in flight). A lookup's rounds = the round of the first
 * response that carried the record. Under uniform latency, lookup time ≈ rounds × RTT.
 * Lookups are made from nodes that do not hold the record themselves.
 *
 * Ideal: ⌈log_{2^b} n⌉ with b = 1, the expected number of lookup steps in Kademlia with binary
 * k-buckets (Maymounkov & Mazières, "Kademlia: A Peer-to-peer Information System Based on the
 * XOR Metric", IPTPS 2002, §4.2: "… reduces the expected number of hops from log2 n to
 * log_{2^b} n"); kad-dht's trie splits one bit per level, so b = 1. With k = 20 the bound is
 * loose (one answer names 20 peers); the converged-tables simulation is the tighter baseline,
 * measured in the same run.
 */
import { DEFAULT_DHT_ALPHA, DEFAULT_DHT_K_BUCKET_SIZE, RESOLVE_QUORUM } from '../lib/net/index.ts';
import type { NetworkNode } from '../lib/net/index.ts';
import { generateKeyPair } from '../lib/identity/index.ts';
import type { KeyPair } from '../lib/identity/index.ts';
import { createAddressRecord } from '../lib/records/index.ts';
import { HOUR } from '../lib/util/time.ts';
import { JOIN_BATCH, SIMULATED_RTT_MS, STOP_TIMEOUT, buildNetwork, measureLookup, stopNodes, withholdRecords } from './lib/dht-network.ts';
import { KadSimulation, createRandom } from './lib/kad-sim.ts';
import { MB, envList, envNumber, histogram, mean, median, percentile } from './lib/stats.ts';

const SIZES = envList('P2PB_BENCH_DHT_SIZES', [100, 1000]);
const REAL_MAX = envNumber('P2PB_BENCH_DHT_REAL_MAX', 100);
const REAL_LOOKUPS = envNumber('P2PB_BENCH_DHT_REAL_LOOKUPS', 30);
const CONNECTION_MONITOR = envNumber('P2PB_BENCH_DHT_CONNECTION_MONITOR', 0) === 1;
/** Publishes, and lookups from different queriers, in flight at once on the real network. */
const CONCURRENCY = 4;
const SIM_LOOKUPS = envNumber('P2PB_BENCH_DHT_SIM_LOOKUPS', 1000);
const SEED = envNumber('P2PB_BENCH_DHT_SEED', 1);
const WITHHOLD_FRACTION = 0.3;
const GOAL_RATIO = 1.2;

const K = DEFAULT_DHT_K_BUCKET_SIZE;
const ALPHA = DEFAULT_DHT_ALPHA;
/** kad-dht: disjointPaths defaults to alpha; lib/net sets it only when an invite says so. */
const DISJOINT_PATHS = ALPHA;
/** kad-dht 16 routing table default (routing-table/index.js PREFIX_LENGTH). */
const PREFIX_LENGTH = 6;

/** ⌈log_{2^b} n⌉, b = 1 (see the header). */
const idealRounds = (n: number) => Math.ceil(Math.log2(n));

/** Progress on stderr, so a slow phase on a busy machine can be told from a hang. */
const benchStarted = performance.now();
const progress = (message: string) =>
  process.stderr.write(`  [dht ${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

interface Row {
  size: number;
  label: string;
  buildSeconds: number;
  meanTable: number;
  rounds: number[];
  /** Rounds until resolve() returns: RESOLVE_QUORUM records, or the end of the query. */
  quorumRounds: number[];
  requests: number[];
  lookups: number;
  withheldRounds: number[];
  withheldLookups: number;
  note?: string;
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

function printHeader(): void {
  console.log(
    [
      'n'.padStart(5),
      'network'.padEnd(34),
      'build'.padStart(7),
      'table'.padStart(6),
      'found'.padStart(8),
      'mean'.padStart(5),
      'p95'.padStart(4),
      'ideal'.padStart(6),
      'mean/id'.padStart(8),
      'p95/id'.padStart(7),
      'resolve'.padStart(8),
      'p95'.padStart(4),
      'req'.padStart(5),
      ' | 30% withhold: found'.padEnd(22),
      'mean'.padStart(5),
      'p95'.padStart(4),
    ].join(' '),
  );
}

function printRow(row: Row): void {
  const ideal = idealRounds(row.size);
  const m = mean(row.rounds);
  const p95 = percentile(row.rounds, 95);
  const success = (found: number, of: number) => `${found}/${of} ${((100 * found) / Math.max(1, of)).toFixed(0)}%`;
  console.log(
    [
      String(row.size).padStart(5),
      row.label.padEnd(34),
      `${f1(row.buildSeconds)} s`.padStart(7),
      f1(row.meanTable).padStart(6),
      `${row.rounds.length}/${row.lookups}`.padStart(8),
      f2(m).padStart(5),
      String(p95).padStart(4),
      String(ideal).padStart(6),
      f2(m / ideal).padStart(8),
      f2(p95 / ideal).padStart(7),
      f2(mean(row.quorumRounds)).padStart(8),
      String(percentile(row.quorumRounds, 95)).padStart(4),
      f1(mean(row.requests)).padStart(5),
      ` | ${success(row.withheldRounds.length, row.withheldLookups)}`.padEnd(22),
      f2(mean(row.withheldRounds)).padStart(5),
      String(percentile(row.withheldRounds, 95)).padStart(4),
    ].join(' '),
  );
  console.log(
    `${''.padStart(7)}rounds histogram ${histogram(row.rounds)}; until resolve returns ${histogram(row.quorumRounds)}; ` +
      `withheld ${histogram(row.withheldRounds)}${row.note ? `; ${row.note}` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Simulation

function simulate(size: number, variant: 'joined' | 'contacts' | 'converged'): Row {
  const started = performance.now();
  const sim = new KadSimulation({
    size,
    k: K,
    alpha: ALPHA,
    disjointPaths: DISJOINT_PATHS,
    prefixLength: PREFIX_LENGTH,
    seed: SEED * 1000 + size,
    learnFromResponses: variant !== 'contacts',
  });
  sim.build();
  if (variant === 'converged') sim.converge();
  const buildSeconds = (performance.now() - started) / 1000;
  let tables = 0;
  for (let i = 0; i < size; i++) tables += sim.tableSize(i);
  const meanTable = tables / size;
  const pick = () => Math.floor(sim.random() * size);

  const keys: number[] = [];
  for (let i = 0; i < SIM_LOOKUPS; i++) {
    const key = sim.newKey();
    sim.put(pick(), key);
    keys.push(key);
  }
  const lookup = (honest: (node: number) => boolean) => {
    const rounds: number[] = [];
    const quorumRounds: number[] = [];
    const requests: number[] = [];
    for (const key of keys) {
      let querier: number;
      do querier = pick();
      while (sim.holds(querier, key) || !honest(querier));
      const result = sim.get(querier, key, RESOLVE_QUORUM);
      if (result.found) rounds.push(result.rounds);
      quorumRounds.push(result.quorumRounds);
      requests.push(result.requests);
    }
    return { rounds, quorumRounds, requests };
  };
  const plain = lookup(() => true);
  while (sim.withholders.size < Math.round(WITHHOLD_FRACTION * size)) sim.withholders.add(pick());
  const withheld = lookup((node) => !sim.withholders.has(node));
  return {
    size,
    label: { joined: 'simulation, tables from joining', contacts: 'simulation, direct contacts only', converged: 'simulation, converged tables' }[variant],
    buildSeconds,
    meanTable,
    rounds: plain.rounds,
    quorumRounds: plain.quorumRounds,
    requests: plain.requests,
    lookups: keys.length,
    withheldRounds: withheld.rounds,
    withheldLookups: keys.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Real nodes

interface RealRun {
  row: Row;
  rssMB: number;
  /** Nodes holding each record after its publish (publisher included). */
  holders: number[];
  joinSeconds: number;
  settleSeconds: number;
  publishSeconds: number;
  lookupSeconds: number;
  publishMs: number[];
  lookupMs: number[];
  withheldLookupMs: number[];
}

/** Runs `task(i)` for i in 0..count-1, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function realNetwork(size: number): Promise<RealRun> {
  const random = createRandom(SEED * 7919 + size);
  const pick = (n: number) => Math.floor(random() * n);
  const rssBefore = process.memoryUsage().rss;
  const network = await buildNetwork(size, { progress, connectionMonitor: CONNECTION_MONITOR });
  const { nodes, networkId } = network;
  try {
    const rssMB = (process.memoryUsage().rss - rssBefore) / MB;
    const meanTable = mean(nodes.map((node) => node.status().dhtPeers));

    // One address record per lookup, each signed by a new identity and published by a random node.
    const publishStarted = performance.now();
    const identities: KeyPair[] = [];
    const publishMs: number[] = [];
    await inParallel(REAL_LOOKUPS, CONCURRENCY, async (i) => {
      const publisher = nodes[pick(size)]!;
      const identity = await generateKeyPair();
      identities[i] = identity;
      const bytes = await createAddressRecord({
        secretKey: identity.secretKey,
        networkId,
        servedBy: [{ kind: 'device', peerId: publisher.peerId.toString(), multiaddrs: [] }],
        sequence: 1,
        expiresAt: Date.now() + HOUR,
      });
      const t = performance.now();
      await publisher.publish(bytes);
      publishMs.push(performance.now() - t);
    });
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    progress(`published ${identities.length} records`);
    const holders = await Promise.all(
      identities.map(async (identity) => {
        const held = await Promise.all(nodes.map(async (node) => (await node.getStoredRecord(identity.publicKey)) !== undefined));
        return new Set(nodes.filter((_, i) => held[i]));
      }),
    );

    // Lookups, CONCURRENCY at a time from different queriers (rounds are counted per querier).
    const lookups = async (phase: string, honest: (node: NetworkNode) => boolean) => {
      const rounds: number[] = [];
      const quorumRounds: number[] = [];
      const requests: number[] = [];
      const ms: number[] = [];
      let localHits = 0;
      const busy = new Set<NetworkNode>();
      let done = 0;
      await inParallel(identities.length, CONCURRENCY, async (i) => {
        const identity = identities[i]!;
        let querier: NetworkNode;
        do querier = nodes[pick(size)]!;
        while (holders[i]!.has(querier) || !honest(querier) || busy.has(querier));
        busy.add(querier);
        const t = performance.now();
        try {
          const measured = await measureLookup(querier, RESOLVE_QUORUM, () => querier.resolve(identity.publicKey).catch(() => undefined));
          ms.push(performance.now() - t);
          const record = measured.result;
          if (record !== undefined && record.sequence === 1) {
            if (measured.rounds === 0) localHits++;
            else rounds.push(measured.rounds);
          }
          requests.push(measured.requests);
          quorumRounds.push(measured.quorumRounds);
        } finally {
          busy.delete(querier);
        }
        if (++done % 10 === 0) progress(`${phase} lookups ${done}/${identities.length}`);
      });
      return { rounds, quorumRounds, requests, ms, localHits };
    };

    const lookupStarted = performance.now();
    const plain = await lookups('plain', () => true);
    const withholders = new Set<NetworkNode>();
    while (withholders.size < Math.round(WITHHOLD_FRACTION * size)) withholders.add(nodes[pick(size)]!);
    const restore = [...withholders].map(withholdRecords);
    const withheld = await lookups('withheld', (node) => !withholders.has(node));
    for (const undo of restore) undo();
    const lookupSeconds = (performance.now() - lookupStarted) / 1000;

    const localHits = plain.localHits + withheld.localHits;
    return {
      row: {
        size,
        label: 'real lib/net nodes, memory transport',
        buildSeconds: (network.joinMs + network.settleMs) / 1000,
        meanTable,
        rounds: plain.rounds,
        quorumRounds: plain.quorumRounds,
        requests: plain.requests,
        lookups: identities.length,
        withheldRounds: withheld.rounds,
        withheldLookups: identities.length,
        ...(localHits > 0 ? { note: `${localHits} found without a request (not counted)` } : {}),
      },
      rssMB,
      holders: holders.map((set) => set.size),
      joinSeconds: network.joinMs / 1000,
      settleSeconds: network.settleMs / 1000,
      publishSeconds,
      lookupSeconds,
      publishMs,
      lookupMs: plain.ms,
      withheldLookupMs: withheld.ms,
    };
  } finally {
    const stuck = await stopNodes(nodes);
    if (stuck > 0) console.log(`${''.padStart(7)}warning: ${stuck} of ${nodes.length} nodes had not stopped after ${STOP_TIMEOUT / 1000} s`);
  }
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  console.log(
    `kad-dht 16 as lib/net configures it: k=${K}, alpha=${ALPHA}, d=${DISJOINT_PATHS} disjoint paths, trie prefixLength ${PREFIX_LENGTH}; ` +
      `sizes ${SIZES.join(', ')} (P2PB_BENCH_DHT_SIZES); real nodes up to n=${REAL_MAX} (P2PB_BENCH_DHT_REAL_MAX), ` +
      `${REAL_LOOKUPS} real / ${SIM_LOOKUPS} simulated lookups per case; seed ${SEED}`,
  );
  console.log(
    'rounds: round trips a lookup waits until the first response carrying the record (per disjoint path, see header); ' +
      `ideal: ⌈log2 n⌉ (Kademlia, b=1, Maymounkov & Mazières 2002 §4.2); goal rounds ≤ ${GOAL_RATIO}× ideal; ` +
      `resolve: rounds until NetworkNode.resolve returns (${RESOLVE_QUORUM} copies, or the query's end); ` +
      `withhold: ${WITHHOLD_FRACTION * 100}% of nodes store records but never return them; req: GET_VALUE requests until found\n`,
  );
  printHeader();
  const real = new Map<number, RealRun>();
  const verdicts: string[] = [];
  for (const size of SIZES) {
    if (size < 2) throw new Error(`network size ${size} is too small`);
    let primary: Row | undefined;
    if (size <= REAL_MAX) {
      const run = await realNetwork(size);
      real.set(size, run);
      printRow(run.row);
      console.log(
        `${''.padStart(7)}time: join ${run.joinSeconds.toFixed(0)} s, settle ${run.settleSeconds.toFixed(0)} s, publish ${run.publishSeconds.toFixed(0)} s, ` +
          `lookups ${run.lookupSeconds.toFixed(0)} s (${CONCURRENCY} at a time); connection monitor ${CONNECTION_MONITOR ? 'on' : 'off (P2PB_BENCH_DHT_CONNECTION_MONITOR)'}; ` +
          `RSS +${run.rssMB.toFixed(0)} MB (${(run.rssMB / size).toFixed(1)} MB/node)\n${''.padStart(7)}` +
          `publish median ${median(run.publishMs).toFixed(0)} ms, holders per record mean ${f1(mean(run.holders))} (min ${Math.min(...run.holders)}); ` +
          `resolve median ${median(run.lookupMs).toFixed(0)} ms p95 ${percentile(run.lookupMs, 95).toFixed(0)} ms ` +
          `(withheld: ${median(run.withheldLookupMs).toFixed(0)} / ${percentile(run.withheldLookupMs, 95).toFixed(0)} ms), ` +
          `each request delayed ${SIMULATED_RTT_MS} ms as a simulated RTT`,
      );
      primary = run.row;
    } else {
      const measured = [...real.entries()].at(-1);
      console.log(
        `${String(size).padStart(5)} real nodes skipped (n > P2PB_BENCH_DHT_REAL_MAX=${REAL_MAX})` +
          (measured === undefined
            ? ''
            : `: the ${measured[0]}-node network of this run took ${measured[1].row.buildSeconds.toFixed(0)} s to join in batches of ${JOIN_BATCH} ` +
              `and +${measured[1].rssMB.toFixed(0)} MB RSS; ×${(size / measured[0]).toFixed(0)} nodes would need ` +
              `≥ ${((measured[1].rssMB * size) / measured[0] / 1024).toFixed(1)} GB and ≥ ${((measured[1].row.buildSeconds * size) / measured[0] / 60).toFixed(0)} min (join cost grows with n)`),
      );
    }
    const joined = simulate(size, 'joined');
    printRow(joined);
    const contacts = simulate(size, 'contacts');
    printRow(contacts);
    const converged = simulate(size, 'converged');
    printRow(converged);
    const ideal = idealRounds(size);
    const describe = (row: Row) => {
      const p95 = percentile(row.rounds, 95);
      return (
        `mean ${f2(mean(row.rounds))}, p95 ${p95} rounds (resolve returns after mean ${f2(mean(row.quorumRounds))}, p95 ${percentile(row.quorumRounds, 95)}); ` +
        `found ${((100 * row.rounds.length) / row.lookups).toFixed(0)}%, with ${WITHHOLD_FRACTION * 100}% withholding ` +
        `${((100 * row.withheldRounds.length) / row.withheldLookups).toFixed(0)}%`
      );
    };
    const verdict = (row: Row) => {
      const p95 = percentile(row.rounds, 95);
      return `p95/ideal ${f2(p95 / ideal)}, mean/ideal ${f2(mean(row.rounds) / ideal)}: goal ≤ ${GOAL_RATIO} ${p95 / ideal <= GOAL_RATIO ? 'met' : 'NOT met'}`;
    };
    verdicts.push(`  n=${size}, ideal ⌈log2 n⌉ = ${ideal}; converged tables: mean ${f2(mean(converged.rounds))} rounds`);
    if (primary !== undefined) {
      verdicts.push(`    real nodes: ${describe(primary)}; ${verdict(primary)}`);
      verdicts.push(
        `    simulator check at this size: rounds mean ${f2(mean(joined.rounds))} (joining) / ${f2(mean(contacts.rounds))} (contacts only) ` +
          `vs ${f2(mean(primary.rounds))} real; routing tables ${f1(joined.meanTable)} / ${f1(contacts.meanTable)} vs ${f1(primary.meanTable)} real`,
      );
    } else {
      verdicts.push(`    simulation, tables from joining: ${describe(joined)}; ${verdict(joined)}`);
      verdicts.push(`    simulation, direct contacts only: ${describe(contacts)}; ${verdict(contacts)}`);
    }
  }
  console.log('\nsummary');
  for (const line of verdicts) console.log(line);
}
