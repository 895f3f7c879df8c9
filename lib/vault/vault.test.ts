import { describe, expect, it } from 'vitest';
import { MemoryKeyValueStore } from '../kv/index.ts';
import { fromBase64url, randomBytes, toBase64url, toHex, utf8 } from '../util/bytes.ts';
import { CONTEXTS, decodePublicKey, encodePublicKey, getPublicKey, verify } from '../identity/index.ts';
import { decodeIdentityStatement } from '../records/index.ts';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  createVault,
  KDF_ITERATIONS,
  SESSION_KEY_STORAGE_KEY,
  VAULT_FORMAT_VERSION,
  VAULT_STORAGE_KEY,
} from './index.ts';
import type { Vault, VaultChange, VaultOptions } from './index.ts';
import { MIGRATIONS, OPENERS, repairDisplayName } from './migrations.ts';

/** Fast KDF for most tests; the real parameter is exercised in its own tests below. */
const TEST_ITERATIONS = 1_000;
const PASSPHRASE = 'correct horse battery staple';
const OTHER_PASSPHRASE = 'tr0ub4dor & 3 more words';
const MESSAGE = utf8('hello, peer-to-peer world');
const START_TIME = 1_700_000_000_000;

/** A store whose writes can be made to fail, as a full browser.storage.local would. */
class FlakyStore extends MemoryKeyValueStore {
  failWrites = false;
  override async set(key: string, value: unknown): Promise<void> {
    if (this.failWrites) throw new Error('QUOTA_BYTES quota exceeded');
    return super.set(key, value);
  }
}

interface Setup {
  local: FlakyStore;
  session: MemoryKeyValueStore;
  clock: { time: number };
  open(overrides?: Partial<VaultOptions>): Promise<Vault>;
}

function setup(): Setup {
  const local = new FlakyStore();
  const session = new MemoryKeyValueStore();
  const clock = { time: START_TIME };
  return {
    local,
    session,
    clock,
    async open(overrides = {}) {
      const vault = createVault({
        local,
        session,
        now: () => clock.time,
        kdfIterations: TEST_ITERATIONS,
        ...overrides,
      });
      await vault.start();
      return vault;
    },
  };
}

async function initialized(names: string[] = []): Promise<Setup & { vault: Vault }> {
  const env = setup();
  const vault = await env.open();
  await vault.initialize(PASSPHRASE);
  for (const name of names) await vault.createIdentity(name);
  return { ...env, vault };
}

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

const snapshot = (store: MemoryKeyValueStore): string => JSON.stringify(store.dump());

const storedVault = (local: MemoryKeyValueStore): Record<string, unknown> =>
  local.dump()[VAULT_STORAGE_KEY] as Record<string, unknown>;

/** A version-1 vault exactly as the first prototype wrote it, built here with plain WebCrypto. */
async function makeV1Vault(
  passphrase: string,
  keys: { name: string; seed: Uint8Array }[],
  iterations = 310_000,
): Promise<Record<string, unknown>> {
  const subtle = globalThis.crypto.subtle;
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const base = await subtle.importKey('raw', new Uint8Array(utf8(passphrase)), 'PBKDF2', false, ['deriveKey']);
  const key = await subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
  const plaintext = utf8(JSON.stringify({ keys: keys.map((k) => ({ name: k.name, seed: toHex(k.seed) })) }));
  const data = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv }, key, new Uint8Array(plaintext)));
  return { version: 1, salt: toBase64url(salt), iterations, iv: toBase64url(iv), data: toBase64url(data) };
}

