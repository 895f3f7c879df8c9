/**
 * The in-memory twin: same policy, same checks, data in Maps. Values are copied in and out so a
 * caller can never change what is stored. Pass the same MemoryBacking to a new store to
 * "reopen" it (tests use that to check that a failed write left nothing behind).
 */
import { copyBytes } from '../util/bytes.ts';
import type { BeforeCommit, MetaRecord, StoreBackend } from './backend.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredEnvelope, StoredSnapshot } from './types.ts';

interface MemoryFeed {
  meta: MetaRecord;
  /** Ascending by seq. */
  envelopes: StoredEnvelope[];
  snapshot: StoredSnapshot | undefined;
  forks: ForkRecord[];
}

/** What a memory store holds; share it between store instances to simulate a reopen. */
export interface MemoryBacking {
  readonly feeds: Map<string, MemoryFeed>;
}

export function createMemoryBacking(): MemoryBacking {
  return { feeds: new Map() };
}

// new Uint8Array(x) always copies (a Node Buffer's slice() would not).
const copyEnvelope = (e: StoredEnvelope): StoredEnvelope => ({
  seq: e.seq,
  hash: copyBytes(e.hash),
  prev: copyBytes(e.prev),
  bytes: copyBytes(e.bytes),
});
const copyMeta = (m: MetaRecord): MetaRecord => ({ ...m, headHash: m.headHash ? copyBytes(m.headHash) : null });
const copySnapshot = (s: StoredSnapshot): StoredSnapshot => ({ seq: s.seq, hash: copyBytes(s.hash), bytes: copyBytes(s.bytes) });
const copyFork = (f: ForkRecord): ForkRecord => ({ ...f, first: copyBytes(f.first), second: copyBytes(f.second) });

/** Index of the first envelope with seq > after. */
function firstAfter(list: readonly StoredEnvelope[], after: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class MemoryBackend implements StoreBackend {
  readonly #backing: MemoryBacking;

  constructor(backing: MemoryBacking) {
    this.#backing = backing;
  }

  #feed(meta: MetaRecord): MemoryFeed {
    let feed = this.#backing.feeds.get(meta.id);
    if (!feed) {
      feed = { meta: copyMeta(meta), envelopes: [], snapshot: undefined, forks: [] };
      this.#backing.feeds.set(meta.id, feed);
    }
    return feed;
  }

  async open(): Promise<MetaRecord[]> {
    return [...this.#backing.feeds.values()].map((f) => copyMeta(f.meta));
  }

  async close(): Promise<void> {}

  async putMeta(meta: MetaRecord): Promise<void> {
    this.#feed(meta).meta = copyMeta(meta);
  }

  async append(meta: MetaRecord, entries: readonly StoredEnvelope[], beforeCommit: BeforeCommit): Promise<void> {
    const staged = entries.map(copyEnvelope);
    beforeCommit('append');
    const feed = this.#feed(meta);
    feed.envelopes.push(...staged);
    feed.meta = copyMeta(meta);
  }

  async get(id: string, seq: number): Promise<StoredEnvelope | undefined> {
    const list = this.#backing.feeds.get(id)?.envelopes ?? [];
    const at = firstAfter(list, seq - 1);
    const found = list[at];
    return found && found.seq === seq ? copyEnvelope(found) : undefined;
  }

  async range(id: string, after: number, limit: number, maxBytes: number): Promise<StoredEnvelope[]> {
    const list = this.#backing.feeds.get(id)?.envelopes ?? [];
    const out: StoredEnvelope[] = [];
    let bytes = 0;
    for (let i = firstAfter(list, after); i < list.length && out.length < limit; i++) {
      const entry = list[i]!;
      if (out.length > 0 && bytes + entry.bytes.length > maxBytes) break;
      bytes += entry.bytes.length;
      out.push(copyEnvelope(entry));
    }
    return out;
  }

  async putSnapshot(meta: MetaRecord, snapshot: StoredSnapshot, beforeCommit: BeforeCommit): Promise<void> {
    const staged = copySnapshot(snapshot);
    beforeCommit('snapshot');
    const feed = this.#feed(meta);
    feed.snapshot = staged;
    feed.meta = copyMeta(meta);
  }

  async getSnapshot(id: string): Promise<StoredSnapshot | undefined> {
    const snapshot = this.#backing.feeds.get(id)?.snapshot;
    return snapshot ? copySnapshot(snapshot) : undefined;
  }

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, beforeCommit: BeforeCommit): Promise<void> {
    const feed = this.#feed(meta);
    const keep = feed.envelopes.slice(firstAfter(feed.envelopes, throughSeq));
    beforeCommit('prune');
    feed.envelopes = keep;
    feed.meta = copyMeta(meta);
  }

  async putFork(meta: MetaRecord, fork: ForkRecord, _index: number, beforeCommit: BeforeCommit): Promise<void> {
    const staged = copyFork(fork);
    beforeCommit('fork');
    const feed = this.#feed(meta);
    feed.forks.push(staged);
    feed.meta = copyMeta(meta);
  }

  async getForks(id: string): Promise<ForkRecord[]> {
    return (this.#backing.feeds.get(id)?.forks ?? []).map(copyFork);
  }

  async deleteFeed(id: string): Promise<void> {
    this.#backing.feeds.delete(id);
  }
}

export class MemoryFeedStore extends BackendFeedStore {
  constructor(options: FeedStoreOptions & { backing?: MemoryBacking } = {}) {
    super(new MemoryBackend(options.backing ?? createMemoryBacking()), options);
  }
}
