/**
 * Memory per joined network: heap and RSS of one process holding 1, 10 and 50 networks
 * (P2PB_BENCH_MEMORY_COUNTS), against the same process with 0 networks, measured the same way.
 *
 * This process runs one always-on node per network (WebSockets on 127.0.0.1, relay server,
 * DHT server), so they are not counted. A child process started with `node --expose-gc`
 * (bench/lib/network-memory-child.ts) joins the networks one by one as lib/engine's
 * NetworkManager does: a device node per network (its own PeerId, kad-dht started, automatic
 * client mode), connected to the network's always-on node over ws, a relay reservation on it,
 * and its address record published. At 0 networks and at each count it waits, runs a full GC
 * several times and reads process.memoryUsage().
 *
 * Per extra network = (M(n) − M(1)) / (n − 1): the first network also pays for code and caches
 * loaded once per process, reported separately as M(1) − M(0). Goal: ≤ 2 MB per extra network.
 * RSS after GC differs by a few MB between otherwise identical processes (V8 keeps freed pages,
 * the allocator keeps freed memory), so P2PB_BENCH_MEMORY_RUNS (default 3) children measure in
 * turn and the summary gives the median; on Linux the RSS growth is split into V8 heap, external
 * buffers, V8's own malloc and other native memory.
 * Node has no RTCPeerConnection, so WebRTC is off here; in a browser each network also holds
 * its WebRTC transport (and its connections' peer connections, outside the JS heap).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetworkId, createNetworkNode, createPeerKey } from '../lib/net/index.ts';
import type { NetworkNode } from '../lib/net/index.ts';
import { createMemoryLogger } from '../lib/util/log.ts';
import type { Checkpoint, ChildInput } from './lib/network-memory-child.ts';
import { MB, envList, envNumber, median } from './lib/stats.ts';

const COUNTS = envList('P2PB_BENCH_MEMORY_COUNTS', [1, 10, 50]);
/** Separate measuring children: RSS after GC varies by a few MB from one process to the next. */
const RUNS = Math.max(1, Math.round(envNumber('P2PB_BENCH_MEMORY_RUNS', 3)));
const GOAL_MB_PER_NETWORK = 2;
/** The child gets this long in all before it is killed. */
const CHILD_TIMEOUT_MS = 5 * 60_000;
const CHILD = fileURLToPath(new URL('./lib/network-memory-child.ts', import.meta.url));

async function alwaysOnNode(): Promise<NetworkNode> {
  const id = createNetworkId();
  return createNetworkNode({
    network: { id },
    peerKey: await createPeerKey(),
    role: 'always-on',
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    allowLocalAddresses: true,
    transports: { webRTC: false, webRTCDirect: false, webTransport: false },
    log: createMemoryLogger(),
  });
}