describe('vault lifecycle', () => {
  it('is uninitialized on first start and refuses status before start', async () => {
    const env = setup();
    const vault = createVault({ local: env.local, session: env.session, kdfIterations: TEST_ITERATIONS });
    expect(await codeOf(() => vault.status())).toBe('VAULT_NOT_STARTED');
    await vault.start();
    expect(vault.status()).toBe('uninitialized');
    expect(env.local.dump()).toEqual({});
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('VAULT_NOT_INITIALIZED');
  });

  it('initializes unlocked and empty, and refuses to initialize twice', async () => {
    const { vault, local, open } = await initialized();
    expect(vault.status()).toBe('unlocked');
    expect(vault.listIdentities()).toEqual([]);
    const before = snapshot(local);
    expect(await codeOf(vault.initialize(OTHER_PASSPHRASE))).toBe('VAULT_EXISTS');
    expect(await codeOf((await open()).initialize(OTHER_PASSPHRASE))).toBe('VAULT_EXISTS');
    expect(snapshot(local)).toBe(before);
  });

  it('refuses a passphrase shorter than 8 characters and stores nothing', async () => {
    const env = setup();
    const vault = await env.open();
    expect(await codeOf(vault.initialize('1234567'))).toBe('WEAK_PASSPHRASE');
    // 7 code points, 14 UTF-16 units: still too short
    expect(await codeOf(vault.initialize('😀😀😀😀😀😀😀'))).toBe('WEAK_PASSPHRASE');
    expect(vault.status()).toBe('uninitialized');
    expect(env.local.dump()).toEqual({});
    await vault.initialize('12345678');
    expect(vault.status()).toBe('unlocked');
  });

  it('locks with a wrong passphrase refused (nothing stored changes), and unlocks to the same keys', async () => {
    const { vault, local, session } = await initialized();
    const alice = await vault.createIdentity('Alice');
    const bob = await vault.createIdentity('Bob');
    const carol = await vault.createIdentity('Carol');
    const before = vault.listIdentities();
    const signatures = await Promise.all(before.map((info) => vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE)));

    await vault.lock();
    expect(vault.status()).toBe('locked');
    const localAtRest = snapshot(local);
    const sessionAtRest = snapshot(session);
    expect(await codeOf(vault.unlock('not the passphrase'))).toBe('WRONG_PASSPHRASE');
    expect(vault.status()).toBe('locked');
    expect(snapshot(local)).toBe(localAtRest);
    expect(snapshot(session)).toBe(sessionAtRest);

    await vault.unlock(PASSPHRASE);
    expect(vault.status()).toBe('unlocked');
    const after = vault.listIdentities();
    expect(after).toEqual(before);
    expect(after.map((i) => i.id)).toEqual([alice.id, bob.id, carol.id]);
    for (const [index, info] of after.entries()) {
      const signature = await vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE);
      expect(signature).toEqual(signatures[index]); // ed25519 is deterministic: same key, same signature
      expect(await verify(decodePublicKey(info.publicKey), CONTEXTS.PAGE_SIGN, MESSAGE, signature)).toBe(true);
    }
  });

  it('starts unlocked after a service-worker restart and locked after a browser restart', async () => {
    const { vault, local, session, open } = await initialized(['Alice', 'Bob']);
    const identities = vault.listIdentities();

    const restarted = await open(); // same local + session: the worker was stopped and restarted
    expect(restarted.status()).toBe('unlocked');
    expect(restarted.listIdentities()).toEqual(identities);
    const signature = await restarted.sign(identities[0]!.id, CONTEXTS.PAGE_SIGN, MESSAGE);
    expect(await verify(decodePublicKey(identities[0]!.id), CONTEXTS.PAGE_SIGN, MESSAGE, signature)).toBe(true);

    // Browser restart: storage.session is empty again.
    const afterBrowserRestart = createVault({ local, session: new MemoryKeyValueStore(), kdfIterations: TEST_ITERATIONS });
    await afterBrowserRestart.start();
    expect(afterBrowserRestart.status()).toBe('locked');
    await afterBrowserRestart.unlock(PASSPHRASE);
    expect(afterBrowserRestart.listIdentities()).toEqual(identities);
    expect(session.dump()[SESSION_KEY_STORAGE_KEY]).toBeTypeOf('string');
  });

  it('lock removes the session key, so a restarted worker stays locked', async () => {
    const { vault, session, open } = await initialized(['Alice']);
    expect(Object.keys(session.dump())).toEqual([SESSION_KEY_STORAGE_KEY]);
    await vault.lock();
    expect(session.dump()).toEqual({});
    expect((await open()).status()).toBe('locked');
    await vault.lock(); // idempotent
    expect(vault.status()).toBe('locked');
  });

  it('stop forgets the keys in memory but keeps the session key', async () => {
    const { vault, session } = await initialized(['Alice']);
    await vault.stop();
    expect(await codeOf(() => vault.listIdentities())).toBe('VAULT_NOT_STARTED');
    expect(session.dump()[SESSION_KEY_STORAGE_KEY]).toBeTypeOf('string');
    await vault.start();
    expect(vault.status()).toBe('unlocked');
    expect(vault.listIdentities().map((i) => i.displayName)).toEqual(['Alice']);
  });

  it('a session key that no longer fits the stored vault leaves it locked and is removed', async () => {
    const { vault, local, session, open } = await initialized(['Alice']);
    await vault.lock();
    await session.set(SESSION_KEY_STORAGE_KEY, toBase64url(randomBytes(32)));
    expect((await open()).status()).toBe('locked');
    expect(session.dump()).toEqual({});
    expect(storedVault(local).version).toBe(VAULT_FORMAT_VERSION);
  });

  it('binds the header to the ciphertext: a changed header does not decrypt even with the session key', async () => {
    const { local, session, open } = await initialized(['Alice']);
    const record = storedVault(local);
    const kdf = record.kdf as { iterations: number };
    await local.set(VAULT_STORAGE_KEY, { ...record, kdf: { ...kdf, iterations: kdf.iterations - 1 } });
    expect(session.dump()[SESSION_KEY_STORAGE_KEY]).toBeTypeOf('string');
    const vault = await open();
    expect(vault.status()).toBe('locked');
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('WRONG_PASSPHRASE');
  });
});

