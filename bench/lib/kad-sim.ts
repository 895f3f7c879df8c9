/**
 * A discrete-round model of @libp2p/kad-dht 16 as lib/net configures it, for networks too large
 * to run as real libp2p nodes in one process. Reproduced from kad-dht's own code (read it in
 * node_modules/@libp2p/kad-dht/dist/src):
 *
 * - Routing table (routing-table/k-bucket.js): a binary trie over the 256-bit kad id
 *   (sha256 of the peer id; here: uniform random bits). A full leaf (splitThreshold = k entries)
 *   splits while its depth < prefixLength (6): any leaf, not only the one holding our own id, so a
 *   table holds at most 2^6 × k peers. A full leaf at the bottom pings its oldest contacts and
 *   evicts only the dead: every simulated node is alive and recently seen, so the newcomer is
 *   dropped.
 * - Who gets into a table (kad-dht.js, query/manager.js, network.js): the peer that answered a
 *   query (queueRoutingTableUpdate), the peer that opened a connection to us (topology), and
 *   every peer named in a response's `closer` list (the network's 'peer' event), after a ping
 *   that — here — always succeeds and, opening a connection, also makes the pinged peer add us.
 *   `learnFromResponses: false` turns that last source off (only peers actually talked to enter a
 *   table): a lower bound for networks where those pings fail or time out.
 * - Lookups (query/manager.js, query/query-path.js): the querier takes the k closest peers in its
 *   table, shuffles them and deals them round-robin into d disjoint paths (kad-dht:
 *   disjointPaths defaults to alpha). Each path is a queue sorted by XOR distance with alpha
 *   requests in flight; the first alpha starting peers run at once, in shuffled order (the queue
 *   starts a job as soon as it is added). A path keeps the k closest peers that answered; a queued
 *   peer that could no longer enter that list is skipped without a request, and a peer named by a
 *   responder is queued only if it is closer to the key than the responder, not yet seen by any
 *   path, and could enter the list. A path ends when its queue is empty.
 * - FIND_NODE answers the responder's k closest, excluding the requester (rpc/handlers/find-node);
 *   GET_VALUE answers the same without that exclusion, plus the record if it holds one
 *   (rpc/handlers/get-value). A put (content-fetching) runs getClosestPeers and stores on the k
 *   closest peers that answered, and in the publisher's own datastore.
 * - Joining (query-self.js, routing-table/refresh.js): dial the always-on bootstrap node, run the
 *   self-query (getClosestPeers of our own id), then the table refresh for common-prefix length 0
 *   (kad-dht counts common prefix in whole bytes, so in networks this size only cpl 0 is
 *   refreshed at start; the next refresh is 5 minutes later).
 *
 * Time: every request takes one round trip and all requests of a round answer together,
 * processed one by one in random order; a path refills its free slots after each answer, so the
 * requests it sends then belong to the next round (the synchronous-round model of the Kademlia
 * paper, which is what kad-dht's queue does under uniform latency).
 */

export interface KadSimOptions {
  size: number;
  /** k: bucket size, replication factor, and answers per response (kad-dht kBucketSize). */
  k: number;
  /** alpha: requests in flight per path. */
  alpha: number;
  /** d: disjoint paths per query (kad-dht default: alpha). */
  disjointPaths: number;
  /** Trie depth limit (kad-dht prefixLength, default 6). */
  prefixLength: number;
  seed: number;
  /** Add every peer named in a response to the table (default true). */
  learnFromResponses?: boolean;
}

export interface LookupResult {
  /** Round of the first response that carried the record (0 if none did). */
  rounds: number;
  found: boolean;
  /** Requests sent until the record arrived (or until the query ended). */
  requests: number;
  /**
   * Round at which `quorum` responses had carried the record, or the query's last round when
   * fewer did: when NetworkNode.resolve returns.
   */
  quorumRounds: number;
}

/** mulberry32: a small seeded PRNG, so a run can be repeated. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Leaf {
  depth: number;
  peers: number[] | null;
  left: Leaf | null;
  right: Leaf | null;
}

const TWO_32 = 4294967296;

/** The k closest, ascending by distance: kad-dht's PeerDistanceList. */
class DistanceList {
  readonly peers: number[] = [];
  readonly distances: number[] = [];
  readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  canAdd(distance: number): boolean {
    return this.peers.length < this.capacity || distance < this.distances[this.distances.length - 1]!;
  }
  add(peer: number, distance: number): void {
    if (this.peers.includes(peer) || !this.canAdd(distance)) return;
    let i = this.distances.length;
    while (i > 0 && this.distances[i - 1]! > distance) i--;
    this.peers.splice(i, 0, peer);
    this.distances.splice(i, 0, distance);
    if (this.peers.length > this.capacity) {
      this.peers.pop();
      this.distances.pop();
    }
  }
}

