/**
 * Reading every stored version, and upgrading payloads one version at a time.
 *
 * - OPENERS[n] decrypts a stored vault of format version n with a passphrase (version n's rules).
 * - MIGRATIONS[n] turns a decrypted payload of version n into one of version n + 1.
 *
 * Unlocking a vault of version n < VAULT_FORMAT_VERSION opens it with OPENERS[n], runs
 * MIGRATIONS[n], MIGRATIONS[n + 1] … up to the current version, and re-encrypts the result with
 * the current rules in one write. A new format version adds an opener and one migration step.
 */
import { fromHex, toBase64url, utf8 } from '../util/bytes.ts';
import { createIdentityStatement, displayNameProblem, MAX_DISPLAY_NAME_BYTES } from '../records/index.ts';
import { importAesKey, deriveKeyBytes, normalizePassphrase, open } from './crypto.ts';
import { VAULT_AAD_TAG, VAULT_FORMAT_VERSION } from './constants.ts';
import { CorruptVaultError } from './errors.ts';
import {
  decodePayloadJson,
  openSealed,
  parsePayloadV1,
  parseSealedFields,
  parseStoredV1,
} from './format.ts';
import type { ErrorFactory, ParsedSealed, PayloadV2, StoredIdentity } from './format.ts';

export const corrupt: ErrorFactory = (message, cause) => new CorruptVaultError(message, { cause });

/** A stored vault decrypted with its own version's rules. */
export interface Opened {
  version: number;
  /** The decrypted payload, still in that version's shape. */
  payload: unknown;
  /** The derived AES key and the header it came from (reused while nothing needs upgrading). */
  keyBytes: Uint8Array;
  salt: Uint8Array;
  iterations: number;
}

/** undefined: the passphrase is wrong. Throws CorruptVaultError for a record it cannot parse. */
export type Opener = (record: Record<string, unknown>, passphrase: string) => Promise<Opened | undefined>;

/** Decrypts a v2 vault's payload with an AES key; undefined when the key does not fit. */
export async function openV2WithKey(
  record: Record<string, unknown>,
  key: CryptoKey,
): Promise<{ payload: unknown; sealed: ParsedSealed } | undefined> {
  const sealed = parseSealedFields(record, corrupt);
  const plaintext = await openSealed(VAULT_AAD_TAG, 2, key, sealed);
  if (plaintext === undefined) return undefined;
  return { payload: decodePayloadJson(plaintext, corrupt), sealed };
}

const openV2: Opener = async (record, passphrase) => {
  const sealed = parseSealedFields(record, corrupt);
  const keyBytes = await deriveKeyBytes(normalizePassphrase(passphrase), sealed.salt, sealed.iterations);
  const opened = await openV2WithKey(record, await importAesKey(keyBytes));
  if (opened === undefined) return undefined;
  return { version: 2, payload: opened.payload, keyBytes, salt: sealed.salt, iterations: sealed.iterations };
};

/**
 * v1 (first prototype): { version: 1, salt, iterations, iv, data }, base64url fields, AES-GCM with
 * no additional data. The prototype derived from the passphrase exactly as typed, so that form is
 * tried first and the NFC form (what v2 uses) second, when it differs.
 */
const openV1: Opener = async (record, passphrase) => {
  const sealed = parseStoredV1(record, corrupt);
  const forms = [...new Set([passphrase, normalizePassphrase(passphrase)])];
  for (const form of forms) {
    const keyBytes = await deriveKeyBytes(form, sealed.salt, sealed.iterations);
    const plaintext = await open(await importAesKey(keyBytes), sealed);
    if (plaintext !== undefined) {
      return {
        version: 1,
        payload: decodePayloadJson(plaintext, corrupt),
        keyBytes,
        salt: sealed.salt,
        iterations: sealed.iterations,
      };
    }
  }
  return undefined;
};

export const OPENERS: Readonly<Record<number, Opener>> = { 1: openV1, 2: openV2 };

export interface MigrationContext {
  /** ms since the epoch, from the vault's clock. */
  now: number;
}

export type Migration = (payload: unknown, context: MigrationContext) => Promise<unknown>;

// Characters an identity statement refuses in a name (kept in step with lib/records' rule; the
// result is checked with displayNameProblem anyway and falls back to a generated name).
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cs}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/**
 * The prototype accepted any name; a statement needs 1..MAX_DISPLAY_NAME_BYTES bytes of NFC
 * without control characters. Migration must never fail on a name, so it repairs what it can and
 * otherwise names the key "Identity <n>".
 */
export function repairDisplayName(name: string, fallback: string): string {
  let repaired = name.normalize('NFC').replace(FORBIDDEN_IN_NAME, '').trim();
  const codePoints = [...repaired];
  while (utf8(repaired).length > MAX_DISPLAY_NAME_BYTES && codePoints.length > 0) {
    codePoints.pop();
    repaired = codePoints.join('').normalize('NFC').trim();
  }
  return displayNameProblem(repaired) === null ? repaired : fallback;
}

/** v1 { keys: [{ name, seed: hex }] } → v2 { identities: [...] }: createdAt = now, fresh statements. */
const migrateV1ToV2: Migration = async (payload, { now }) => {
  const { keys } = parsePayloadV1(payload, corrupt);
  const identities: StoredIdentity[] = [];
  for (const [index, key] of keys.entries()) {
    const secretKey = fromHex(key.seed);
    const displayName = repairDisplayName(key.name, `Identity ${index + 1}`);
    const statement = await createIdentityStatement({ secretKey, displayName, createdAt: now });
    identities.push({ secretKey: toBase64url(secretKey), displayName, createdAt: now, statement: toBase64url(statement) });
    secretKey.fill(0);
  }
  const next: PayloadV2 = { identities };
  return next;
};

/** MIGRATIONS[n]: payload of version n → payload of version n + 1. */
export const MIGRATIONS: Readonly<Record<number, Migration>> = { 1: migrateV1ToV2 };

/** Runs every step from `version` up to VAULT_FORMAT_VERSION. */
export async function migratePayload(
  version: number,
  payload: unknown,
  context: MigrationContext,
): Promise<unknown> {
  let current = payload;
  for (let v = version; v < VAULT_FORMAT_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (step === undefined) throw new CorruptVaultError(`No migration from vault format ${v}`);
    current = await step(current, context);
  }
  return current;
}
