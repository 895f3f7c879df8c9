/**
 * The key vault: ed25519 secret keys encrypted at rest under a passphrase, held in memory only
 * while unlocked, and never handed out — callers get signatures. Runs in the background (service
 * worker on Chrome, background page on Firefox) and in Node; storage comes in as KeyValueStores.
 */
import { copyBytes, fromBase64url, toBase64url } from '../util/bytes.ts';
import type { KeyValueStore } from '../kv/index.ts';
import { createSigningKey, encodePublicKey, generateKeyPair, getPublicKey } from '../identity/index.ts';
import type { SigningKey } from '../identity/index.ts';
import { createIdentityStatement, decodeIdentityStatement, displayNameProblem } from '../records/index.ts';
import { openBackup, sealBackup, malformed } from './backup.ts';
import { assertStrongPassphrase, deriveKeyBytes, importAesKey, newSalt, normalizePassphrase } from './crypto.ts';
import {
  AES_KEY_LENGTH,
  KDF_ITERATIONS,
  SESSION_KEY_STORAGE_KEY,
  VAULT_AAD_TAG,
  VAULT_FORMAT_VERSION,
  VAULT_STORAGE_KEY,
} from './constants.ts';
import {
  IdentityExistsError,
  InvalidDisplayNameError,
  UnknownIdentityError,
  UnsupportedVaultVersionError,
  VaultExistsError,
  VaultLockedError,
  VaultNotInitializedError,
  VaultNotStartedError,
  VaultWriteError,
  WrongPassphraseError,
} from './errors.ts';
import { isRecord, parsePayloadV2, readVersion, sealPayload } from './format.ts';
import type { ErrorFactory, Keyring, PayloadV2, StoredIdentity, StoredVaultV2 } from './format.ts';
import { corrupt, migratePayload, OPENERS, openV2WithKey } from './migrations.ts';

export type VaultStatus = 'uninitialized' | 'locked' | 'unlocked';

/** What the vault says about an identity. Everything but the secret key. */
export interface IdentityInfo {
  /** The public key's text form (z6Mk…); the identity's id everywhere. */
  id: string;
  /** Same as id. */
  publicKey: string;
  displayName: string;
  /** ms since the epoch when the identity was made (or migrated into the vault). */
  createdAt: number;
  /** The current signed identity statement (lib/records). */
  statement: Uint8Array;
}

export type VaultChangeReason =
  | 'start'
  | 'initialize'
  | 'unlock'
  | 'lock'
  | 'create'
  | 'rename'
  | 'delete'
  | 'import';

export interface VaultChange {
  reason: VaultChangeReason;
  /** The status after the change. */
  status: VaultStatus;
  /** Identities the change touched (create, rename, delete, import). */
  ids: string[];
}

export type VaultChangeListener = (change: VaultChange) => void;

export interface VaultOptions {
  /** Holds the encrypted vault (browser.storage.local). */
  local: KeyValueStore;
  /** Holds the derived key while the browser runs (browser.storage.session). */
  session: KeyValueStore;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** PBKDF2 iterations for new encryptions. Default KDF_ITERATIONS; lower only in tests. */
  kdfIterations?: number;
}

export interface ImportBackupResult {
  /** Ids added to the vault. */
  added: string[];
  /** Ids in the backup the vault already held (by public key). */
  skipped: string[];
}

export interface Vault {
  /** Loads the stored vault; unlocked when the session store holds a key that decrypts it. */
  start(): Promise<void>;
  /** Forgets keys in memory and leaves storage as it is (the session key stays). */
  stop(): Promise<void>;
  status(): VaultStatus;
  /** First run. @throws VaultExistsError, WeakPassphraseError */
  initialize(passphrase: string): Promise<void>;
  /** @throws WrongPassphraseError (nothing stored changes), VaultNotInitializedError,
   * UnsupportedVaultVersionError, CorruptVaultError, VaultWriteError (migration write failed) */
  unlock(passphrase: string): Promise<void>;
  /** Forgets the keys in memory and removes the session key. Idempotent. */
  lock(): Promise<void>;
  /** @throws WrongPassphraseError, WeakPassphraseError, VaultLockedError, VaultWriteError */
  changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void>;
  createIdentity(displayName: string): Promise<IdentityInfo>;
  listIdentities(): IdentityInfo[];
  /** @throws UnknownIdentityError */
  getIdentity(id: string): IdentityInfo;
  /** New name, statement re-signed with createdAt = now. */
  renameIdentity(id: string, displayName: string): Promise<IdentityInfo>;
  deleteIdentity(id: string): Promise<void>;
  /** Adds a 32-byte ed25519 seed. @throws IdentityExistsError, InvalidSecretKeyError */
  importSecretKey(secretKey: Uint8Array, displayName: string): Promise<IdentityInfo>;
  /** The only way to get a signature (lib/identity sign: domain-separated by `context`). */
  sign(id: string, context: string, message: Uint8Array): Promise<Uint8Array>;
  /** Every identity, encrypted under `passphrase` with its own salt: the text of a backup file. */
  exportBackup(passphrase: string): Promise<string>;
  /** Merges a backup; identities already present are skipped. Nothing changes on error.
   * @throws WrongPassphraseError, MalformedBackupError, UnsupportedBackupVersionError */
  importBackup(text: string, passphrase: string): Promise<ImportBackupResult>;
  /** Called after every status or identity change; returns the unsubscribe function. */
  onChange(listener: VaultChangeListener): () => void;
}

