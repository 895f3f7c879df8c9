/**
 * A small key-value store: the shape of `browser.storage.local` / `storage.session`, so the vault
 * and the grants run unchanged in Node tests (memory twin) and in the extension (storage areas).
 * Values must be structured-clone / JSON safe.
 */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  remove(key: string): Promise<void>;
}

export class MemoryKeyValueStore implements KeyValueStore {
  readonly #data = new Map<string, string>();

  async get<T>(key: string): Promise<T | undefined> {
    const raw = this.#data.get(key);
    // Round-trip through JSON like the real storage areas do, so tests catch non-JSON values.
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.#data.set(key, JSON.stringify(value));
  }

  async remove(key: string): Promise<void> {
    this.#data.delete(key);
  }

  /** Test helper: everything stored, as parsed JSON. */
  dump(): Record<string, unknown> {
    return Object.fromEntries([...this.#data].map(([k, v]) => [k, JSON.parse(v)]));
  }
}
