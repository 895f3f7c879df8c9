/**
 * lib/vault — the encrypted key vault. Secret keys are encrypted at rest (PBKDF2-SHA-256 →
 * AES-256-GCM), held in memory only while unlocked, and never leave the vault: callers ask it to
 * sign. Stored format, parameters and the session-key rule: docs/vault.md.
 */
export { createVault } from './vault.ts';
export type {
  IdentityInfo,
  ImportBackupResult,
  Vault,
  VaultChange,
  VaultChangeListener,
  VaultChangeReason,
  VaultOptions,
  VaultStatus,
} from './vault.ts';
export {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  KDF_ITERATIONS,
  MAX_BACKUP_SIZE,
  MAX_KDF_ITERATIONS,
  MIN_PASSPHRASE_LENGTH,
  SESSION_KEY_STORAGE_KEY,
  VAULT_FORMAT_VERSION,
  VAULT_STORAGE_KEY,
} from './constants.ts';
export {
  CorruptVaultError,
  IdentityExistsError,
  InvalidDisplayNameError,
  MalformedBackupError,
  UnknownIdentityError,
  UnsupportedBackupVersionError,
  UnsupportedVaultVersionError,
  VaultErrorCode,
  VaultExistsError,
  VaultLockedError,
  VaultNotInitializedError,
  VaultNotStartedError,
  VaultWriteError,
  WeakPassphraseError,
  WrongPassphraseError,
} from './errors.ts';
export type { VaultErrorCodeValue } from './errors.ts';
export type { BackupFile } from './backup.ts';
export type { StoredVaultV1, StoredVaultV2 } from './format.ts';