describe('locked vault', () => {
  it('refuses every operation but status, start, initialize and unlock with VAULT_LOCKED', async () => {
    const { vault } = await initialized(['Alice']);
    const id = vault.listIdentities()[0]!.id;
    const backup = await vault.exportBackup(PASSPHRASE);
    await vault.lock();
    const attempts: [string, () => unknown][] = [
      ['listIdentities', () => vault.listIdentities()],
      ['getIdentity', () => vault.getIdentity(id)],
      ['createIdentity', () => vault.createIdentity('Eve')],
      ['renameIdentity', () => vault.renameIdentity(id, 'Mallory')],
      ['deleteIdentity', () => vault.deleteIdentity(id)],
      ['importSecretKey', () => vault.importSecretKey(randomBytes(32), 'Eve')],
      ['sign', () => vault.sign(id, CONTEXTS.PAGE_SIGN, MESSAGE)],
      ['exportBackup', () => vault.exportBackup(PASSPHRASE)],
      ['importBackup', () => vault.importBackup(backup, PASSPHRASE)],
      ['changePassphrase', () => vault.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE)],
    ];
    for (const [name, attempt] of attempts) {
      expect([name, await codeOf(attempt)]).toEqual([name, 'VAULT_LOCKED']);
    }
    expect(vault.status()).toBe('locked');
  });
});

describe('storage at rest', () => {
  it('reveals only that a vault exists, its version and KDF parameters', async () => {
    const seed = randomBytes(32);
    const { vault, local, session } = await initialized(['Alice Liddell', 'Bob Builder']);
    const imported = await vault.importSecretKey(seed, 'Imported Ingrid');
    const publicKeys = vault.listIdentities().map((i) => decodePublicKey(i.publicKey));

    const dump = JSON.stringify({ local: local.dump(), session: session.dump() });
    const secrets = [
      'Alice Liddell',
      'Bob Builder',
      'Imported Ingrid',
      imported.id,
      toHex(seed),
      toBase64url(seed),
      Buffer.from(seed).toString('base64'),
      ...vault.listIdentities().map((i) => i.id),
      ...publicKeys.flatMap((key) => [toHex(key), toBase64url(key), Buffer.from(key).toString('base64')]),
    ];
    for (const secret of secrets) expect(dump).not.toContain(secret);

    const record = storedVault(local);
    expect(Object.keys(record).sort()).toEqual(['cipher', 'data', 'kdf', 'version']);
    expect(record.version).toBe(2);
    expect(record.kdf).toEqual({
      name: 'PBKDF2',
      hash: 'SHA-256',
      iterations: TEST_ITERATIONS,
      salt: expect.any(String),
    });
    expect(Object.keys(record.cipher as object).sort()).toEqual(['iv', 'name']);
    expect(fromBase64url((record.kdf as { salt: string }).salt)).toHaveLength(16);
    expect(fromBase64url((record.cipher as { iv: string }).iv)).toHaveLength(12);
    // The session store holds one 32-byte key and nothing else.
    expect(Object.keys(session.dump())).toEqual([SESSION_KEY_STORAGE_KEY]);
    expect(fromBase64url(session.dump()[SESSION_KEY_STORAGE_KEY] as string)).toHaveLength(32);
  });

  it('does not reveal how many identities there are through the ciphertext length', async () => {
    const { vault, local } = await initialized();
    const emptyLength = (storedVault(local).data as string).length;
    for (let i = 0; i < 5; i++) await vault.createIdentity(`Identity number ${i}`);
    expect((storedVault(local).data as string).length).toBe(emptyLength);
  });

  it('writes a fresh IV every time and keeps the salt until the passphrase changes', async () => {
    const { vault, local } = await initialized();
    const first = storedVault(local);
    await vault.createIdentity('Alice');
    const second = storedVault(local);
    expect((second.cipher as { iv: string }).iv).not.toBe((first.cipher as { iv: string }).iv);
    expect(second.kdf).toEqual(first.kdf);
    await vault.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE);
    expect((storedVault(local).kdf as { salt: string }).salt).not.toBe((first.kdf as { salt: string }).salt);
  });
});

