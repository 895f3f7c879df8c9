/**
 * The effective view: what one person's moderation says about every key. Layers, each overriding
 * the one before (the person always wins):
 *
 *   1. subscribed lists, combined: a key any list blocks is blocked; else a key any list trusts is
 *      trusted; the trust web (below) adds keys trusted through trusted keys;
 *   2. the person's own entries: "you blocked" / "you trust";
 *   3. the person's punch-throughs: a key they allow whatever the layers above say (a trusted key
 *      stays trusted);
 *   and the person's own identities are always allowed.
 *
 * Trust web: a key whose decision is "trusted" passes trust on through its own published trust
 * entries (its list on OWN_LIST_FEED, or whatever `published` gives), hop by hop up to `trustDepth`
 * (default 2: the keys you and your lists trust, and the keys THEY trust). A key reached this way
 * is trusted unless a list or the person blocks it; it is trust the person did not give
 * themselves, so a list's block beats it (only the person's own trust beats a list). The walk is
 * breadth first, so a key's reason is a shortest path, and visits each key once (cycles end).
 *
 * Everything is compiled once into one Map from key to a small code, so the questions a timeline
 * asks per item (decisionOf, isBlocked, trustScore) are one Map lookup; the reasons are worked
 * out on demand (explain) from the lists themselves.
 */
import { DEFAULT_TRUST_DEPTH, MAX_TRUST_DEPTH, MAX_TRUST_WEB_KEYS, TRUST_SCORE } from './constants.ts';
import { shortKey } from './ref.ts';
import type { Decision, ListEntry, ListRef, ModerationList, PunchThrough, Reason, Verdict } from './types.ts';

/** Codes in the compiled map (absent = neutral); indexes into DECISION and SCORE. */
const Code = {
  BlockedByList: 1,
  BlockedByYou: 2,
  AllowedByPunchThrough: 3,
  Self: 4,
  TrustedByYou: 5,
  TrustedByList: 6,
  TrustedByWeb: 7,
} as const;

const DECISION: readonly Decision[] = ['neutral', 'blocked', 'blocked', 'allowed', 'allowed', 'trusted', 'trusted', 'trusted'];
const SCORE: readonly number[] = [
  TRUST_SCORE.NEUTRAL,
  TRUST_SCORE.BLOCKED,
  TRUST_SCORE.BLOCKED,
  TRUST_SCORE.NEUTRAL,
  TRUST_SCORE.NEUTRAL,
  TRUST_SCORE.DIRECT,
  TRUST_SCORE.INDIRECT,
  TRUST_SCORE.INDIRECT,
];

export interface EffectiveViewInput {
  /** The person's own identities: always allowed (a list that blocks you does not hide you from yourself). */
  self?: Iterable<string>;
  /** The community lists the person subscribes to, in subscription order (read with readList). */
  subscriptions?: readonly ModerationList[];
  /** The person's own block and trust entries (for one key, the last one given wins). */
  own?: Iterable<ListEntry>;
  /** Keys the person lets through. */
  punchThroughs?: Iterable<PunchThrough>;
  /**
   * The trust entries a key has published (its own list), for the trust web: a Map from key to
   * its list, or a function. Only `trust` entries count; a trusted key's blocks do not propagate.
   */
  published?: ReadonlyMap<string, ModerationList> | ((key: string) => ModerationList | undefined);
  /** Hops of trust that count, 1..MAX_TRUST_DEPTH (default DEFAULT_TRUST_DEPTH = 2). */
  trustDepth?: number;
  /** Stop the trust walk after this many keys beyond depth 1 (default MAX_TRUST_WEB_KEYS). */
  maxWebKeys?: number;
}

export interface EffectiveViewStats {
  /** Keys with a decision other than neutral. */
  keys: number;
  blocked: number;
  allowed: number;
  trusted: number;
  /** Keys the trust web reached beyond depth 1 (trusted or, when a list blocks them, not). */
  webKeys: number;
  /** True when the trust walk stopped at maxWebKeys. */
  truncated: boolean;
  trustDepth: number;
}

export class EffectiveView {
  readonly #codes = new Map<string, number>();
  readonly #lists: readonly ModerationList[];
  readonly #own = new Map<string, ListEntry>();
  readonly #punch = new Map<string, PunchThrough>();
  /** Trust web: a key reached beyond depth 1 → the key that trusts it. */
  readonly #webParent = new Map<string, string>();
  readonly #self: Set<string>;
  readonly stats: EffectiveViewStats;