function runChild(input: ChildInput): Promise<Checkpoint[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    const checkpoints: Checkpoint[] = [];
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the measuring child took longer than ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let newline: number;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (line.trim() !== '') checkpoints.push(JSON.parse(line) as Checkpoint);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(checkpoints);
      else reject(new Error(`measuring child exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

const mb = (bytes: number) => (bytes / MB).toFixed(2);

interface RunFigures {
  heapPerExtra: number;
  rssPerExtra: number;
  firstHeap: number;
  firstRss: number;
}

/** Prints one child's checkpoints; returns its per-extra-network figures (MB). */
function report(checkpoints: Checkpoint[]): RunFigures {
  const base = checkpoints.find((c) => c.networks === 0);
  const one = checkpoints.find((c) => c.networks === 1);
  if (base === undefined) throw new Error('the child reported no 0-network baseline');
  console.log(
    `${'networks'.padStart(8)} ${'heap MB'.padStart(9)} ${'Δheap'.padStart(8)} ${'RSS MB'.padStart(8)} ${'ΔRSS'.padStart(8)} ` +
      `${'ΔheapTot'.padStart(8)} ${'Δext'.padStart(7)}  ${'per extra: heap'.padStart(15)} ${'RSS'.padStart(6)}  ${'per network: heap'.padStart(17)} ${'RSS'.padStart(6)}  ` +
      `${'conns'.padStart(5)} ${'relay'.padStart(5)} ${'put'.padStart(4)} ${'join ms'.padStart(8)}`,
  );
  for (const c of checkpoints) {
    const perExtra =
      one !== undefined && c.networks > 1
        ? `${mb((c.heapUsed - one.heapUsed) / (c.networks - 1)).padStart(15)} ${mb((c.rss - one.rss) / (c.networks - 1)).padStart(6)}`
        : `${'-'.padStart(15)} ${'-'.padStart(6)}`;
    const perNetwork =
      c.networks > 0
        ? `${mb((c.heapUsed - base.heapUsed) / c.networks).padStart(17)} ${mb((c.rss - base.rss) / c.networks).padStart(6)}`
        : `${'(baseline)'.padStart(17)} ${''.padStart(6)}`;
    console.log(
      `${String(c.networks).padStart(8)} ${mb(c.heapUsed).padStart(9)} ${mb(c.heapUsed - base.heapUsed).padStart(8)} ` +
        `${mb(c.rss).padStart(8)} ${mb(c.rss - base.rss).padStart(8)} ${mb(c.heapTotal - base.heapTotal).padStart(8)} ${mb(c.external - base.external).padStart(7)}  ${perExtra}  ${perNetwork}  ` +
        `${String(c.connections).padStart(5)} ${String(c.reserved).padStart(5)} ${String(c.publishedToPeers).padStart(4)} ` +
        `${(c.networks > 0 ? c.joinMs / c.networks : 0).toFixed(0).padStart(8)}`,
    );
  }
  const last = checkpoints.at(-1)!;
  if (one !== undefined && last.networks > 1 && last.rssAnon > 0) {
    const per = (field: keyof Checkpoint) => mb(((last[field] as number) - (one[field] as number)) / (last.networks - 1));
    const explained = last.heapTotal - one.heapTotal + (last.external - one.external) + (last.v8Malloced - one.v8Malloced);
    console.log(
      `  RSS per extra network (1 → ${last.networks}), by kind: anonymous ${per('rssAnon')} MB, file-backed ${per('rssFile')} MB; ` +
        `of the anonymous: V8 heap reserved ${per('heapTotal')}, external ${per('external')}, V8 malloc ${per('v8Malloced')}, ` +
        `other native ${mb((last.rssAnon - one.rssAnon - explained) / (last.networks - 1))} MB ` +
        `(the malloc [heap] mapping grew ${per('rssBrkHeap')} MB)`,
    );
  }
  const extra = one !== undefined && last.networks > 1 ? last.networks - 1 : Number.NaN;
  return {
    heapPerExtra: (last.heapUsed - (one?.heapUsed ?? 0)) / extra / MB,
    rssPerExtra: (last.rss - (one?.rss ?? 0)) / extra / MB,
    firstHeap: one === undefined ? Number.NaN : (one.heapUsed - base.heapUsed) / MB,
    firstRss: one === undefined ? Number.NaN : (one.rss - base.rss) / MB,
  };
}

export async function run(): Promise<void> {
  const max = Math.max(0, ...COUNTS);
  const started = performance.now();
  const hosts: NetworkNode[] = [];
  try {
    for (let i = 0; i < max; i++) hosts.push(await alwaysOnNode());
    console.log(
      `${max} always-on nodes (one per network, ws on 127.0.0.1) started in this process in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `${RUNS} measuring children (P2PB_BENCH_MEMORY_RUNS), each joining ${COUNTS.join(', ')} networks in turn`,
    );
    const networks = hosts.map((host) => ({ id: host.networkId, bootstrap: host.getMultiaddrs().map(String) }));
    const runs: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      console.log(`\nchild ${i + 1}/${RUNS} (node --expose-gc), after GC; deltas against the same process with 0 networks`);
      runs.push(report(await runChild({ networks, checkpoints: COUNTS })));
    }
    console.log(
      '  per extra = (M(n) − M(1)) / (n − 1); per network = (M(n) − M(0)) / n; ΔheapTot: V8 heap reserved (used + free pages it keeps); ' +
        'Δext: memory V8 knows of outside its heap (buffers); conns: open connections, relay: networks with a relay reservation, ' +
        'put: networks whose record reached a peer; join ms: mean per network',
    );
    if (max > 1 && runs.length > 0) {
      const figure = (pick: (r: RunFigures) => number) => {
        const xs = runs.map(pick);
        return `${median(xs).toFixed(2)} MB${xs.length > 1 ? ` (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})` : ''}`;
      };
      const heap = median(runs.map((r) => r.heapPerExtra));
      const rss = median(runs.map((r) => r.rssPerExtra));
      console.log(`\nsummary, median of ${runs.length} children, per extra network (1 → ${max}):`);
      console.log(`  heap ${figure((r) => r.heapPerExtra)}: goal ≤ ${GOAL_MB_PER_NETWORK} MB ${heap <= GOAL_MB_PER_NETWORK ? 'met' : 'NOT met'}`);
      console.log(`  RSS  ${figure((r) => r.rssPerExtra)}: goal ≤ ${GOAL_MB_PER_NETWORK} MB ${rss <= GOAL_MB_PER_NETWORK ? 'met' : 'NOT met'}`);
      console.log(`  first network (code and caches loaded once): heap +${figure((r) => r.firstHeap)}, RSS +${figure((r) => r.firstRss)}`);
    }
  } finally {
    await Promise.allSettled(hosts.map((host) => host.stop()));
  }
}