export class KadSimulation {
  readonly options: Required<KadSimOptions>;
  readonly random: () => number;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly #roots: Leaf[] = [];
  readonly #members: Array<Set<number>> = [];
  /** Nodes that have joined so far (ids 0 … joined-1). */
  joined = 0;
  /** Per node, record keys it stores (key index → stored). */
  readonly #stored: Array<Set<number>> = [];
  readonly #keys: Array<[number, number]> = [];
  /** Nodes that accept stores but never answer with a value. */
  withholders = new Set<number>();

  constructor(options: KadSimOptions) {
    this.options = { learnFromResponses: true, ...options };
    this.random = createRandom(options.seed);
    this.hi = new Uint32Array(options.size);
    this.lo = new Uint32Array(options.size);
    for (let i = 0; i < options.size; i++) {
      this.hi[i] = Math.floor(this.random() * TWO_32);
      this.lo[i] = Math.floor(this.random() * TWO_32);
      this.#roots.push({ depth: 0, peers: [], left: null, right: null });
      this.#members.push(new Set());
      this.#stored.push(new Set());
    }
  }

  tableSize(node: number): number {
    return this.#members[node]!.size;
  }

  #distance(peer: number, keyHi: number, keyLo: number): number {
    // 64 of the 256 bits: enough to order a few thousand uniform ids without ties.
    return ((this.hi[peer]! ^ keyHi) >>> 0) * TWO_32 + ((this.lo[peer]! ^ keyLo) >>> 0);
  }

  /** kad-dht KBucket.add, with every ping answered. Returns whether `peer` is now in the table. */
  add(node: number, peer: number, onVerify?: () => void): boolean {
    if (node === peer) return false;
    const members = this.#members[node]!;
    if (members.has(peer)) return true;
    const bits = this.hi[peer]!;
    for (;;) {
      let leaf = this.#roots[node]!;
      while (leaf.peers === null) leaf = ((bits >>> (31 - leaf.depth)) & 1) === 0 ? leaf.left! : leaf.right!;
      if (leaf.peers.length === this.options.k && leaf.depth < this.options.prefixLength) {
        const left: Leaf = { depth: leaf.depth + 1, peers: [], left: null, right: null };
        const right: Leaf = { depth: leaf.depth + 1, peers: [], left: null, right: null };
        for (const p of leaf.peers) (((this.hi[p]! >>> (31 - leaf.depth)) & 1) === 0 ? left : right).peers!.push(p);
        leaf.peers = null;
        leaf.left = left;
        leaf.right = right;
        continue;
      }
      if (leaf.peers.length < this.options.k) {
        onVerify?.(); // the new-contact ping
        leaf.peers.push(peer);
        members.add(peer);
        return true;
      }
      return false; // full at the bottom, and nobody to evict
    }
  }

  /** A peer learned of us or we of it through a connection: both sides try to add the other. */
  #contact(a: number, b: number): void {
    this.add(a, b);
    this.add(b, a);
  }

  /** The `count` closest peers to the key in `node`'s table (RoutingTable.closestPeers). */
  closest(node: number, keyHi: number, keyLo: number, count: number, exclude = -1): number[] {
    const list = new DistanceList(count);
    for (const peer of this.#members[node]!) {
      if (peer === exclude) continue;
      const d = this.#distance(peer, keyHi, keyLo);
      if (list.canAdd(d)) list.add(peer, d);
    }
    return list.peers;
  }

  #shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  /**
   * One query from `querier` for the key. kind 'find' (FIND_NODE) runs to the end and returns
   * the k closest peers that answered; kind 'get' (GET_VALUE) stops once `quorum` responses
   * carried the record.
   */
  query(
    querier: number,
    keyHi: number,
    keyLo: number,
    kind: 'find' | 'get',
    recordKey = -1,
    quorum = 1,
  ): LookupResult & { closest: number[] } {
    const { k, alpha, disjointPaths, learnFromResponses } = this.options;
    const answered = new DistanceList(k);
    const start = this.#shuffle(this.closest(querier, keyHi, keyLo, k));
    type Job = { peer: number; distance: number };
    type Path = { queue: Job[]; closest: DistanceList; inFlight: number };
    const paths: Path[] = [];
    for (let i = 0; i < Math.min(disjointPaths, start.length); i++) paths.push({ queue: [], closest: new DistanceList(k), inFlight: 0 });
    const seen = new Set<number>();
    let next: Array<{ path: Path; job: Job }> = [];
    const enqueue = (path: Path, peer: number) => {
      seen.add(peer);
      const job = { peer, distance: this.#distance(peer, keyHi, keyLo) };
      let i = path.queue.length;
      while (i > 0 && path.queue[i - 1]!.distance > job.distance) i--;
      path.queue.splice(i, 0, job);
    };
    const fill = (path: Path) => {
      while (path.inFlight < alpha && path.queue.length > 0) {
        const job = path.queue.shift()!;
        if (!path.closest.canAdd(job.distance)) continue; // "path converged": skipped, no request
        path.inFlight++;
        next.push({ path, job });
      }
    };
    // Starting peers: the queue starts each job as it is added, so the first alpha of a path run
    // in shuffled order; the rest wait, sorted.
    start.forEach((peer, i) => {
      const path = paths[i % paths.length]!;
      if (path.inFlight < alpha) {
        seen.add(peer);
        path.inFlight++;
        next.push({ path, job: { peer, distance: this.#distance(peer, keyHi, keyLo) } });
      } else {
        enqueue(path, peer);
      }
    });
    let round = 0;
    let requests = 0;
    let first: { rounds: number; requests: number } | undefined;
    let records = 0;
    while (next.length > 0) {
      round++;
      const current = this.#shuffle(next);
      next = [];
      for (const { path, job } of current) {
        requests++;
        const responder = job.peer;
        const closer = this.closest(responder, keyHi, keyLo, k, kind === 'find' ? querier : -1);
        const hasRecord = kind === 'get' && this.#stored[responder]!.has(recordKey) && !this.withholders.has(responder);
        // Routing-table side effects of the exchange.
        this.#contact(querier, responder);
        if (learnFromResponses) for (const peer of closer) this.add(querier, peer, () => this.add(peer, querier));
        if (hasRecord) {
          first ??= { rounds: round, requests };
          if (++records >= quorum) return { ...first, found: true, quorumRounds: round, closest: answered.peers };
        }
        answered.add(responder, job.distance);
        path.closest.add(responder, job.distance);
        for (const peer of closer) {
          if (peer === querier || seen.has(peer)) continue;
          const d = this.#distance(peer, keyHi, keyLo);
          if (d >= job.distance || !path.closest.canAdd(d)) continue;
          enqueue(path, peer);
        }
        path.inFlight--;
        fill(path);
      }
    }
    return { rounds: first?.rounds ?? 0, found: first !== undefined, requests: first?.requests ?? requests, quorumRounds: round, closest: answered.peers };
  }

  /** Node `node` joins through `bootstrap`: connect, self-query, refresh of cpl 0. */
  join(node: number, bootstrap: number): void {
    if (node !== bootstrap) this.#contact(node, bootstrap);
    this.joined = Math.max(this.joined, node + 1);
    if (node === bootstrap) return;
    this.query(node, this.hi[node]!, this.lo[node]!, 'find');
    // A random key whose first bit differs from ours (common prefix length 0).
    const keyHi = ((this.hi[node]! ^ 0x80000000) & 0x80000000) | (Math.floor(this.random() * TWO_32) & 0x7fffffff);
    this.query(node, keyHi >>> 0, Math.floor(this.random() * TWO_32), 'find');
  }

  /** Builds the network: node 0 is the always-on bootstrap node, the others join one by one. */
  build(): void {
    for (let i = 0; i < this.options.size; i++) this.join(i, 0);
  }

  /**
   * Fills every table from the full membership in random order, as if every node had heard of
   * every other (a converged network): the best tables kad-dht's trie can hold.
   */
  converge(): void {
    const order = Array.from({ length: this.options.size }, (_, i) => i);
    for (let node = 0; node < this.options.size; node++) {
      for (const peer of this.#shuffle(order)) this.add(node, peer);
    }
  }

  /** A new random record key; returns its index. */
  newKey(): number {
    this.#keys.push([Math.floor(this.random() * TWO_32), Math.floor(this.random() * TWO_32)]);
    return this.#keys.length - 1;
  }

  /** kad-dht put: store locally, find the k closest, store on each. Returns the holders. */
  put(publisher: number, key: number): number[] {
    const [keyHi, keyLo] = this.#keys[key]!;
    this.#stored[publisher]!.add(key);
    const { closest } = this.query(publisher, keyHi, keyLo, 'find');
    for (const peer of closest) this.#stored[peer]!.add(key);
    return [publisher, ...closest];
  }

  holds(node: number, key: number): boolean {
    return this.#stored[node]!.has(key);
  }

  /** A GET_VALUE lookup that, like NetworkNode.resolve, stops once `quorum` peers returned the record. */
  get(querier: number, key: number, quorum = 1): LookupResult {
    const [keyHi, keyLo] = this.#keys[key]!;
    const { rounds, found, requests, quorumRounds } = this.query(querier, keyHi, keyLo, 'get', key, quorum);
    return { rounds, found, requests, quorumRounds };
  }
}
