/** Data types of lib/moderation (docs/moderation.md). Keys are public key texts ("z6Mk…"). */

export const ENTRY_KINDS = ['block', 'trust'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/**
 * One entry of a list, as stored in the list feed's Y.Map "items" under its own key:
 * `items[key] = { ts, key, kind, reason? }`. A person's own entries have the same shape.
 */
export interface ListEntry {
  /** The public key text this entry is about; equal to its Y.Map key. */
  key: string;
  kind: EntryKind;
  /** When its author made it (ms since the epoch, the author's clock; informative). */
  ts: number;
  /** Why, in the author's words (≤ MAX_REASON_LENGTH characters). */
  reason?: string;
}

/** A key the person lets through whatever any list or their own entries say. */
export interface PunchThrough {
  key: string;
  ts: number;
  reason?: string;
}

/** A list is a feed: the curator's key and the feed name. Its id is `<curator>/<feed>`, a feed id. */
export interface ListRef {
  curator: string;
  feed: string;
}

/** A list as read from its feed document (or built in memory): valid entries by key. */
export interface ModerationList {
  ref: ListRef;
  /** `<curator>/<feed>`. */
  id: string;
  entries: ReadonlyMap<string, ListEntry>;
  /** How many entries are blocks and trusts. */
  blocks: number;
  trusts: number;
}

/** What the effective view says about a key. */
export type Decision = 'blocked' | 'allowed' | 'trusted' | 'neutral';

/**
 * Why a key has its decision. A verdict lists every reason that applies, in the order the layers
 * are combined (subscribed lists, trust web, own entries, punch-through, self); `because` is the
 * one that decided. `note` is the entry's own reason, as its author wrote it. `text` is a
 * sentence for people, with keys shortened (describeReason renders one with names).
 */
export type Reason =
  | { kind: 'list-block'; list: ListRef; note?: string; text: string }
  | { kind: 'list-trust'; list: ListRef; note?: string; text: string }
  | {
      kind: 'trust-web';
      /** From a key trusted at depth 1 to this key: path[i] trusts path[i + 1]. */
      path: string[];
      /** Why path[0] is trusted: the person's own trust, or a subscribed list's. */
      root: Extract<Reason, { kind: 'own-trust' | 'list-trust' }>;
      text: string;
    }
  | { kind: 'own-block'; note?: string; text: string }
  | { kind: 'own-trust'; note?: string; text: string }
  | { kind: 'punch-through'; note?: string; text: string }
  | { kind: 'self'; text: string };

export type ReasonKind = Reason['kind'];

export interface Verdict {
  key: string;
  decision: Decision;
  /** The reason that decided (null when neutral). */
  because: Reason | null;
  /** Every reason that applies, overridden ones included, in layer order. */
  reasons: Reason[];
}
