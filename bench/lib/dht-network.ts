/**
 * A network of real lib/net nodes in one process, on the memory transport, for bench/dht: one
 * always-on bootstrap node and DHT-server devices that join in batches. Instruments GET_VALUE
 * lookups to count request rounds, and makes chosen nodes withhold records.
 *
 * It reaches into kad-dht's internals (`peerRouting.getValueOrPeers`, `rpc.handlers`), which are
 * plain JS properties in @libp2p/kad-dht 16; the bench fails loudly if they move.
 */
import { createNetworkId, createNetworkNode, createPeerKey } from '../../lib/net/index.ts';
import type { NetworkNode, NetworkNodeConfig } from '../../lib/net/index.ts';
import { createMemoryLogger } from '../../lib/util/log.ts';
import { firstSelfQuery } from '../../lib/net/test-support.ts';

/** Nodes started together; more at once overloads two cores and new-contact pings time out. */
export const JOIN_BATCH = 25;
/** How long to wait for a node's first self-query. */
export const SELF_QUERY_TIMEOUT = 60_000;
/** After the last join, wait until the routing tables stop growing (sampled this often) … */
export const SETTLE_SAMPLE = 1_000;
/** … but no longer than this. */
export const SETTLE_MAX = 20_000;
/**
 * Delay added to each GET_VALUE request the measured querier sends, so that requests in flight
 * together answer together as on a real network (memory transport has no latency) and the
 * round count does not depend on which peer the CPU happened to serve first.
 */
export const SIMULATED_RTT_MS = 20;

const TRANSPORTS = { memory: true, webSockets: false, webRTCDirect: false, webTransport: false, webRTC: false, circuitRelay: false };

let addressCounter = 0;
const processTag = Math.random().toString(36).slice(2, 10);

function nodeConfig(networkId: string, overrides: Partial<NetworkNodeConfig>): Omit<NetworkNodeConfig, 'peerKey'> {
  return {
    network: { id: networkId },
    listen: [`/memory/bench-dht-${processTag}-${++addressCounter}`],
    transports: TRANSPORTS,
    allowLocalAddresses: true,
    clientMode: false,
    bootstrapOnStart: false,
    start: false,
    log: createMemoryLogger(),
    ...overrides,
  };
}

export interface BuiltNetwork {
  networkId: string;
  nodes: NetworkNode[];
  joinMs: number;
  settleMs: number;
}

/** Node 0 is the always-on bootstrap node; the rest join through it, JOIN_BATCH at a time. */
/**
 * Stops libp2p's connection monitor of a started node. It pings every connection every 10 s and
 * aborts the connection when a ping times out: with a hundred nodes sharing two cores that is
 * thousands of pings a minute, the event loop falls seconds behind, pings time out, connections
 * are aborted and redialled, and the churn feeds itself. Each real node has a CPU of its own, so
 * the bench turns it off (P2PB_BENCH_DHT_CONNECTION_MONITOR=1 keeps it). The DHT does not use it.
 */
function stopConnectionMonitor(node: NetworkNode): void {
  const components = (node.libp2p as unknown as { components?: Record<string, unknown> }).components;
  const monitor = components?.connectionMonitor as { stop?: () => void } | undefined;
  if (typeof monitor?.stop !== 'function') throw new Error('libp2p internals moved (components.connectionMonitor): update bench/lib/dht-network.ts');
  monitor.stop();
}

export interface BuildOptions {
  /** Keep libp2p's connection monitor running (default false, see stopConnectionMonitor). */
  connectionMonitor?: boolean;
  progress?: (message: string) => void;
}

export async function buildNetwork(size: number, options: BuildOptions = {}): Promise<BuiltNetwork> {
  const progress = options.progress ?? (() => {});
  const afterStart = (node: NetworkNode) => {
    if (options.connectionMonitor !== true) stopConnectionMonitor(node);
  };
  const networkId = createNetworkId();
  const started = performance.now();
  const nodes: NetworkNode[] = [];
  try {
    const bootstrapNode = await createNetworkNode({
      ...nodeConfig(networkId, { role: 'always-on', relayServer: false }),
      peerKey: await createPeerKey(),
    });
    nodes.push(bootstrapNode);
    await bootstrapNode.start();
    afterStart(bootstrapNode);
    const bootstrap = bootstrapNode.getMultiaddrs().map(String);
    while (nodes.length < size) {
      const batch: NetworkNode[] = [];
      while (batch.length < JOIN_BATCH && nodes.length < size) {
        const node = await createNetworkNode({
          ...nodeConfig(networkId, { role: 'device', network: { id: networkId, bootstrap } }),
          peerKey: await createPeerKey(),
        });
        nodes.push(node);
        batch.push(node);
      }
      const ready = batch.map((node) => firstSelfQuery(node, SELF_QUERY_TIMEOUT));
      await Promise.all(batch.map((node) => node.start()));
      batch.forEach(afterStart);
      const reached = await Promise.all(batch.map((node) => node.bootstrap()));
      if (reached.some((n) => n === 0)) throw new Error('a node could not reach the bootstrap node');
      // allSettled: with all, the other nodes' later rejections would go unhandled.
      const failed = (await Promise.allSettled(ready)).find((r) => r.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      progress(`joined ${nodes.length}/${size}`);
    }
    const joined = performance.now();
    let last = -1;
    for (;;) {
      const total = nodes.reduce((sum, node) => sum + node.status().dhtPeers, 0);
      if (total === last || performance.now() - joined > SETTLE_MAX) break;
      last = total;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_SAMPLE));
    }
    progress(`routing tables settled after ${((performance.now() - joined) / 1000).toFixed(0)} s`);
    return { networkId, nodes, joinMs: joined - started, settleMs: performance.now() - joined };
  } catch (error) {
    await stopNodes(nodes);
    throw error;
  }
}

