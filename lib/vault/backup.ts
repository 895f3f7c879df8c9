/**
 * The backup file: a JSON text, sealed exactly like the vault (PBKDF2-SHA-256 → AES-256-GCM,
 * header bound as additional data) under a passphrase and salt of its own. docs/vault.md.
 */
import { assertStrongPassphrase, deriveKeyBytes, importAesKey, newSalt, normalizePassphrase } from './crypto.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MAX_BACKUP_SIZE } from './constants.ts';
import { MalformedBackupError, UnsupportedBackupVersionError, WrongPassphraseError } from './errors.ts';
import {
  decodePayloadJson,
  isRecord,
  openSealed,
  parsePayloadV2,
  parseSealedFields,
  sealPayload,
} from './format.ts';
import type { ErrorFactory, PayloadV2, SealedFields } from './format.ts';

export interface BackupFile extends SealedFields {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_FORMAT_VERSION;
}

export const malformed: ErrorFactory = (message, cause) => new MalformedBackupError(message, { cause });

/** Encrypts `payload` under `passphrase` (fresh salt and IV) and returns the file's text. */
export async function sealBackup(payload: PayloadV2, passphrase: string, iterations: number): Promise<string> {
  assertStrongPassphrase(passphrase);
  const salt = newSalt();
  const keyBytes = await deriveKeyBytes(normalizePassphrase(passphrase), salt, iterations);
  const key = await importAesKey(keyBytes);
  keyBytes.fill(0);
  const sealed = await sealPayload(BACKUP_FORMAT, BACKUP_FORMAT_VERSION, { key, salt, iterations }, payload);
  const file: BackupFile = { format: BACKUP_FORMAT, version: BACKUP_FORMAT_VERSION, ...sealed };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Parses, decrypts and validates a backup file's text.
 * @throws MalformedBackupError, UnsupportedBackupVersionError, WrongPassphraseError
 */
export async function openBackup(text: unknown, passphrase: string): Promise<PayloadV2> {
  if (typeof text !== 'string') throw malformed('A backup is a text');
  if (text.length > MAX_BACKUP_SIZE) throw malformed(`A backup is at most ${MAX_BACKUP_SIZE} characters`);
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw malformed('The backup is not JSON', err);
  }
  if (!isRecord(file) || file.format !== BACKUP_FORMAT) throw malformed(`Not a ${BACKUP_FORMAT} file`);
  const { version } = file;
  if (!Number.isSafeInteger(version) || (version as number) < 1) throw malformed('The backup has no valid version');
  if ((version as number) > BACKUP_FORMAT_VERSION) throw new UnsupportedBackupVersionError(version);
  const sealed = parseSealedFields(file, malformed);
  const keyBytes = await deriveKeyBytes(normalizePassphrase(String(passphrase)), sealed.salt, sealed.iterations);
  const key = await importAesKey(keyBytes);
  keyBytes.fill(0);
  const plaintext = await openSealed(BACKUP_FORMAT, BACKUP_FORMAT_VERSION, key, sealed);
  if (plaintext === undefined) throw new WrongPassphraseError();
  return parsePayloadV2(decodePayloadJson(plaintext, malformed), malformed);
}
