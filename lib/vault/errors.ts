import { P2pbError } from '../util/errors.ts';

/** Stable codes of every error lib/vault raises (they cross context boundaries as `{ code }`). */
export const VaultErrorCode = {
  VAULT_NOT_STARTED: 'VAULT_NOT_STARTED',
  VAULT_EXISTS: 'VAULT_EXISTS',
  VAULT_NOT_INITIALIZED: 'VAULT_NOT_INITIALIZED',
  VAULT_LOCKED: 'VAULT_LOCKED',
  WEAK_PASSPHRASE: 'WEAK_PASSPHRASE',
  WRONG_PASSPHRASE: 'WRONG_PASSPHRASE',
  UNKNOWN_IDENTITY: 'UNKNOWN_IDENTITY',
  IDENTITY_EXISTS: 'IDENTITY_EXISTS',
  INVALID_DISPLAY_NAME: 'INVALID_DISPLAY_NAME',
  UNSUPPORTED_VAULT_VERSION: 'UNSUPPORTED_VAULT_VERSION',
  CORRUPT_VAULT: 'CORRUPT_VAULT',
  VAULT_WRITE_FAILED: 'VAULT_WRITE_FAILED',
  MALFORMED_BACKUP: 'MALFORMED_BACKUP',
  UNSUPPORTED_BACKUP_VERSION: 'UNSUPPORTED_BACKUP_VERSION',
} as const;

export type VaultErrorCodeValue = (typeof VaultErrorCode)[keyof typeof VaultErrorCode];

/** A method other than start() was called before start() finished. */
export class VaultNotStartedError extends P2pbError {
  constructor() {
    super(VaultErrorCode.VAULT_NOT_STARTED, 'The vault has not been started');
  }
}

/** initialize() on a vault that already exists (in any version, even an unsupported one). */
export class VaultExistsError extends P2pbError {
  constructor() {
    super(VaultErrorCode.VAULT_EXISTS, 'A vault already exists');
  }
}

/** unlock() before initialize(). */
export class VaultNotInitializedError extends P2pbError {
  constructor() {
    super(VaultErrorCode.VAULT_NOT_INITIALIZED, 'No vault has been created yet');
  }
}

export class VaultLockedError extends P2pbError {
  constructor() {
    super(VaultErrorCode.VAULT_LOCKED, 'The vault is locked');
  }
}

export class WeakPassphraseError extends P2pbError {
  constructor(minLength: number) {
    super(VaultErrorCode.WEAK_PASSPHRASE, `The passphrase must have at least ${minLength} characters`);
  }
}

export class WrongPassphraseError extends P2pbError {
  constructor() {
    super(VaultErrorCode.WRONG_PASSPHRASE, 'Wrong passphrase');
  }
}

export class UnknownIdentityError extends P2pbError {
  constructor(id: string) {
    super(VaultErrorCode.UNKNOWN_IDENTITY, `No identity ${JSON.stringify(id)} in the vault`);
  }
}

/** importSecretKey() of a key the vault already holds. */
export class IdentityExistsError extends P2pbError {
  constructor(id: string) {
    super(VaultErrorCode.IDENTITY_EXISTS, `The vault already holds identity ${id}`);
  }
}

/** A display name that an identity statement cannot carry (see lib/records displayNameProblem). */
export class InvalidDisplayNameError extends P2pbError {
  constructor(problem: string) {
    super(VaultErrorCode.INVALID_DISPLAY_NAME, `Invalid display name: ${problem}`);
  }
}

/** The stored vault was written by a newer version of the extension. It is never overwritten. */
export class UnsupportedVaultVersionError extends P2pbError {
  readonly version: unknown;
  constructor(version: unknown) {
    super(
      VaultErrorCode.UNSUPPORTED_VAULT_VERSION,
      `The vault has format version ${String(version)}, which this version of the extension cannot read`,
    );
    this.version = version;
  }
}

/** What is stored under the vault key is not a vault this code can parse. Never overwritten. */
export class CorruptVaultError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(VaultErrorCode.CORRUPT_VAULT, message, options);
  }
}

/** Writing the vault to storage failed (e.g. storage full). The previous vault is intact. */
export class VaultWriteError extends P2pbError {
  constructor(cause: unknown) {
    super(VaultErrorCode.VAULT_WRITE_FAILED, 'Could not save the vault; nothing was changed', {
      cause,
    });
  }
}

export class MalformedBackupError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(VaultErrorCode.MALFORMED_BACKUP, message, options);
  }
}

export class UnsupportedBackupVersionError extends P2pbError {
  constructor(version: unknown) {
    super(
      VaultErrorCode.UNSUPPORTED_BACKUP_VERSION,
      `The backup has format version ${String(version)}, which this version of the extension cannot read`,
    );
  }
}
