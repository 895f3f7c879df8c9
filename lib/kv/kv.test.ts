import 'fake-indexeddb/auto';
import { runKeyValueStoreTests } from './acceptance.ts';
import { IdbKeyValueStore } from './idb.ts';
import { MemoryKeyValueStore } from './index.ts';

runKeyValueStoreTests('memory', async () => new MemoryKeyValueStore());
// The same suite on IndexedDB, through fake-indexeddb in Node (the e2e suite covers the real one).
runKeyValueStoreTests('IndexedDB', async () => new IdbKeyValueStore(`test-${crypto.randomUUID()}`));
