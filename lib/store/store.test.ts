import 'fake-indexeddb/auto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runFeedStoreTests } from './acceptance.ts';
import { FileFeedStore } from './file.ts';
import { IdbFeedStore } from './idb.ts';
import { MemoryFeedStore, createMemoryBacking } from './memory.ts';
import type { FeedStoreOptions } from './store.ts';

runFeedStoreTests('memory', async (options) => {
  const backing = createMemoryBacking();
  const store = new MemoryFeedStore({ ...options, backing });
  return {
    store,
    async reopen() {
      await store.stop();
      return new MemoryFeedStore({ ...options, faults: undefined, backing });
    },
  };
});

// The same suite on IndexedDB through fake-indexeddb in Node (the e2e suite covers a real browser).
runFeedStoreTests('IndexedDB', async (options) => {
  const name = `feeds-${crypto.randomUUID()}`;
  const store = new IdbFeedStore(name, options);
  return {
    store,
    async reopen() {
      await store.stop();
      return new IdbFeedStore(name, { ...options, faults: undefined });
    },
  };
});

const root = await mkdtemp(join(tmpdir(), 'p2pb-feed-store-'));
afterAll(() => rm(root, { recursive: true, force: true }));

runFeedStoreTests('file (LevelDB)', async (options: FeedStoreOptions) => {
  const path = join(root, crypto.randomUUID());
  const store = new FileFeedStore(path, options);
  return {
    store,
    async reopen() {
      await store.stop();
      return new FileFeedStore(path, { ...options, faults: undefined });
    },
  };
});
