import { P2pbError } from '../util/errors.ts';

/**
 * Every code lib/moderation reports. Reading a list never throws for what the list holds: bad
 * entries are skipped and reported with these errors (ListReadResult.errors), an oversized or
 * unreadable list is refused whole (ListReadResult.refused). Building changes and parsing local
 * input do throw them. See docs/moderation.md.
 */
export const MODERATION_ERROR_CODES = [
  'MALFORMED_LIST',
  'LIST_TOO_LARGE',
  'MALFORMED_LIST_ENTRY',
  'UNKNOWN_ENTRY_KIND',
  'INVALID_LIST_REF',
  'INVALID_MODERATION_KEY',
  'MALFORMED_MODERATION_STATE',
  'UNSUPPORTED_MODERATION_STATE_VERSION',
  'KEY_BLOCKED',
  'LIST_NOT_FOUND',
] as const;
export type ModerationErrorCode = (typeof MODERATION_ERROR_CODES)[number];

/** The list's document cannot be read as a list at all (its "items" is not a Y.Map). */
export class MalformedListError extends P2pbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_LIST', message, options);
  }
}

/** A list with more than MAX_LIST_ENTRIES entries: refused whole, before any entry is read. */
export class ListTooLargeError extends P2pbError {
  readonly count: number;
  readonly limit: number;

  constructor(count: number, limit: number) {
    super('LIST_TOO_LARGE', `list has more than ${limit} entries (${count} counted)`);
    this.count = count;
    this.limit = limit;
  }
}

/** One entry of a list (or one entry given to an API) breaks a rule; `field` names which. */
export class MalformedListEntryError extends P2pbError {
  /** The entry's id in the list (its Y.Map key), when it came from a list. */
  readonly id: string | undefined;
  readonly field: string;

  constructor(id: string | undefined, field: string, message: string) {
    super('MALFORMED_LIST_ENTRY', id === undefined ? `${field}: ${message}` : `entry ${JSON.stringify(id.slice(0, 64))}: ${field}: ${message}`);
    this.id = id;
    this.field = field;
  }
}

/** An entry whose kind is a string other than "block" or "trust" (perhaps a later version's). */
export class UnknownEntryKindError extends P2pbError {
  readonly id: string | undefined;
  readonly kind: string;

  constructor(id: string | undefined, kind: string) {
    const shown = JSON.stringify(kind.slice(0, 32));
    super('UNKNOWN_ENTRY_KIND', id === undefined ? `unknown entry kind ${shown}` : `entry ${JSON.stringify(id.slice(0, 64))}: unknown entry kind ${shown}`);
    this.id = id;
    this.kind = kind;
  }
}

/** A list reference (`<curator key>/<feed name>`) that is not one. */
export class InvalidListRefError extends P2pbError {
  constructor(message: string) {
    super('INVALID_LIST_REF', message);
  }
}

/** A key given to a moderation API that is not a public key text ("z6Mk…", 48 characters). */
export class InvalidModerationKeyError extends P2pbError {
  constructor(message: string) {
    super('INVALID_MODERATION_KEY', message);
  }
}

/** Stored moderation settings that are not an object of the expected shape. */
export class MalformedModerationStateError extends P2pbError {
  constructor(message: string) {
    super('MALFORMED_MODERATION_STATE', message);
  }
}

/** Stored moderation settings of a version this code does not know (written by a newer one). */
export class UnsupportedModerationStateVersionError extends P2pbError {
  readonly version: unknown;

  constructor(version: unknown) {
    super('UNSUPPORTED_MODERATION_STATE_VERSION', `unsupported moderation settings version ${JSON.stringify(version)}`);
    this.version = version;
  }
}

/**
 * Data of a key the person's moderation blocks: not read for apps, not received from peers, not
 * served. `key` is the blocked public key; the person can punch through for it.
 */
export class KeyBlockedError extends P2pbError {
  readonly key: string;

  constructor(key: string, because: string) {
    super('KEY_BLOCKED', `${key.slice(0, 12)}… is blocked by your moderation (${because})`);
    this.key = key;
  }
}

/** A community list that no reachable peer of any of the person's networks holds. */
export class ListNotFoundError extends P2pbError {
  constructor(id: string, options?: { cause?: unknown }) {
    super('LIST_NOT_FOUND', `no reachable peer holds the list ${id.slice(0, 200)}`, options);
  }
}
