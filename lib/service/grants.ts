/**
 * Site grants: which identity each origin sees, and whether it may sign without asking.
 * Stored in the extension's local storage with a schema version and a migration path.
 */
import type { KeyValueStore } from '../kv/index.ts';
import type { GrantView } from '../protocol/index.ts';
import { GRANTS_KEY, GRANTS_VERSION } from './constants.ts';
import { UnsupportedStoredVersionError } from './errors.ts';

interface StoredGrantsV1 {
  version: 1;
  /** `write` (may write to the identity's feeds without asking) was added without a version bump: absent means false. */
  origins: Record<string, { identity: string; sign: boolean; write?: boolean; grantedAt: number }>;
}

/** version n → n+1 steps; add one here when the schema changes. */
const migrations: Record<number, (old: unknown) => { version: number }> = {};

export class GrantStore {
  readonly #kv: KeyValueStore;
  #grants = new Map<string, GrantView>();

  constructor(kv: KeyValueStore) {
    this.#kv = kv;
  }

  async load(): Promise<void> {
    const loaded = await this.#kv.get<{ version: number }>(GRANTS_KEY);
    if (loaded === undefined) return;
    let stored: { version: number } = loaded;
    if (typeof stored.version !== 'number' || stored.version > GRANTS_VERSION) {
      throw new UnsupportedStoredVersionError('grants', stored.version);
    }
    while (stored.version < GRANTS_VERSION) {
      const step: ((old: unknown) => { version: number }) | undefined = migrations[stored.version];
      if (!step) throw new UnsupportedStoredVersionError('grants', stored.version);
      stored = step(stored);
    }
    const v1 = stored as StoredGrantsV1;
    this.#grants = new Map(Object.entries(v1.origins).map(([origin, g]) => [origin, { origin, ...g }]));
  }

  get(origin: string): GrantView | undefined {
    return this.#grants.get(origin);
  }

  list(): GrantView[] {
    return [...this.#grants.values()].sort((a, b) => a.origin.localeCompare(b.origin));
  }

  async set(grant: GrantView): Promise<void> {
    const next = new Map(this.#grants);
    next.set(grant.origin, grant);
    await this.#save(next);
  }

  async remove(origins: string[]): Promise<void> {
    const next = new Map(this.#grants);
    for (const origin of origins) next.delete(origin);
    await this.#save(next);
  }

  /** Saves first, then swaps the in-memory copy: a failed write changes nothing. */
  async #save(next: Map<string, GrantView>): Promise<void> {
    const stored: StoredGrantsV1 = {
      version: GRANTS_VERSION,
      origins: Object.fromEntries(
        [...next.values()].map(({ origin, identity, sign, write, grantedAt }) => [origin, { identity, sign, ...(write ? { write } : {}), grantedAt }]),
      ),
    };
    await this.#kv.set(GRANTS_KEY, stored);
    this.#grants = next;
  }
}
