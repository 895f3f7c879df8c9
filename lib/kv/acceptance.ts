/**
 * One acceptance suite for every KeyValueStore (automerge-repo's runStorageAdapterTests):
 * call it from each implementation's test file with a factory for fresh stores.
 */
import { describe, expect, it } from 'vitest';
import type { KeyValueStore } from './index.ts';

export function runKeyValueStoreTests(name: string, fresh: () => Promise<KeyValueStore>): void {
  describe(`KeyValueStore: ${name}`, () => {
    it('returns undefined for a key never set', async () => {
      const kv = await fresh();
      await expect(kv.get('nothing')).resolves.toBeUndefined();
    });

    it('returns what was set, as a copy, and the latest write wins', async () => {
      const kv = await fresh();
      const value = { version: 1, list: [1, 2, 3], nested: { text: 'é✓' } };
      await kv.set('a', value);
      value.list.push(4);
      await expect(kv.get('a')).resolves.toEqual({ version: 1, list: [1, 2, 3], nested: { text: 'é✓' } });
      await kv.set('a', { version: 2 });
      await expect(kv.get('a')).resolves.toEqual({ version: 2 });
    });

    it('keeps keys apart and removes only the one asked', async () => {
      const kv = await fresh();
      await kv.set('a', 1);
      await kv.set('b', 'two');
      await kv.remove('a');
      await kv.remove('never-set');
      await expect(kv.get('a')).resolves.toBeUndefined();
      await expect(kv.get('b')).resolves.toBe('two');
    });
  });
}