/** One identity in memory. The secret key lives only here and in the ciphertext. */
interface Held {
  readonly id: string;
  readonly secretKey: Uint8Array;
  readonly displayName: string;
  readonly createdAt: number;
  readonly statement: Uint8Array;
  /** createdAt inside the statement (a rename signs a strictly newer one). */
  readonly statedAt: number;
  /** Imported once, on first use. */
  signingKey?: Promise<SigningKey>;
}

type State =
  | { status: 'stopped' }
  | { status: 'uninitialized' }
  | { status: 'locked' }
  | { status: 'unlocked'; keyring: Keyring; identities: ReadonlyMap<string, Held> };

type Unlocked = Extract<State, { status: 'unlocked' }>;

export function createVault(options: VaultOptions): Vault {
  return new KeyVault(options);
}

function toInfo(held: Held): IdentityInfo {
  return {
    id: held.id,
    publicKey: held.id,
    displayName: held.displayName,
    createdAt: held.createdAt,
    statement: copyBytes(held.statement), // a copy: callers cannot change what the vault holds
  };
}

function checkDisplayName(displayName: unknown): string {
  const name = typeof displayName === 'string' ? displayName.normalize('NFC') : displayName;
  const problem = displayNameProblem(name);
  if (problem !== null) throw new InvalidDisplayNameError(problem);
  return name as string;
}

function toPayload(identities: ReadonlyMap<string, Held>): PayloadV2 {
  return {
    identities: [...identities.values()].map(
      (held): StoredIdentity => ({
        secretKey: toBase64url(held.secretKey),
        displayName: held.displayName,
        createdAt: held.createdAt,
        statement: toBase64url(held.statement),
      }),
    ),
  };
}

/**
 * Stored identities → memory, checking that each statement verifies and belongs to its key.
 * Identities after the first with the same public key are dropped.
 */
async function loadIdentities(payload: PayloadV2, fail: ErrorFactory): Promise<Map<string, Held>> {
  const identities = new Map<string, Held>();
  for (const [index, stored] of payload.identities.entries()) {
    const secretKey = fromBase64url(stored.secretKey);
    const id = encodePublicKey(await getPublicKey(secretKey));
    if (identities.has(id)) continue;
    let statedAt: number;
    try {
      const statement = await decodeIdentityStatement(fromBase64url(stored.statement));
      if (encodePublicKey(statement.publicKey) !== id) throw new Error('statement of another key');
      statedAt = statement.createdAt;
    } catch (err) {
      throw fail(`identities[${index}].statement is not a valid statement of its key`, err);
    }
    identities.set(id, {
      id,
      secretKey,
      displayName: checkStoredName(stored.displayName, index, fail),
      createdAt: stored.createdAt,
      statement: fromBase64url(stored.statement),
      statedAt,
    });
  }
  return identities;
}

function checkStoredName(name: string, index: number, fail: ErrorFactory): string {
  const problem = displayNameProblem(name);
  if (problem !== null) throw fail(`identities[${index}].displayName: ${problem}`);
  return name;
}

/**
 * Imports a secret key for signing from a private copy, so that lock() zeroing the held bytes
 * while an import is still in flight cannot make it sign with a zeroed key.
 */
function importSigningKey(secretKey: Uint8Array): Promise<SigningKey> {
  const seed = copyBytes(secretKey);
  return createSigningKey(seed).finally(() => seed.fill(0));
}

