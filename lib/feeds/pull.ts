/**
 * Serving a feed from a store, for anyone who asks "feed F after sequence N": the envelopes
 * that continue the asker's chain, in one bounded batch — or, when this store no longer has
 * (or never had) envelope N + 1 but holds a snapshot past N, the snapshot and what follows it.
 * Works on any store, with no document: this is how cached feeds are re-served.
 */
import type { FeedHead, FeedStore, StoredEnvelope } from '../store/index.ts';

export interface PullResult {
  /** A snapshot to apply first (its sequence is > after), or null. */
  snapshot: Uint8Array | null;
  /** Consecutive envelopes following `after` (or following the snapshot). */
  envelopes: Uint8Array[];
  /** This store's head for the feed (what the asker can expect to reach). */
  head: FeedHead | null;
}

/** The leading run of `list` whose sequences are from + 1, from + 2, … */
function consecutive(list: readonly StoredEnvelope[], from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = from;
  for (const entry of list) {
    if (entry.seq !== seq + 1) break;
    out.push(entry.bytes);
    seq = entry.seq;
  }
  return out;
}

export async function pullFeed(
  store: FeedStore,
  feedId: string,
  after: number,
  options: { limit?: number; maxBytes?: number; signal?: AbortSignal } = {},
): Promise<PullResult> {
  const head = await store.head(feedId);
  if (!head || head.seq <= after) return { snapshot: null, envelopes: [], head };
  const direct = consecutive(await store.range(feedId, { ...options, after }), after);
  if (direct.length > 0) return { snapshot: null, envelopes: direct, head };
  const snapshot = await store.snapshot(feedId, options);
  if (!snapshot || snapshot.seq <= after) return { snapshot: null, envelopes: [], head };
  const rest = consecutive(await store.range(feedId, { ...options, after: snapshot.seq }), snapshot.seq);
  return { snapshot: snapshot.bytes, envelopes: rest, head };
}
