/**
 * The in-memory twin: same policy, same checks, same stored values (compact.ts), data in Maps.
 * Values are copied in and out so a caller can never change what is stored. Pass the same
 * MemoryBacking to a new store to "reopen" it (tests use that to check that a failed write left
 * nothing behind, and change a stored value in it to play a damaged disk).
 */
import { copyBytes } from '../util/bytes.ts';
import type { BeforeCommit, EnvelopeRecord, MetaRecord, RecordVisitor, StoreBackend } from './backend.ts';
import { BackendFeedStore } from './store.ts';
import type { FeedStoreOptions } from './store.ts';
import type { ForkRecord, StoredSnapshot } from './types.ts';

interface MemoryFeed {
  meta: MetaRecord;
  /** Ascending by seq. */
  records: EnvelopeRecord[];
  snapshot: StoredSnapshot | undefined;
  forks: ForkRecord[];
}

/** What a memory store holds; share it between store instances to simulate a reopen. */
export interface MemoryBacking {
  readonly feeds: Map<string, MemoryFeed>;
  /** The number the next new feed gets. */
  nextNumber: number;
}

export function createMemoryBacking(): MemoryBacking {
  return { feeds: new Map(), nextNumber: 1 };
}

// new Uint8Array(x) always copies (a Node Buffer's slice() would not).
const copyRecord = (r: EnvelopeRecord): EnvelopeRecord => ({ seq: r.seq, hash: copyBytes(r.hash), value: copyBytes(r.value) });
const copyMeta = (m: MetaRecord): MetaRecord => ({ ...m, headHash: m.headHash ? copyBytes(m.headHash) : null });
const copySnapshot = (s: StoredSnapshot): StoredSnapshot => ({ seq: s.seq, hash: copyBytes(s.hash), bytes: copyBytes(s.bytes) });
const copyFork = (f: ForkRecord): ForkRecord => ({ ...f, first: copyBytes(f.first), second: copyBytes(f.second) });

/** Index of the first record with seq > after. */
function firstAfter(list: readonly EnvelopeRecord[], after: number): number {
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
      feed = { meta: copyMeta(meta), records: [], snapshot: undefined, forks: [] };
      this.#backing.feeds.set(meta.id, feed);
    }
    return feed;
  }

  async open(): Promise<{ metas: MetaRecord[]; nextNumber: number }> {
    return { metas: [...this.#backing.feeds.values()].map((f) => copyMeta(f.meta)), nextNumber: this.#backing.nextNumber };
  }

  async close(): Promise<void> {}

  async putMeta(meta: MetaRecord): Promise<void> {
    this.#feed(meta).meta = copyMeta(meta);
  }

  async addFeed(meta: MetaRecord): Promise<void> {
    this.#feed(meta).meta = copyMeta(meta);
    this.#backing.nextNumber = Math.max(this.#backing.nextNumber, meta.n + 1);
  }

  async append(meta: MetaRecord, records: readonly EnvelopeRecord[], beforeCommit: BeforeCommit): Promise<void> {
    const staged = records.map(copyRecord);
    beforeCommit('append');
    const feed = this.#feed(meta);
    feed.records.push(...staged);
    feed.meta = copyMeta(meta);
  }

  async scan(meta: MetaRecord, from: number, limit: number, visit: RecordVisitor): Promise<void> {
    const list = this.#backing.feeds.get(meta.id)?.records ?? [];
    for (let i = firstAfter(list, from - 1), seen = 0; i < list.length && seen < limit; i++, seen++) {
      if (!visit(copyRecord(list[i]!))) return;
    }
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

  async deleteEnvelopes(meta: MetaRecord, throughSeq: number, rewrite: EnvelopeRecord | null, beforeCommit: BeforeCommit): Promise<void> {
    const feed = this.#feed(meta);
    const keep = feed.records.slice(firstAfter(feed.records, throughSeq));
    if (rewrite && keep[0]?.seq === rewrite.seq) keep[0] = copyRecord(rewrite);
    beforeCommit('prune');
    feed.records = keep;
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

  async deleteFeed(meta: MetaRecord): Promise<void> {
    this.#backing.feeds.delete(meta.id);
  }
}

export class MemoryFeedStore extends BackendFeedStore {
  constructor(options: FeedStoreOptions & { backing?: MemoryBacking } = {}) {
    super(new MemoryBackend(options.backing ?? createMemoryBacking()), options);
  }
}
