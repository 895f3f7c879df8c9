import type { KeyValueStore } from '@/lib/kv/index.ts';

interface StorageArea {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string): Promise<void>;
}

/** browser.storage.local / storage.session as a KeyValueStore (lib/kv). */
export function storageArea(area: StorageArea): KeyValueStore {
  return {
    async get<T>(key: string) {
      const items = await area.get(key);
      return items[key] as T | undefined;
    },
    set: (key, value) => area.set({ [key]: value }),
    remove: (key) => area.remove(key),
  };
}
