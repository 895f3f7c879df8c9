/**
 * Child process of bench/network-memory.bench.ts, run as `node --expose-gc`. Reads
 * `{ networks: [{ id, bootstrap }], checkpoints: number[] }` as JSON on stdin, joins the networks
 * one by one as the engine's NetworkManager does (a device node per network, bootstrap to the
 * network's always-on node, a relay reservation on it, the address record published), and at 0
 * and at each checkpoint writes one JSON line to stdout with the process's memory after GC.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { createNetworkNode, createPeerKey } from '../../lib/net/index.ts';
import type { NetworkNode } from '../../lib/net/index.ts';
import { generateKeyPair } from '../../lib/identity/index.ts';
import { createAddressRecord } from '../../lib/records/index.ts';
import { createMemoryLogger } from '../../lib/util/log.ts';
import { HOUR } from '../../lib/util/time.ts';

/** Quiet time before each measurement, for connection setup and timers to settle. */
const SETTLE_MS = 3_000;
/** Full GCs before reading memory, with a pause between for finalizers. */
const GC_PASSES = 4;
const GC_PAUSE_MS = 100;
/** A joining node waits this long for its relay reservation. */
const RESERVATION_TIMEOUT_MS = 15_000;

export interface ChildInput {
  networks: Array<{ id: string; bootstrap: string[] }>;
  checkpoints: number[];
}

export interface Checkpoint {
  networks: number;
  heapUsed: number;
  /** V8 heap reserved (used + free pages kept after GC). */
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Memory V8 itself allocated with malloc (compiler zones, feedback, …), outside its heap. */
  v8Malloced: number;
  /** Linux /proc/self/status: anonymous and file-backed resident memory (0 elsewhere). */
  rssAnon: number;
  rssFile: number;
  /** Linux: resident part of the [heap] mapping, where glibc malloc puts small allocations. */
  rssBrkHeap: number;
  /** How the joins went, over all networks so far. */
  connections: number;
  reserved: number;
  publishedToPeers: number;
  joinMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function procStatus(field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

function brkHeapRss(): number {
  try {
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const start = smaps.search(/ \[heap\]\n/);
    if (start < 0) return 0;
    const match = /\nRss:\s+(\d+) kB/.exec(smaps.slice(start));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(nodes: NetworkNode[], published: number, joinMs: number): Promise<Checkpoint> {
  await sleep(SETTLE_MS);
  for (let i = 0; i < GC_PASSES; i++) {
    gc!();
    await sleep(GC_PAUSE_MS);
  }
  const usage = process.memoryUsage();
  return {
    networks: nodes.length,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    rss: usage.rss,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    v8Malloced: getHeapStatistics().malloced_memory,
    rssAnon: procStatus('RssAnon'),
    rssFile: procStatus('RssFile'),
    rssBrkHeap: brkHeapRss(),
    connections: nodes.reduce((sum, node) => sum + node.libp2p.getConnections().length, 0),
    reserved: nodes.filter((node) => node.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'))).length,
    publishedToPeers: published,
    joinMs,
  };
}

async function waitForReservation(node: NetworkNode): Promise<boolean> {
  const deadline = Date.now() + RESERVATION_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (node.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'))) return true;
    await sleep(50);
  }
  return false;
}

async function join(network: ChildInput['networks'][number]): Promise<{ node: NetworkNode; peers: number }> {
  const node = await createNetworkNode({
    network: { id: network.id, bootstrap: network.bootstrap },
    peerKey: await createPeerKey(),
    role: 'device',
    // As lib/engine/networks.ts: reserve on the bootstrap node's WebSocket address at once.
    listen: [...network.bootstrap.map((address) => `${address}/p2p-circuit`), '/p2p-circuit'],
    transports: { webRTC: false, webRTCDirect: false, webTransport: false },
    allowLocalAddresses: true,
    bootstrapOnStart: false,
    log: createMemoryLogger(),
  });
  if ((await node.bootstrap()) === 0) throw new Error(`network ${network.id}: bootstrap node unreachable`);
  await waitForReservation(node);
  const identity = await generateKeyPair();
  const record = await createAddressRecord({
    secretKey: identity.secretKey,
    networkId: network.id,
    servedBy: [{ kind: 'device', peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map(String) }],
    sequence: 1,
    expiresAt: Date.now() + HOUR,
  });
  const { peers } = await node.publish(record);
  return { node, peers };
}

async function main(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const input = JSON.parse(text) as ChildInput;
  const nodes: NetworkNode[] = [];
  let published = 0;
  let joinMs = 0;
  const emit = (checkpoint: Checkpoint) => process.stdout.write(`${JSON.stringify(checkpoint)}\n`);
  try {
    emit(await measure(nodes, published, joinMs));
    for (const target of [...input.checkpoints].sort((a, b) => a - b)) {
      while (nodes.length < target) {
        const started = performance.now();
        const { node, peers } = await join(input.networks[nodes.length]!);
        joinMs += performance.now() - started;
        nodes.push(node);
        if (peers > 0) published++;
      }
      emit(await measure(nodes, published, joinMs));
    }
  } finally {
    await Promise.allSettled(nodes.map((node) => node.stop()));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