function wipe(identities: ReadonlyMap<string, Held> | undefined): void {
  for (const held of identities?.values() ?? []) held.secretKey.fill(0);
}

class KeyVault implements Vault {
  readonly #local: KeyValueStore;
  readonly #session: KeyValueStore;
  readonly #now: () => number;
  readonly #iterations: number;
  readonly #listeners = new Set<VaultChangeListener>();
  #state: State = { status: 'stopped' };
  /** Operations that read-modify-write run one at a time, in call order. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: VaultOptions) {
    this.#local = options.local;
    this.#session = options.session;
    this.#now = options.now ?? Date.now;
    this.#iterations = options.kdfIterations ?? KDF_ITERATIONS;
    if (!Number.isSafeInteger(this.#iterations) || this.#iterations < 1) {
      throw new RangeError('kdfIterations must be a positive integer');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle and status

  start(): Promise<void> {
    return this.#exclusive(async () => {
      this.#forget();
      const record = await this.#local.get<unknown>(VAULT_STORAGE_KEY);
      if (record === undefined) {
        this.#state = { status: 'uninitialized' };
      } else {
        this.#state = { status: 'locked' };
        const restored = await this.#restoreFromSession(record);
        if (restored) this.#state = restored;
      }
      this.#emit('start', []);
    });
  }

  stop(): Promise<void> {
    return this.#exclusive(async () => {
      this.#forget();
      this.#state = { status: 'stopped' };
    });
  }

  status(): VaultStatus {
    const { status } = this.#state;
    if (status === 'stopped') throw new VaultNotStartedError();
    return status;
  }

  onChange(listener: VaultChangeListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // ------------------------------------------------------------------------------------------
  // Passphrase

  initialize(passphrase: string): Promise<void> {
    return this.#exclusive(async () => {
      if (this.status() !== 'uninitialized' || (await this.#local.get(VAULT_STORAGE_KEY)) !== undefined) {
        throw new VaultExistsError();
      }
      assertStrongPassphrase(passphrase);
      const { keyring, keyBytes } = await this.#newKeyring(passphrase);
      const identities = new Map<string, Held>();
      await this.#write(keyring, identities);
      await this.#storeSessionKey(keyBytes);
      this.#state = { status: 'unlocked', keyring, identities };
      this.#emit('initialize', []);
    });
  }

  unlock(passphrase: string): Promise<void> {
    return this.#exclusive(async () => {
      this.status(); // started?
      const record = await this.#local.get<unknown>(VAULT_STORAGE_KEY);
      if (record === undefined) throw new VaultNotInitializedError();
      const version = readVersion(record, corrupt);
      if (version > VAULT_FORMAT_VERSION) throw new UnsupportedVaultVersionError(version);
      const opener = OPENERS[version];
      if (opener === undefined || !isRecord(record)) throw corrupt(`Unknown vault format ${version}`);

      const opened = await opener(record, passphrase);
      if (opened === undefined) throw new WrongPassphraseError();
      const payload = parsePayloadV2(
        await migratePayload(version, opened.payload, { now: this.#now() }),
        corrupt,
      );
      const identities = await loadIdentities(payload, corrupt);

      let keyring: Keyring;
      let keyBytes: Uint8Array;
      if (version !== VAULT_FORMAT_VERSION || opened.iterations < this.#iterations) {
        // Migrate, or strengthen the KDF to today's iterations: fresh salt, one write.
        ({ keyring, keyBytes } = await this.#newKeyring(passphrase));
        try {
          await this.#write(keyring, identities);
        } catch (err) {
          wipe(identities);
          throw err;
        }
        opened.keyBytes.fill(0);
      } else {
        keyBytes = opened.keyBytes;
        keyring = { key: await importAesKey(keyBytes), salt: opened.salt, iterations: opened.iterations };
      }
      await this.#storeSessionKey(keyBytes);
      this.#forget();
      this.#state = { status: 'unlocked', keyring, identities };
      this.#emit('unlock', []);
    });
  }

  lock(): Promise<void> {
    return this.#exclusive(async () => {
      const wasUnlocked = this.status() === 'unlocked';
      try {
        await this.#session.remove(SESSION_KEY_STORAGE_KEY);
      } finally {
        if (wasUnlocked) {
          this.#forget();
          this.#state = { status: 'locked' };
          this.#emit('lock', []);
        }
      }
    });
  }

  changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      assertStrongPassphrase(newPassphrase);
      const current = await deriveKeyBytes(normalizePassphrase(oldPassphrase), state.keyring.salt, state.keyring.iterations);
      const record = await this.#local.get<unknown>(VAULT_STORAGE_KEY);
      const check = isRecord(record) ? await openV2WithKey(record, await importAesKey(current)) : undefined;
      current.fill(0);
      if (check === undefined) throw new WrongPassphraseError();

      const { keyring, keyBytes } = await this.#newKeyring(newPassphrase);
      await this.#write(keyring, state.identities);
      this.#state = { ...state, keyring };
      await this.#storeSessionKey(keyBytes);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Identities

  createIdentity(displayName: string): Promise<IdentityInfo> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      const name = checkDisplayName(displayName);
      const { secretKey } = await generateKeyPair();
      const held = await this.#makeHeld(secretKey, name);
      return this.#commitAdd(state, held, 'create');
    });
  }

  importSecretKey(secretKey: Uint8Array, displayName: string): Promise<IdentityInfo> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      const name = checkDisplayName(displayName);
      const own = copyBytes(secretKey);
      const id = encodePublicKey(await getPublicKey(own)); // InvalidSecretKeyError for a bad seed
      if (state.identities.has(id)) {
        own.fill(0);
        throw new IdentityExistsError(id);
      }
      return this.#commitAdd(state, await this.#makeHeld(own, name), 'import');
    });
  }

  listIdentities(): IdentityInfo[] {
    return [...this.#unlocked().identities.values()].map(toInfo);
  }

  getIdentity(id: string): IdentityInfo {
    return toInfo(this.#held(this.#unlocked(), id));
  }

  renameIdentity(id: string, displayName: string): Promise<IdentityInfo> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      const held = this.#held(state, id);
      const name = checkDisplayName(displayName);
      const statedAt = Math.max(this.#now(), held.statedAt + 1);
      const statement = await createIdentityStatement({
        signer: await this.#signingKey(held),
        displayName: name,
        createdAt: statedAt,
      });
      const renamed: Held = { ...held, displayName: name, statement: copyBytes(statement), statedAt };
      const identities = new Map(state.identities).set(id, renamed);
      await this.#commit(state, identities);
      this.#emit('rename', [id]);
      return toInfo(renamed);
    });
  }

  deleteIdentity(id: string): Promise<void> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      const held = this.#held(state, id);
      const identities = new Map(state.identities);
      identities.delete(id);
      await this.#commit(state, identities);
      held.secretKey.fill(0);
      this.#emit('delete', [id]);
    });
  }

  async sign(id: string, context: string, message: Uint8Array): Promise<Uint8Array> {
    const held = this.#held(this.#unlocked(), id);
    const key = await this.#signingKey(held);
    return key.sign(context, message);
  }

  // ------------------------------------------------------------------------------------------
  // Backups

  exportBackup(passphrase: string): Promise<string> {
    return this.#exclusive(async () => {
      const state = this.#unlocked();
      return sealBackup(toPayload(state.identities), passphrase, this.#iterations);
    });
  }

  importBackup(text: string, passphrase: string): Promise<ImportBackupResult> {
    return this.#exclusive(async () => {
      this.#unlocked();
      const payload = await openBackup(text, passphrase);
      const incoming = await loadIdentities(payload, malformed);
      const state = this.#unlocked();
      const identities = new Map(state.identities);
      const added: string[] = [];
      const skipped: string[] = [];
      for (const [id, held] of incoming) {
        if (identities.has(id)) {
          skipped.push(id);
          held.secretKey.fill(0);
        } else {
          added.push(id);
          identities.set(id, held);
        }
      }
      if (added.length > 0) {
        try {
          await this.#commit(state, identities);
        } catch (err) {
          for (const id of added) identities.get(id)?.secretKey.fill(0);
          throw err;
        }
        this.#emit('import', added);
      }
      return { added, skipped };
    });
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(operation, operation);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #unlocked(): Unlocked {
    const state = this.#state;
    if (state.status === 'stopped') throw new VaultNotStartedError();
    if (state.status !== 'unlocked') throw new VaultLockedError();
    return state;
  }

  #held(state: Unlocked, id: string): Held {
    const held = state.identities.get(id);
    if (held === undefined) throw new UnknownIdentityError(id);
    return held;
  }

  #signingKey(held: Held): Promise<SigningKey> {
    held.signingKey ??= importSigningKey(held.secretKey);
    return held.signingKey;
  }

  async #makeHeld(secretKey: Uint8Array, displayName: string): Promise<Held> {
    const createdAt = this.#now();
    const signingKey = importSigningKey(secretKey);
    const signer = await signingKey;
    const statement = await createIdentityStatement({ signer, displayName, createdAt });
    return {
      id: encodePublicKey(signer.publicKey),
      secretKey,
      displayName,
      createdAt,
      statement: copyBytes(statement),
      statedAt: createdAt,
      signingKey,
    };
  }

  async #commitAdd(state: Unlocked, held: Held, reason: VaultChangeReason): Promise<IdentityInfo> {
    const identities = new Map(state.identities).set(held.id, held);
    try {
      await this.#commit(state, identities);
    } catch (err) {
      held.secretKey.fill(0);
      throw err;
    }
    this.#emit(reason, [held.id]);
    return toInfo(held);
  }

  /** Writes `identities` and, only once the write succeeded, makes them the state. */
  async #commit(state: Unlocked, identities: ReadonlyMap<string, Held>): Promise<void> {
    await this.#write(state.keyring, identities);
    this.#state = { ...state, identities };
  }

  /** The whole vault, freshly encrypted, in one `local.set`. A failed write changes nothing. */
  async #write(keyring: Keyring, identities: ReadonlyMap<string, Held>): Promise<void> {
    const sealed = await sealPayload(VAULT_AAD_TAG, VAULT_FORMAT_VERSION, keyring, toPayload(identities));
    const record: StoredVaultV2 = { version: VAULT_FORMAT_VERSION, ...sealed };
    try {
      await this.#local.set(VAULT_STORAGE_KEY, record);
    } catch (err) {
      throw new VaultWriteError(err);
    }
  }

  /** A fresh salt and a key derived from `passphrase` at this vault's iterations. */
  async #newKeyring(passphrase: string): Promise<{ keyring: Keyring; keyBytes: Uint8Array }> {
    const salt = newSalt();
    const keyBytes = await deriveKeyBytes(normalizePassphrase(passphrase), salt, this.#iterations);
    return { keyring: { key: await importAesKey(keyBytes), salt, iterations: this.#iterations }, keyBytes };
  }

  /**
   * Keeps the raw key in the session store so a restarted service worker can decrypt without the
   * passphrase. Best effort: the vault on disk is already right, and without the session key a
   * restart only asks for the passphrase again.
   */
  async #storeSessionKey(keyBytes: Uint8Array): Promise<void> {
    const encoded = toBase64url(keyBytes);
    keyBytes.fill(0);
    try {
      await this.#session.set(SESSION_KEY_STORAGE_KEY, encoded);
    } catch {
      await this.#session.remove(SESSION_KEY_STORAGE_KEY).catch(() => undefined);
    }
  }

  /** The unlocked state from the session key, or undefined (a stale session key is removed). */
  async #restoreFromSession(record: unknown): Promise<Unlocked | undefined> {
    const encoded = await this.#session.get<unknown>(SESSION_KEY_STORAGE_KEY);
    if (encoded === undefined) return undefined;
    try {
      if (typeof encoded === 'string' && isRecord(record) && record.version === VAULT_FORMAT_VERSION) {
        const keyBytes = fromBase64url(encoded);
        if (keyBytes.length === AES_KEY_LENGTH) {
          const key = await importAesKey(keyBytes);
          keyBytes.fill(0);
          const opened = await openV2WithKey(record, key);
          if (opened !== undefined) {
            const identities = await loadIdentities(parsePayloadV2(opened.payload, corrupt), corrupt);
            const { salt, iterations } = opened.sealed;
            return { status: 'unlocked', keyring: { key, salt, iterations }, identities };
          }
        }
      }
    } catch {
      // A session key that does not decrypt this vault (or a vault unlock will report as
      // corrupt) leaves the vault locked; unlock() gives the precise error.
    }
    await this.#session.remove(SESSION_KEY_STORAGE_KEY).catch(() => undefined);
    return undefined;
  }

  /** Drops the keys held in memory (zeroing the secret key bytes). */
  #forget(): void {
    if (this.#state.status === 'unlocked') wipe(this.#state.identities);
  }

  #emit(reason: VaultChangeReason, ids: string[]): void {
    const change: VaultChange = { reason, status: this.status(), ids: [...ids] };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        // A failing listener must not undo or hide a change that already happened.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
