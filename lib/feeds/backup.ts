/**
 * Backups of the person's own feeds: one file that holds, per feed, its snapshot (if any) and
 * its stored envelopes, all as the signed bytes themselves. Nothing in it is trusted on import:
 * every snapshot and envelope goes through the same checks as one received from a stranger.
 *
 *   [1, "feed-backup", createdAt, [[author, feedName, snapshot or h'', [envelope, …]], …]]
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { P2pbError } from '../util/errors.ts';
import type { FeedStore, Ownership } from '../store/index.ts';
import { parseFeedId } from './codec.ts';
import { BACKUP_FORMAT_VERSION, FEED_RECORD_TYPES, LOAD_BATCH_BYTES, LOAD_BATCH_ENVELOPES, MAX_BACKUP_BYTES } from './constants.ts';
import { MalformedBackupError } from './errors.ts';
import { Feed } from './feed.ts';

export interface ImportBackupResult {
  feeds: number;
  envelopes: number;
  snapshots: number;
  /** Already held (replayed): not an error when restoring over existing data. */
  skipped: number;
  refused: Array<{ feedId: string; code: string; message: string }>;
}

/** Exports every feed the store marks "own" (or those in `feedIds`). */
export async function exportBackup(
  store: FeedStore,
  options: { feedIds?: readonly string[]; now?: () => number; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const ids = options.feedIds ?? (await store.feeds()).filter((f) => f.ownership === 'own').map((f) => f.id);
  const feeds: unknown[] = [];
  for (const id of [...ids].sort()) {
    options.signal?.throwIfAborted();
    const { author, name } = parseFeedId(id);
    const snapshot = await store.snapshot(id, options);
    const envelopes: Uint8Array[] = [];
    for (let after = 0; ; ) {
      const batch = await store.range(id, { after, limit: LOAD_BATCH_ENVELOPES, maxBytes: LOAD_BATCH_BYTES, signal: options.signal });
      if (batch.length === 0) break;
      for (const entry of batch) envelopes.push(entry.bytes);
      after = batch[batch.length - 1]!.seq;
    }
    if (!snapshot && envelopes.length === 0) continue;
    feeds.push([author, name, snapshot?.bytes ?? new Uint8Array(0), envelopes]);
  }
  // new Uint8Array(): a plain copy, never a Node Buffer (cborg may return one).
  return new Uint8Array(encode([BACKUP_FORMAT_VERSION, FEED_RECORD_TYPES.BACKUP, (options.now ?? Date.now)(), feeds], rfc8949EncodeOptions));
}

function parseBackup(bytes: Uint8Array): Array<[Uint8Array, string, Uint8Array, Uint8Array[]]> {
  if (!(bytes instanceof Uint8Array)) throw new MalformedBackupError('a backup must be a Uint8Array');
  if (bytes.length > MAX_BACKUP_BYTES) throw new MalformedBackupError(`backup is ${bytes.length} bytes, limit is ${MAX_BACKUP_BYTES}`);
  let value: unknown;
  try {
    value = decode(bytes, { strict: true, allowIndefinite: false, allowUndefined: false, allowBigInt: false, rejectDuplicateMapKeys: true });
  } catch (cause) {
    throw new MalformedBackupError('backup is not strict CBOR', { cause });
  }
  if (!Array.isArray(value) || value.length !== 4 || value[1] !== FEED_RECORD_TYPES.BACKUP) {
    throw new MalformedBackupError('not a feed backup');
  }
  if (value[0] !== BACKUP_FORMAT_VERSION) throw new MalformedBackupError(`unsupported backup version ${String(value[0])}`);
  const feeds = value[3];
  if (!Array.isArray(feeds)) throw new MalformedBackupError('backup feeds are not an array');
  for (const feed of feeds) {
    if (
      !Array.isArray(feed) ||
      feed.length !== 4 ||
      !(feed[0] instanceof Uint8Array) ||
      typeof feed[1] !== 'string' ||
      !(feed[2] instanceof Uint8Array) ||
      !Array.isArray(feed[3]) ||
      !feed[3].every((e: unknown) => e instanceof Uint8Array)
    ) {
      throw new MalformedBackupError('a backup feed entry is not [author, name, snapshot, envelopes]');
    }
  }
  return feeds as Array<[Uint8Array, string, Uint8Array, Uint8Array[]]>;
}

/**
 * Imports a backup into `store` (as "own" unless told otherwise), verifying every snapshot and
 * envelope exactly as if received from the network. Refusals are reported, not thrown; a file
 * that is not a backup at all throws MalformedBackupError.
 */
export async function importBackup(
  store: FeedStore,
  bytes: Uint8Array,
  options: { ownership?: Ownership; signal?: AbortSignal } = {},
): Promise<ImportBackupResult> {
  const entries = parseBackup(bytes);
  const result: ImportBackupResult = { feeds: 0, envelopes: 0, snapshots: 0, skipped: 0, refused: [] };
  for (const [author, name, snapshot, envelopes] of entries) {
    options.signal?.throwIfAborted();
    let feed: Feed;
    try {
      feed = new Feed({ store, author, name, doc: false, ownership: options.ownership ?? 'own' });
      await feed.start(options);
    } catch (error) {
      if (!(error instanceof P2pbError)) throw error;
      result.refused.push({ feedId: `${String(name).slice(0, 100)}`, code: error.code, message: error.message });
      continue;
    }
    const refuse = (error: P2pbError) => {
      if (error.code === 'REPLAYED_ENVELOPE') result.skipped++;
      else result.refused.push({ feedId: feed.id, code: error.code, message: error.message });
    };
    const importEnvelopes = async (list: readonly Uint8Array[]) => {
      for (let i = 0; i < list.length; i += LOAD_BATCH_ENVELOPES) {
        const outcome = await feed.receiveMany(list.slice(i, i + LOAD_BATCH_ENVELOPES), options);
        result.envelopes += outcome.appended;
        for (const { error } of outcome.refused) refuse(error);
      }
    };
    /** Returns whether the snapshot moved the head (so envelopes after it can now go in). */
    const importSnapshot = async (): Promise<boolean> => {
      if (snapshot.length === 0) return false;
      try {
        const outcome = await feed.receiveSnapshot(snapshot, options);
        if (outcome.status !== 'ignored') result.snapshots++;
        return outcome.status === 'applied';
      } catch (error) {
        if (!(error instanceof P2pbError)) throw error;
        refuse(error);
        return false;
      }
    };
    try {
      // A full history goes in first (then the snapshot is kept for re-serving); a compacted
      // one needs its snapshot first, for the envelopes after it to continue a chain.
      const startsAtOne = envelopes.length > 0 && feedSeqOf(envelopes[0]!) === 1;
      if (startsAtOne) {
        await importEnvelopes(envelopes);
        // If the history had a hole the snapshot bridges it; what follows the snapshot goes in then.
        if (await importSnapshot()) await importEnvelopes(envelopes.filter((e) => feedSeqOf(e) > (feed.head()?.seq ?? 0)));
      } else {
        await importSnapshot();
        await importEnvelopes(envelopes);
      }
      result.feeds++;
    } finally {
      await feed.stop();
    }
  }
  return result;
}

/** The sequence an envelope claims (unverified; used only to order the import). */
function feedSeqOf(bytes: Uint8Array): number {
  try {
    const value = decode(bytes, { strict: true }) as unknown[];
    return typeof value[4] === 'number' ? value[4] : 0;
  } catch {
    return 0;
  }
}