describe('identities', () => {
  it('creates identities whose statement is signed by their own key', async () => {
    const { vault, clock } = await initialized();
    const info = await vault.createIdentity('Alice');
    expect(Object.keys(info).sort()).toEqual(['createdAt', 'displayName', 'id', 'publicKey', 'statement']);
    expect(info.id).toBe(info.publicKey);
    expect(info.id).toMatch(/^z6Mk/);
    expect(info.createdAt).toBe(clock.time);
    const statement = await decodeIdentityStatement(info.statement);
    expect(encodePublicKey(statement.publicKey)).toBe(info.id);
    expect(statement.displayName).toBe('Alice');
    expect(statement.createdAt).toBe(clock.time);
    expect(vault.getIdentity(info.id)).toEqual(info);
  });

  it('holds many identities, in creation order, also when created concurrently', async () => {
    const { vault, open } = await initialized();
    const names = ['A', 'B', 'C', 'D', 'E', 'F'];
    const created = await Promise.all(names.map((name) => vault.createIdentity(name)));
    expect(vault.listIdentities().map((i) => i.displayName)).toEqual(names);
    const restarted = await open();
    expect(restarted.listIdentities().map((i) => i.id)).toEqual(created.map((i) => i.id));
  });

  it('renames by re-signing the statement at the current time, keeping createdAt', async () => {
    const { vault, clock, open } = await initialized();
    const info = await vault.createIdentity('Alice');
    clock.time += 60_000;
    const renamed = await vault.renameIdentity(info.id, 'Alice B.');
    expect(renamed.displayName).toBe('Alice B.');
    expect(renamed.createdAt).toBe(info.createdAt);
    const statement = await decodeIdentityStatement(renamed.statement);
    expect([statement.displayName, statement.createdAt]).toEqual(['Alice B.', clock.time]);

    // Same millisecond again: the new statement is still strictly newer.
    const again = await vault.renameIdentity(info.id, 'Alice C.');
    expect((await decodeIdentityStatement(again.statement)).createdAt).toBe(clock.time + 1);
    expect((await open()).getIdentity(info.id)).toEqual(again);
  });

  it('deletes an identity for good', async () => {
    const { vault, open } = await initialized(['Alice', 'Bob']);
    const [alice, bob] = vault.listIdentities();
    await vault.deleteIdentity(alice!.id);
    expect(vault.listIdentities().map((i) => i.id)).toEqual([bob!.id]);
    expect(await codeOf(vault.sign(alice!.id, CONTEXTS.PAGE_SIGN, MESSAGE))).toBe('UNKNOWN_IDENTITY');
    const restarted = await open();
    expect(restarted.listIdentities().map((i) => i.id)).toEqual([bob!.id]);
  });

  it('refuses unknown ids with UNKNOWN_IDENTITY', async () => {
    const { vault } = await initialized(['Alice']);
    const unknown = encodePublicKey(await getPublicKey(randomBytes(32)));
    expect(await codeOf(() => vault.getIdentity(unknown))).toBe('UNKNOWN_IDENTITY');
    expect(await codeOf(vault.renameIdentity(unknown, 'X'))).toBe('UNKNOWN_IDENTITY');
    expect(await codeOf(vault.deleteIdentity(unknown))).toBe('UNKNOWN_IDENTITY');
    expect(await codeOf(vault.sign(unknown, CONTEXTS.PAGE_SIGN, MESSAGE))).toBe('UNKNOWN_IDENTITY');
    expect(await codeOf(vault.sign('not a key', CONTEXTS.PAGE_SIGN, MESSAGE))).toBe('UNKNOWN_IDENTITY');
  });

  it('imports a secret key under its own public key, once', async () => {
    const { vault, local } = await initialized();
    const seed = randomBytes(32);
    const info = await vault.importSecretKey(seed, 'Imported');
    expect(info.id).toBe(encodePublicKey(await getPublicKey(seed)));
    seed.fill(0); // the vault keeps its own copy
    const signature = await vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE);
    expect(await verify(decodePublicKey(info.id), CONTEXTS.PAGE_SIGN, MESSAGE, signature)).toBe(true);

    const before = snapshot(local);
    const again = randomBytes(32);
    await vault.importSecretKey(again, 'Twin');
    expect(await codeOf(vault.importSecretKey(again, 'Twin again'))).toBe('IDENTITY_EXISTS');
    expect(await codeOf(vault.importSecretKey(randomBytes(31), 'Short'))).toBe('INVALID_SECRET_KEY');
    expect(vault.listIdentities()).toHaveLength(2);
    expect(snapshot(local)).not.toBe(before);
  });

  it('refuses display names a statement cannot carry, and normalizes to NFC', async () => {
    const { vault, local } = await initialized();
    const before = snapshot(local);
    expect(await codeOf(vault.createIdentity(''))).toBe('INVALID_DISPLAY_NAME');
    expect(await codeOf(vault.createIdentity('x'.repeat(65)))).toBe('INVALID_DISPLAY_NAME');
    expect(await codeOf(vault.createIdentity('evil\u202Eeman'))).toBe('INVALID_DISPLAY_NAME');
    expect(snapshot(local)).toBe(before);
    const info = await vault.createIdentity('Zoe\u0301'); // decomposed é
    expect(info.displayName).toBe('Zoé');
  });

  it('signs with the context it is given, and nothing exposes a secret key', async () => {
    const seed = randomBytes(32);
    const { vault } = await initialized();
    const info = await vault.importSecretKey(seed, 'Alice');
    const page = await vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE);
    const change = await vault.sign(info.id, CONTEXTS.IDENTITY_CHANGE, MESSAGE);
    const key = decodePublicKey(info.id);
    expect(await verify(key, CONTEXTS.PAGE_SIGN, MESSAGE, page)).toBe(true);
    expect(await verify(key, CONTEXTS.IDENTITY_CHANGE, MESSAGE, page)).toBe(false);
    expect(await verify(key, CONTEXTS.IDENTITY_CHANGE, MESSAGE, change)).toBe(true);
    expect(await codeOf(vault.sign(info.id, 'Not A Context', MESSAGE))).toBe('INVALID_CONTEXT');

    const visible = JSON.stringify({ vault, keys: Object.keys(vault), list: vault.listIdentities() });
    expect(visible).not.toContain(toBase64url(seed));
    expect(visible).not.toContain(toHex(seed));
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(vault)).filter((n) => /secret|key/i.test(n));
    expect(methods).toEqual(['importSecretKey']);
  });
});