  constructor(input: EffectiveViewInput = {}) {
    const depth = input.trustDepth ?? DEFAULT_TRUST_DEPTH;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_TRUST_DEPTH) throw new RangeError(`trustDepth must be an integer in 1..${MAX_TRUST_DEPTH}`);
    const codes = this.#codes;
    this.#lists = [...(input.subscriptions ?? [])];
    this.#self = new Set(input.self ?? []);
    for (const entry of input.own ?? []) this.#own.set(entry.key, entry);
    for (const punch of input.punchThroughs ?? []) this.#punch.set(punch.key, punch);

    // Layer 1: the lists combined. A block anywhere beats a trust anywhere.
    for (const list of this.#lists) {
      for (const entry of list.entries.values()) {
        if (entry.kind === 'block') codes.set(entry.key, Code.BlockedByList);
        else if (codes.get(entry.key) !== Code.BlockedByList) codes.set(entry.key, Code.TrustedByList);
      }
    }
    // Layer 2: the person's own entries.
    for (const entry of this.#own.values()) codes.set(entry.key, entry.kind === 'block' ? Code.BlockedByYou : Code.TrustedByYou);

    // The trust web, breadth first from the keys trusted at depth 1 (yours first, then the lists').
    const published = input.published;
    const publishedOf = typeof published === 'function' ? published : (key: string) => published?.get(key);
    const maxWebKeys = input.maxWebKeys ?? MAX_TRUST_WEB_KEYS;
    let truncated = false;
    let frontier: string[] = [];
    if (depth > 1 && published !== undefined) {
      for (const [key, code] of codes) if (code === Code.TrustedByYou && !this.#self.has(key)) frontier.push(key);
      for (const [key, code] of codes) if (code === Code.TrustedByList && !this.#self.has(key)) frontier.push(key);
    }
    walk: for (let hop = 1; hop < depth && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const truster of frontier) {
        const list = publishedOf(truster);
        if (list === undefined) continue;
        for (const entry of list.entries.values()) {
          if (entry.kind !== 'trust') continue;
          const key = entry.key;
          if (this.#self.has(key) || this.#webParent.has(key)) continue;
          const code = codes.get(key);
          // Trusted at depth 1 already, or blocked by the person: nothing to add.
          if (code !== undefined && code !== Code.BlockedByList) continue;
          if (this.#webParent.size >= maxWebKeys) {
            truncated = true;
            break walk;
          }
          // Reached. A list-blocked key is remembered too (its verdict shows the path) but passes nothing on.
          this.#webParent.set(key, truster);
          if (code === undefined) {
            codes.set(key, Code.TrustedByWeb);
            next.push(key);
          }
        }
      }
      frontier = next;
    }

    // Layer 3: punch-throughs (trusted keys stay trusted), then the person's own identities.
    for (const key of this.#punch.keys()) {
      const code = codes.get(key);
      if (code === undefined || code === Code.BlockedByList || code === Code.BlockedByYou) codes.set(key, Code.AllowedByPunchThrough);
    }
    for (const key of this.#self) codes.set(key, Code.Self);

    let blocked = 0;
    let allowed = 0;
    for (const code of codes.values()) {
      if (code <= Code.BlockedByYou) blocked++;
      else if (code <= Code.Self) allowed++;
    }
    this.stats = { keys: codes.size, blocked, allowed, trusted: codes.size - blocked - allowed, webKeys: this.#webParent.size, truncated, trustDepth: depth };
  }

  /** The decision for `key` (one Map lookup). */
  decisionOf(key: string): Decision {
    return DECISION[this.#codes.get(key) ?? 0]!;
  }

  /** True when items by `key` are not shown (and its feeds are not pushed, cached or re-served). */
  isBlocked(key: string): boolean {
    const code = this.#codes.get(key);
    return code === Code.BlockedByList || code === Code.BlockedByYou;
  }

  /** TRUST_SCORE: 2 you trust the key, 1 trusted through a list or the web, 0 neutral or allowed, −1 blocked. */
  trustScore(key: string): number {
    return SCORE[this.#codes.get(key) ?? 0]!;
  }

  /** The decision for `key` with every reason that applies and the one that decided. */
  explain(key: string): Verdict {
    const code = this.#codes.get(key) ?? 0;
    const reasons: Reason[] = [];
    let firstListBlock: Reason | null = null;
    let firstListTrust: Reason | null = null;
    for (const list of this.#lists) {
      const entry = list.entries.get(key);
      if (entry === undefined) continue;
      const reason = listReason(entry, list.ref);
      reasons.push(reason);
      if (entry.kind === 'block') firstListBlock ??= reason;
      else firstListTrust ??= reason;
    }
    let web: Reason | null = null;
    if (this.#webParent.has(key)) {
      const path = [key];
      for (let at = this.#webParent.get(key); at !== undefined; at = this.#webParent.get(at)) path.unshift(at);
      web = webReason(path, this.#rootReason(path[0]!));
      reasons.push(web);
    }
    const own = this.#own.get(key);
    const ownReason = own === undefined ? null : ownEntryReason(own);
    if (ownReason !== null) reasons.push(ownReason);
    const punch = this.#punch.get(key);
    const punchReason: Reason | null = punch === undefined ? null : make({ kind: 'punch-through' }, punch.reason);
    if (punchReason !== null) reasons.push(punchReason);
    const selfReason: Reason | null = this.#self.has(key) ? make({ kind: 'self' }) : null;
    if (selfReason !== null) reasons.push(selfReason);

    const because = [
      null,
      firstListBlock,
      ownReason,
      punchReason,
      selfReason,
      ownReason,
      firstListTrust,
      web,
    ][code] ?? null;
    return { key, decision: DECISION[code]!, because, reasons };
  }

  /** Why the first key of a trust path is trusted: your trust, else the first list that trusts it. */
  #rootReason(key: string): Extract<Reason, { kind: 'own-trust' | 'list-trust' }> {
    const own = this.#own.get(key);
    if (own?.kind === 'trust') return ownEntryReason(own) as Extract<Reason, { kind: 'own-trust' }>;
    for (const list of this.#lists) {
      const entry = list.entries.get(key);
      if (entry?.kind === 'trust') return listReason(entry, list.ref) as Extract<Reason, { kind: 'list-trust' }>;
    }
    throw new Error(`trust web root ${key} is not trusted`); // unreachable: roots are trusted at depth 1
  }

  /** Every key with a decision other than neutral, and its decision. */
  *decisions(): IterableIterator<[string, Decision]> {
    for (const [key, code] of this.#codes) yield [key, DECISION[code]!];
  }
}

/** Compiles the effective view of one person (see the top of this file for the rules). */
export function createEffectiveView(input: EffectiveViewInput = {}): EffectiveView {
  return new EffectiveView(input);
}

type Untexted<R> = R extends Reason ? Omit<R, 'text'> : never;

/** Adds the entry's note and the default sentence. */
function make<R extends Reason>(reason: Untexted<R>, note?: string): R {
  const full = { ...reason, text: '' } as unknown as R;
  if (note !== undefined) (full as { note?: string }).note = note;
  full.text = describeReason(full);
  return full;
}

function listReason(entry: ListEntry, list: ListRef): Reason {
  return entry.kind === 'block' ? make({ kind: 'list-block', list }, entry.reason) : make({ kind: 'list-trust', list }, entry.reason);
}

function ownEntryReason(entry: ListEntry): Reason {
  return entry.kind === 'block' ? make({ kind: 'own-block' }, entry.reason) : make({ kind: 'own-trust' }, entry.reason);
}

function webReason(path: string[], root: Extract<Reason, { kind: 'own-trust' | 'list-trust' }>): Reason {
  return make({ kind: 'trust-web', path, root });
}

/**
 * A sentence for `reason`, naming keys with `nameOf` (default: shortened keys). For the web:
 * "trusted because X trusts Y (you trust X)"; longer paths list the earlier hops too:
 * "trusted because Y trusts Z (X trusts Y; you trust X)".
 */
export function describeReason(reason: Reason, nameOf: (key: string) => string = shortKey): string {
  const listName = (list: ListRef) => `list ${list.feed} of curator ${nameOf(list.curator)}`;
  switch (reason.kind) {
    case 'list-block':
      return `blocked by ${listName(reason.list)}`;
    case 'list-trust':
      return `trusted by ${listName(reason.list)}`;
    case 'own-block':
      return 'you blocked';
    case 'own-trust':
      return 'you trust';
    case 'punch-through':
      return 'you allowed it (punch-through)';
    case 'self':
      return 'this is you';
    case 'trust-web': {
      const { path, root } = reason;
      const hops: string[] = [];
      for (let i = path.length - 2; i >= 0; i--) hops.push(`${nameOf(path[i]!)} trusts ${nameOf(path[i + 1]!)}`);
      const rootText = root.kind === 'own-trust' ? `you trust ${nameOf(path[0]!)}` : `${listName(root.list)} trusts ${nameOf(path[0]!)}`;
      return `trusted because ${hops[0]} (${[...hops.slice(1), rootText].join('; ')})`;
    }
  }
}
