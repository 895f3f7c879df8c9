import { KiB } from '../util/time.ts';

/** The Y.Map of a list's feed document that holds its entries (the item-feed map, docs/data.md). */
export const LIST_ITEMS_MAP = 'items';

/** Feed names of moderation lists start with this (a convention, not a rule of lib/feeds). */
export const LIST_FEED_PREFIX = 'moderation/';
/** The feed where a person publishes their own entries (their block and trust entries). */
export const OWN_LIST_FEED = 'moderation/own';

/** Most entries a list may hold (valid or not); a larger list is refused whole: LIST_TOO_LARGE. */
export const MAX_LIST_ENTRIES = 200_000;
/** Longest `reason` of an entry or a punch-through, in UTF-16 code units (JS string length). */
export const MAX_REASON_LENGTH = 500;

/**
 * Target size of one Yjs update written by writeListChanges: changes are cut into transactions of
 * at most this many estimated bytes, well under lib/feeds' MAX_UPDATE_BYTES (1 MiB − 320 bytes),
 * since one transaction is one envelope and a larger one could never be published.
 */
export const LIST_UPDATE_TARGET_BYTES = 256 * KiB;

/** How many hops of trust count (1: only the person's and their lists' own trust entries). */
export const DEFAULT_TRUST_DEPTH = 2;
export const MAX_TRUST_DEPTH = 4;
/** Keys the trust web reaches at most beyond depth 1; past it, the walk stops (view.stats.truncated). */
export const MAX_TRUST_WEB_KEYS = 200_000;

/** What the trust score hook returns (a sort can put trusted authors first). */
export const TRUST_SCORE = {
  /** The person trusts this key themselves. */
  DIRECT: 2,
  /** Trusted through a subscribed list or the trust web. */
  INDIRECT: 1,
  /** No opinion, or allowed by a punch-through. */
  NEUTRAL: 0,
  /** Blocked (a filtered timeline never shows these). */
  BLOCKED: -1,
} as const;

/** Version of the stored moderation settings (own entries, punch-throughs, subscriptions). */
export const MODERATION_STATE_VERSION = 1;
/** Subscribed lists at most. */
export const MAX_SUBSCRIPTIONS = 256;
/** Punch-throughs at most (each is one key). */
export const MAX_PUNCH_THROUGHS = MAX_LIST_ENTRIES;