/** How long stopNodes waits for the nodes to stop. */
export const STOP_TIMEOUT = 30_000;

/**
 * Stops the nodes; resolves with how many had not stopped after STOP_TIMEOUT. The timer also
 * keeps the process alive: a stop() that never settles would otherwise let Node exit early with
 * the bench's own promise pending.
 */
export async function stopNodes(nodes: readonly NetworkNode[]): Promise<number> {
  let stopped = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled(nodes.map((node) => node.stop().finally(() => stopped++))),
    new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT))),
  ]);
  clearTimeout(timer);
  return nodes.length - stopped;
}

// ---------------------------------------------------------------------------------------------
// kad-dht internals used here

interface QueryPath {
  index: number;
}
type GetValueOrPeers = (
  peer: unknown,
  key: Uint8Array,
  options: { path?: QueryPath; signal?: AbortSignal },
) => AsyncGenerator<{ name: string; record?: unknown }>;
interface KadInternals {
  peerRouting: { getValueOrPeers: GetValueOrPeers };
  rpc: { handlers: Record<string, { handle: (peer: unknown, message: unknown) => Promise<{ record?: unknown } | undefined> }> };
}

function internals(node: NetworkNode): KadInternals {
  const dht = node.libp2p.services.dht as unknown as Partial<KadInternals>;
  if (typeof dht.peerRouting?.getValueOrPeers !== 'function' || dht.rpc?.handlers?.GET_VALUE === undefined) {
    throw new Error('kad-dht internals moved (peerRouting.getValueOrPeers, rpc.handlers.GET_VALUE): update bench/lib/dht-network.ts');
  }
  return dht as KadInternals;
}

/**
 * Makes `node` accept stores as usual but answer GET_VALUE with closer peers only, never the
 * record. Returns a function that undoes it.
 */
export function withholdRecords(node: NetworkNode): () => void {
  const handler = internals(node).rpc.handlers.GET_VALUE!;
  const original = handler.handle;
  handler.handle = async (peer, message) => {
    const response = await original.call(handler, peer, message);
    if (response !== undefined) delete response.record;
    return response;
  };
  return () => {
    handler.handle = original;
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface MeasuredLookup {
  /** Request round of the first response that carried a valid record (0: none did). */
  rounds: number;
  /** GET_VALUE requests sent until then (or in all, when none did). */
  requests: number;
  /**
   * Round of the response that brought the number of records to `quorum`, or the highest round
   * sent when fewer arrived (the query ran to its end): when NetworkNode.resolve returns.
   */
  quorumRounds: number;
}

/**
 * Runs `lookup` with the querier's GET_VALUE requests observed. Rounds are counted per disjoint
 * path, as kad-dht runs each path as its own queue: a request's round is one more than the
 * highest round among the requests of its path that had already been answered (or had failed)
 * when it was sent; the first requests of a path are round 1. Under uniform latency this is the
 * number of round trips the path has waited; the lookup's count is the round of the request whose
 * answer first carried the record.
 */
export async function measureLookup<T>(
  querier: NetworkNode,
  quorum: number,
  lookup: () => Promise<T>,
): Promise<{ result: T } & MeasuredLookup> {
  const routing = internals(querier).peerRouting;
  const original = routing.getValueOrPeers;
  const answeredRound = new Map<number, number>();
  let requests = 0;
  let found: { rounds: number; requests: number } | undefined;
  const recordRounds: number[] = [];
  let highest = 0;
  routing.getValueOrPeers = async function* (peer, key, options) {
    const path = options.path?.index ?? -1;
    const round = (answeredRound.get(path) ?? 0) + 1;
    requests++;
    highest = Math.max(highest, round);
    const sent = requests;
    const answered = () => answeredRound.set(path, Math.max(answeredRound.get(path) ?? 0, round));
    try {
      await sleep(SIMULATED_RTT_MS, options.signal);
      for await (const event of original.call(routing, peer, key, options)) {
        if (event.name === 'PEER_RESPONSE') {
          // Before kad-dht sees the answer: the peers it names may be sent requests at once.
          answered();
          if (event.record != null) {
            found ??= { rounds: round, requests: sent };
            recordRounds.push(round);
          }
        }
        yield event;
      }
    } finally {
      answered();
    }
  };
  try {
    const result = await lookup();
    return {
      result,
      rounds: found?.rounds ?? 0,
      requests: found?.requests ?? requests,
      quorumRounds: recordRounds.length >= quorum ? recordRounds[quorum - 1]! : highest,
    };
  } finally {
    routing.getValueOrPeers = original;
  }
}
