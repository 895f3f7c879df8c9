import { BYTE, KiB, MiB } from '../util/time.ts';
import { SECRET_KEY_LENGTH as ED25519_SECRET_KEY_LENGTH } from '../identity/index.ts';

/** Where the encrypted vault lives in `local` (browser.storage.local). One key, one atomic write. */
export const VAULT_STORAGE_KEY = 'p2pb.vault';
/**
 * Where the raw derived AES key lives in `session` (browser.storage.session: memory only, gone
 * when the browser restarts) so a restarted service worker stays unlocked. base64url string.
 */
export const SESSION_KEY_STORAGE_KEY = 'p2pb.vault.sessionKey';

/** Stored format version this code writes. Older versions migrate on unlock (see migrations.ts). */
export const VAULT_FORMAT_VERSION = 2;
/** Tag bound into the AES-GCM additional data of a stored vault. */
export const VAULT_AAD_TAG = 'p2pb-vault';

/** Key derivation: PBKDF2-HMAC-SHA-256 (OWASP 2023 minimum for SHA-256 is 600,000). */
export const KDF_NAME = 'PBKDF2';
export const KDF_HASH = 'SHA-256';
/** Iterations for every new vault, passphrase change and backup. */
export const KDF_ITERATIONS = 600_000;
/** Refused above this when reading a file: a hostile backup must not hang the background. */
export const MAX_KDF_ITERATIONS = 10_000_000;
export const SALT_LENGTH = 16 * BYTE;

/** Cipher: AES-256-GCM, 96-bit random IV per write, 128-bit tag. */
export const CIPHER_NAME = 'AES-GCM';
export const AES_KEY_LENGTH = 32 * BYTE;
export const IV_LENGTH = 12 * BYTE;
export const GCM_TAG_LENGTH = 16 * BYTE;

/**
 * The plaintext is padded with trailing spaces (still valid JSON) to a multiple of this, so the
 * ciphertext length does not tell how many identities a vault holds or how long their names are.
 */
export const PAYLOAD_PADDING_BLOCK = 4 * KiB;

/** ed25519 secret key (seed) length, as lib/identity defines it. */
export const SECRET_KEY_LENGTH = ED25519_SECRET_KEY_LENGTH;

/** Passphrases shorter than this (in Unicode code points, after NFC) are refused. */
export const MIN_PASSPHRASE_LENGTH = 8;

/** Version 1 (the first prototype): iterations it wrote. Read only, never written. */
export const V1_KDF_ITERATIONS = 310_000;

/** Backup file. */
export const BACKUP_FORMAT = 'p2pb-vault-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** Checked on the text length before parsing. */
export const MAX_BACKUP_SIZE = 16 * MiB;
