/**
 * Viral-scale model: one author, N readers of one feed, in-process (no libp2p, no latency).
 *
 * Model (rounds; seeded and deterministic):
 * - The feed starts with `initial` envelopes; while the feed goes viral the author keeps writing,
 *   appending the remaining envelopes evenly over the first `liveRounds` rounds (live editing).
 * - Readers arrive "virally": arrival rounds follow a logistic curve (slow start, burst, tail)
 *   centred at liveRounds/2 — few early readers, most in the middle burst.
 * - Churn: an online reader goes offline with probability `leave` per round (mean session
 *   1/leave rounds) and an offline one comes back with probability `rejoin` per round. The
 *   author is always online.
 * - Every round, every online reader that is behind fetches one range (up to `chunk` envelopes,
 *   DEFAULT_RANGE_ENVELOPES — what one pull returns) from ONE peer chosen uniformly at random
 *   among the online peers that have envelopes it lacks: the author, plus — with caching on —
 *   readers that stored the feed (ownership "cached") and are ahead of it. A feed is a chain, so
 *   "what a peer has" is a prefix 1..head; the peer serves min(its head, mine + chunk) − mine.
 * - Caching off: readers keep the document to read it but store/serve nothing, so the author
 *   serves every envelope (the baseline the cache is measured against).
 * - After the author stops writing, rounds continue until every reader that arrived is caught up
 *   (or a cap). Discovery is free (everyone knows who is online and their heads); bandwidth per
 *   peer is unbounded; all envelopes count the same regardless of size.
 */
import { rng } from './feeds-trace.ts';

export interface ViralOptions {
  readers: number;
  envelopes: number;
  initial: number;
  liveRounds: number;
  chunk: number;
  leave: number;
  rejoin: number;
  caching: boolean;
  seed: number;
  /**
   * Whom a reader asks: 'uniform' — any online holder ahead of it, the author included, uniformly;
   * 'cache-first' — what lib/sync's one-off reads do (FeedSync.holders 'cache'): a random cache
   * holder ahead of it, and the author only when there is none.
   */
  policy?: 'uniform' | 'cache-first';
}

export interface ViralResult {
  served: number;
  byAuthor: number;
  authorShare: number;
  maxByOneReader: number;
  rounds: number;
  caughtUp: number;
}

export function simulateViral(o: ViralOptions): ViralResult {
  const random = rng(o.seed);
  const arrival = Array.from({ length: o.readers }, () => {
    const u = Math.min(1 - 1e-9, Math.max(1e-9, random()));
    const t = o.liveRounds / 2 + (o.liveRounds / 10) * Math.log(u / (1 - u));
    return Math.max(0, Math.min(o.liveRounds, Math.round(t)));
  });
  const head = new Array<number>(o.readers).fill(0);
  const online = new Array<boolean>(o.readers).fill(false);
  const arrived = new Array<boolean>(o.readers).fill(false);
  const servedBy = new Array<number>(o.readers).fill(0);
  let authorHead = o.initial;
  let byAuthor = 0;
  let served = 0;
  const perRound = (o.envelopes - o.initial) / o.liveRounds;
  const maxRounds = o.liveRounds * 20;
  let round = 0;
  const candidates: number[] = [];
  for (; round < maxRounds; round++) {
    if (round < o.liveRounds) authorHead = Math.min(o.envelopes, Math.round(o.initial + perRound * (round + 1)));
    else authorHead = o.envelopes;
    for (let r = 0; r < o.readers; r++) {
      if (!arrived[r]) {
        if (arrival[r] === round) arrived[r] = online[r] = true;
      } else if (online[r]) {
        if (random() < o.leave) online[r] = false;
      } else if (random() < o.rejoin) online[r] = true;
    }
    // Fetches happen against the heads at the start of the round (a random order would let a
    // reader relay within the same round; this is the more conservative choice for the author).
    const before = head.slice();
    for (let r = 0; r < o.readers; r++) {
      if (!online[r] || head[r]! >= authorHead) continue;
      candidates.length = 0;
      if (o.caching) for (let p = 0; p < o.readers; p++) if (p !== r && online[p] && before[p]! > head[r]!) candidates.push(p);
      if (o.policy !== 'cache-first' || candidates.length === 0) candidates.push(-1); // the author
      const peer = candidates[Math.floor(random() * candidates.length)]!;
      const theirs = peer < 0 ? authorHead : before[peer]!;
      const got = Math.min(theirs, head[r]! + o.chunk) - head[r]!;
      head[r] = head[r]! + got;
      served += got;
      if (peer < 0) byAuthor += got;
      else servedBy[peer] = servedBy[peer]! + got;
    }
    if (round >= o.liveRounds && arrived.every((a, r) => a && head[r] === o.envelopes)) break;
  }
  return {
    served,
    byAuthor,
    authorShare: served === 0 ? 0 : byAuthor / served,
    maxByOneReader: Math.max(0, ...servedBy),
    rounds: round + 1,
    caughtUp: head.filter((h) => h === o.envelopes).length,
  };
}
