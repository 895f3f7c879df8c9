/**
 * KeyValueStore on IndexedDB (through idb): where the engine keeps its state in the offscreen
 * document, which has IndexedDB but no browser.storage. One object store, structured-clone values.
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { KeyValueStore } from './index.ts';

const STORE = 'kv';
const DB_VERSION = 1;

export class IdbKeyValueStore implements KeyValueStore {
  readonly #db: Promise<IDBPDatabase>;

  constructor(name: string) {
    this.#db = openDB(name, DB_VERSION, {
      upgrade(db) {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE);
      },
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await (await this.#db).get(STORE, key)) as T | undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    await (await this.#db).put(STORE, value, key);
  }

  async remove(key: string): Promise<void> {
    await (await this.#db).delete(STORE, key);
  }

  async close(): Promise<void> {
    (await this.#db).close();
  }
}