describe('passphrase change', () => {
  it('re-encrypts under the new passphrase; the old one stops working', async () => {
    const { vault, local, open } = await initialized(['Alice']);
    const identities = vault.listIdentities();
    const before = snapshot(local);
    expect(await codeOf(vault.changePassphrase('wrong passphrase', OTHER_PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    expect(await codeOf(vault.changePassphrase(PASSPHRASE, 'short'))).toBe('WEAK_PASSPHRASE');
    expect(snapshot(local)).toBe(before);

    await vault.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE);
    expect(vault.listIdentities()).toEqual(identities);
    // The session key follows the new key: a restarted worker is still unlocked.
    expect((await open()).listIdentities()).toEqual(identities);
    await vault.lock();
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    await vault.unlock(OTHER_PASSPHRASE);
    expect(vault.listIdentities()).toEqual(identities);
  });
});

describe('backups', () => {
  it('export then import into a fresh vault restores identical keys', async () => {
    const { vault } = await initialized(['Alice', 'Bob', 'Carol']);
    const originals = vault.listIdentities();
    const signatures = await Promise.all(originals.map((i) => vault.sign(i.id, CONTEXTS.PAGE_SIGN, MESSAGE)));
    const backup = await vault.exportBackup(OTHER_PASSPHRASE);

    const other = await initialized();
    const result = await other.vault.importBackup(backup, OTHER_PASSPHRASE);
    expect(result).toEqual({ added: originals.map((i) => i.id), skipped: [] });
    expect(other.vault.listIdentities()).toEqual(originals);
    for (const [index, info] of originals.entries()) {
      expect(await other.vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE)).toEqual(signatures[index]);
    }
    // And it is persisted in the other vault.
    expect((await other.open()).listIdentities()).toEqual(originals);
  });

  it('is a JSON file with its format, version and own salt, revealing no identity', async () => {
    const { vault, local } = await initialized(['Alice Liddell']);
    const info = vault.listIdentities()[0]!;
    const text = await vault.exportBackup(PASSPHRASE);
    const file = JSON.parse(text) as Record<string, any>;
    expect(file.format).toBe(BACKUP_FORMAT);
    expect(file.format).toBe('p2pb-vault-backup');
    expect(file.version).toBe(BACKUP_FORMAT_VERSION);
    expect(Object.keys(file).sort()).toEqual(['cipher', 'data', 'format', 'kdf', 'version']);
    expect(file.kdf).toMatchObject({ name: 'PBKDF2', hash: 'SHA-256', iterations: TEST_ITERATIONS });
    expect(file.kdf.salt).not.toBe((storedVault(local).kdf as { salt: string }).salt);
    expect(text).not.toContain('Alice Liddell');
    expect(text).not.toContain(info.id);
    expect(text).not.toContain(toBase64url(decodePublicKey(info.id)));
  });

  it('merges: identities already present are skipped', async () => {
    const { vault } = await initialized(['Alice', 'Bob']);
    const [alice, bob] = vault.listIdentities();
    const backup = await vault.exportBackup(PASSPHRASE);
    await vault.deleteIdentity(bob!.id);
    const carol = await vault.createIdentity('Carol');
    const events: VaultChange[] = [];
    vault.onChange((change) => events.push(change));

    expect(await vault.importBackup(backup, PASSPHRASE)).toEqual({ added: [bob!.id], skipped: [alice!.id] });
    expect(vault.listIdentities().map((i) => i.id)).toEqual([alice!.id, carol.id, bob!.id]);
    expect(events).toEqual([{ reason: 'import', status: 'unlocked', ids: [bob!.id] }]);
    expect(await vault.importBackup(backup, PASSPHRASE)).toEqual({ added: [], skipped: [alice!.id, bob!.id] });
    expect(events).toHaveLength(1);
  });

  it('refuses a wrong passphrase, a malformed file and a newer version, changing nothing', async () => {
    const { vault } = await initialized(['Alice']);
    const backup = await vault.exportBackup(PASSPHRASE);
    const other = await initialized(['Zed']);
    const before = snapshot(other.local);
    const file = JSON.parse(backup) as Record<string, any>;
    const tampered = (change: (f: Record<string, any>) => void): string => {
      const copy = structuredClone(file);
      change(copy);
      return JSON.stringify(copy);
    };
    const flip = (text: string): string => (text[5] === 'A' ? `${text.slice(0, 5)}B${text.slice(6)}` : `${text.slice(0, 5)}A${text.slice(6)}`);

    const cases: [string, string, string][] = [
      ['wrong passphrase', backup, 'WRONG_PASSPHRASE'],
      ['tampered ciphertext', tampered((f) => (f.data = flip(f.data))), 'WRONG_PASSPHRASE'],
      ['not JSON', 'this is not a backup', 'MALFORMED_BACKUP'],
      ['another format', tampered((f) => (f.format = 'something-else')), 'MALFORMED_BACKUP'],
      ['no kdf', tampered((f) => delete f.kdf), 'MALFORMED_BACKUP'],
      ['short salt', tampered((f) => (f.kdf.salt = 'AAAA')), 'MALFORMED_BACKUP'],
      ['absurd iterations', tampered((f) => (f.kdf.iterations = 1e12)), 'MALFORMED_BACKUP'],
      ['other hash', tampered((f) => (f.kdf.hash = 'SHA-1')), 'MALFORMED_BACKUP'],
      ['no data', tampered((f) => delete f.data), 'MALFORMED_BACKUP'],
      ['newer version', tampered((f) => (f.version = BACKUP_FORMAT_VERSION + 1)), 'UNSUPPORTED_BACKUP_VERSION'],
    ];
    for (const [what, text, code] of cases) {
      const passphrase = what === 'wrong passphrase' ? OTHER_PASSPHRASE : PASSPHRASE;
      expect([what, await codeOf(other.vault.importBackup(text, passphrase))]).toEqual([what, code]);
    }
    expect(snapshot(other.local)).toBe(before);
    expect(other.vault.listIdentities().map((i) => i.displayName)).toEqual(['Zed']);
  });

  it('refuses a weak backup passphrase', async () => {
    const { vault } = await initialized(['Alice']);
    expect(await codeOf(vault.exportBackup('short'))).toBe('WEAK_PASSPHRASE');
  });
});

describe('stored format versions', () => {
  it('has a migration step for every version before the current one', () => {
    for (let version = 1; version < VAULT_FORMAT_VERSION; version++) {
      expect(MIGRATIONS[version]).toBeTypeOf('function');
    }
    for (let version = 1; version <= VAULT_FORMAT_VERSION; version++) {
      expect(OPENERS[version]).toBeTypeOf('function');
    }
  });

  it('migrates a v1 vault on the first unlock to v2 at 600,000 iterations, keeping its keys', async () => {
    const seeds = [randomBytes(32), randomBytes(32)];
    const v1 = await makeV1Vault(PASSPHRASE, [
      { name: 'Old Alice', seed: seeds[0]! },
      { name: 'Old Bob', seed: seeds[1]! },
    ]);
    const env = setup();
    await env.local.set(VAULT_STORAGE_KEY, v1);
    const vault = await env.open({ kdfIterations: undefined }); // the real parameter
    expect(vault.status()).toBe('locked');

    expect(await codeOf(vault.unlock(OTHER_PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    expect(storedVault(env.local)).toEqual(v1);

    await vault.unlock(PASSPHRASE);
    const identities = vault.listIdentities();
    const expectedIds = await Promise.all(seeds.map(async (seed) => encodePublicKey(await getPublicKey(seed))));
    expect(identities.map((i) => i.id)).toEqual(expectedIds);
    expect(identities.map((i) => i.displayName)).toEqual(['Old Alice', 'Old Bob']);
    for (const info of identities) {
      expect(info.createdAt).toBe(env.clock.time);
      const statement = await decodeIdentityStatement(info.statement);
      expect([encodePublicKey(statement.publicKey), statement.displayName, statement.createdAt]).toEqual([
        info.id,
        info.displayName,
        env.clock.time,
      ]);
      const signature = await vault.sign(info.id, CONTEXTS.PAGE_SIGN, MESSAGE);
      expect(await verify(decodePublicKey(info.id), CONTEXTS.PAGE_SIGN, MESSAGE, signature)).toBe(true);
    }

    const record = storedVault(env.local);
    expect(record.version).toBe(2);
    expect((record.kdf as { iterations: number }).iterations).toBe(600_000);
    expect(JSON.stringify(record)).not.toContain('Old Alice');

    // A v2 vault now: the session key works, and the passphrase unlocks it without migrating.
    expect((await env.open({ kdfIterations: undefined })).listIdentities()).toEqual(identities);
    await vault.lock();
    await vault.unlock(PASSPHRASE);
    expect(vault.listIdentities()).toEqual(identities);
  });

  it('migrates v1 names a statement cannot carry into valid ones', async () => {
    expect(repairDisplayName('  Alice  ', 'Identity 1')).toBe('Alice');
    expect(repairDisplayName('', 'Identity 2')).toBe('Identity 2');
    expect(repairDisplayName('bad\u0000name\u202E', 'Identity 3')).toBe('badname');
    expect(repairDisplayName('é'.repeat(40), 'Identity 4')).toBe('é'.repeat(32));

    const v1 = await makeV1Vault(PASSPHRASE, [{ name: '', seed: randomBytes(32) }], TEST_ITERATIONS);
    const env = setup();
    await env.local.set(VAULT_STORAGE_KEY, v1);
    const vault = await env.open();
    await vault.unlock(PASSPHRASE);
    expect(vault.listIdentities().map((i) => i.displayName)).toEqual(['Identity 1']);
  });

  it('refuses a vault written by a newer version and never overwrites it', async () => {
    const env = setup();
    const future = { version: VAULT_FORMAT_VERSION + 1, whatever: 'new layout' };
    await env.local.set(VAULT_STORAGE_KEY, future);
    const vault = await env.open();
    expect(vault.status()).toBe('locked');
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('UNSUPPORTED_VAULT_VERSION');
    expect(await codeOf(vault.initialize(PASSPHRASE))).toBe('VAULT_EXISTS');
    expect(storedVault(env.local)).toEqual(future);
  });

  it('reports something that is not a vault as CORRUPT_VAULT and leaves it alone', async () => {
    const env = setup();
    await env.local.set(VAULT_STORAGE_KEY, 'not a vault');
    const vault = await env.open();
    expect(vault.status()).toBe('locked');
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('CORRUPT_VAULT');
    expect(env.local.dump()[VAULT_STORAGE_KEY]).toBe('not a vault');
  });

  it('raises the KDF iterations of an older vault to the current ones on unlock', async () => {
    const { vault, local, open } = await initialized(['Alice']);
    const identities = vault.listIdentities();
    await vault.lock();
    const stronger = await open({ kdfIterations: TEST_ITERATIONS * 2 });
    await stronger.unlock(PASSPHRASE);
    expect((storedVault(local).kdf as { iterations: number }).iterations).toBe(TEST_ITERATIONS * 2);
    expect(stronger.listIdentities()).toEqual(identities);
  });
});

describe('failed writes', () => {
  it('leave the stored vault and the vault in memory as they were', async () => {
    const { vault, local, open } = await initialized(['Alice', 'Bob']);
    const [alice] = vault.listIdentities();
    const identities = vault.listIdentities();
    const backup = await (await initialized(['Carol'])).vault.exportBackup(PASSPHRASE);
    const events: VaultChange[] = [];
    vault.onChange((change) => events.push(change));
    const before = snapshot(local);

    local.failWrites = true;
    const attempts: [string, () => Promise<unknown>][] = [
      ['createIdentity', () => vault.createIdentity('Dave')],
      ['importSecretKey', () => vault.importSecretKey(randomBytes(32), 'Eve')],
      ['renameIdentity', () => vault.renameIdentity(alice!.id, 'Alicia')],
      ['deleteIdentity', () => vault.deleteIdentity(alice!.id)],
      ['importBackup', () => vault.importBackup(backup, PASSPHRASE)],
      ['changePassphrase', () => vault.changePassphrase(PASSPHRASE, OTHER_PASSPHRASE)],
    ];
    for (const [name, attempt] of attempts) {
      expect([name, await codeOf(attempt())]).toEqual([name, 'VAULT_WRITE_FAILED']);
    }
    expect(snapshot(local)).toBe(before);
    expect(vault.listIdentities()).toEqual(identities);
    expect(events).toEqual([]);
    const signature = await vault.sign(alice!.id, CONTEXTS.PAGE_SIGN, MESSAGE);
    expect(await verify(decodePublicKey(alice!.id), CONTEXTS.PAGE_SIGN, MESSAGE, signature)).toBe(true);

    local.failWrites = false;
    await vault.lock();
    await vault.unlock(PASSPHRASE);
    expect(vault.listIdentities()).toEqual(identities);
    expect((await open()).listIdentities()).toEqual(identities);
  });

  it('a migration whose write fails leaves the v1 vault and stays locked', async () => {
    const v1 = await makeV1Vault(PASSPHRASE, [{ name: 'Old', seed: randomBytes(32) }], TEST_ITERATIONS);
    const env = setup();
    await env.local.set(VAULT_STORAGE_KEY, v1);
    const vault = await env.open();
    env.local.failWrites = true;
    expect(await codeOf(vault.unlock(PASSPHRASE))).toBe('VAULT_WRITE_FAILED');
    expect(vault.status()).toBe('locked');
    expect(storedVault(env.local)).toEqual(v1);
    expect(env.session.dump()).toEqual({});
  });
});

describe('change events', () => {
  it('fire after every status and identity change, until unsubscribed', async () => {
    const env = setup();
    const vault = await env.open();
    const events: VaultChange[] = [];
    const unsubscribe = vault.onChange((change) => events.push(change));
    await vault.initialize(PASSPHRASE);
    const alice = await vault.createIdentity('Alice');
    await vault.renameIdentity(alice.id, 'Alicia');
    const imported = await vault.importSecretKey(randomBytes(32), 'Imported');
    await vault.deleteIdentity(imported.id);
    await vault.lock();
    expect(await codeOf(vault.unlock('wrong passphrase'))).toBe('WRONG_PASSPHRASE');
    await vault.unlock(PASSPHRASE);
    unsubscribe();
    await vault.lock();
    expect(events.map((e) => [e.reason, e.status, e.ids])).toEqual([
      ['initialize', 'unlocked', []],
      ['create', 'unlocked', [alice.id]],
      ['rename', 'unlocked', [alice.id]],
      ['import', 'unlocked', [imported.id]],
      ['delete', 'unlocked', [imported.id]],
      ['lock', 'locked', []],
      ['unlock', 'unlocked', []],
    ]);
  });
});

describe('real KDF parameters', () => {
  it('uses PBKDF2-SHA-256 with at least 600,000 iterations by default', async () => {
    expect(KDF_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    const env = setup();
    const vault = createVault({ local: env.local, session: env.session });
    await vault.start();
    await vault.initialize(PASSPHRASE);
    const alice = await vault.createIdentity('Alice');
    expect(storedVault(env.local).kdf).toMatchObject({ name: 'PBKDF2', hash: 'SHA-256', iterations: KDF_ITERATIONS });
    const backup = JSON.parse(await vault.exportBackup(OTHER_PASSPHRASE)) as { kdf: { iterations: number } };
    expect(backup.kdf.iterations).toBe(KDF_ITERATIONS);
    await vault.lock();
    expect(await codeOf(vault.unlock(OTHER_PASSPHRASE))).toBe('WRONG_PASSPHRASE');
    await vault.unlock(PASSPHRASE);
    expect(vault.getIdentity(alice.id)).toEqual(alice);
  });
});
