/**
 * The person's moderation settings as stored on their device (the engine keeps them in its
 * key-value store): own entries, punch-throughs, subscriptions and the trust depth. Versioned,
 * with a migration step per older version (none yet), like every stored schema. Pure functions:
 * each edit returns a new state.
 *
 * Own entries are private here; publishing them (OWN_LIST_FEED, or a community list) is writing
 * them to a feed with writeListChanges, a separate choice of the person.
 */
import type { P2pbError } from '../util/errors.ts';
import { DEFAULT_TRUST_DEPTH, MAX_LIST_ENTRIES, MAX_PUNCH_THROUGHS, MAX_REASON_LENGTH, MAX_SUBSCRIPTIONS, MAX_TRUST_DEPTH, MODERATION_STATE_VERSION } from './constants.ts';
import {
  InvalidListRefError,
  ListTooLargeError,
  MalformedListEntryError,
  MalformedModerationStateError,
  UnsupportedModerationStateVersionError,
} from './errors.ts';
import { checkEntry } from './list.ts';
import { checkKeyText, checkListRef, listIdOf } from './ref.ts';
import type { ListEntry, ListRef, ModerationList, PunchThrough } from './types.ts';
import type { EffectiveViewInput } from './view.ts';

export interface Subscription {
  list: ListRef;
  /** When the person subscribed (ms). */
  ts: number;
}

export interface ModerationState {
  version: typeof MODERATION_STATE_VERSION;
  own: ListEntry[];
  punchThroughs: PunchThrough[];
  subscriptions: Subscription[];
  trustDepth: number;
}

export function emptyModerationState(): ModerationState {
  return { version: MODERATION_STATE_VERSION, own: [], punchThroughs: [], subscriptions: [], trustDepth: DEFAULT_TRUST_DEPTH };
}

/** Steps from each older stored version to the next (none yet: version 1 is the first). */
const MIGRATIONS: Record<number, (raw: Record<string, unknown>) => Record<string, unknown>> = {};

/** @throws MalformedListEntryError */
export function checkPunchThrough(value: unknown): PunchThrough {
  const p = value as PunchThrough;
  if (typeof p !== 'object' || p === null) throw new MalformedListEntryError(undefined, 'entry', 'a punch-through is { key, ts, reason? }');
  const key = (() => {
    try {
      return checkKeyText(p.key);
    } catch {
      throw new MalformedListEntryError(undefined, 'key', 'not a public key text');
    }
  })();
  if (typeof p.ts !== 'number' || !Number.isFinite(p.ts) || p.ts < 0) throw new MalformedListEntryError(undefined, 'ts', 'not a finite number ≥ 0');
  if (p.reason !== undefined && (typeof p.reason !== 'string' || p.reason.length > MAX_REASON_LENGTH)) {
    throw new MalformedListEntryError(undefined, 'reason', `not a string of at most ${MAX_REASON_LENGTH} characters`);
  }
  return p.reason === undefined ? { key, ts: p.ts } : { key, ts: p.ts, reason: p.reason };
}

/**
 * Reads stored settings: nothing stored gives the empty state; entries, punch-throughs and
 * subscriptions that break a rule are dropped and reported in `errors` (the rest is kept).
 * @throws MalformedModerationStateError (not an object), UnsupportedModerationStateVersionError
 * (written by a newer version: refusing beats silently losing what it holds)
 */
export function parseModerationState(raw: unknown): { state: ModerationState; errors: P2pbError[] } {
  if (raw === undefined || raw === null) return { state: emptyModerationState(), errors: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new MalformedModerationStateError('moderation settings are an object');
  let record = raw as Record<string, unknown>;
  if (typeof record.version !== 'number' || !Number.isInteger(record.version) || record.version < 1) {
    throw new MalformedModerationStateError('moderation settings carry an integer version');
  }
  if (record.version > MODERATION_STATE_VERSION) throw new UnsupportedModerationStateVersionError(record.version);
  for (let v = record.version; v < MODERATION_STATE_VERSION; v++) record = MIGRATIONS[v]!(record);

  const errors: P2pbError[] = [];
  const list = (field: string): unknown[] => {
    const value = record[field];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new MalformedModerationStateError(`${field} is an array`);
    return value;
  };
  const keep = <T>(values: unknown[], check: (value: unknown) => T, limit: number, keyOf: (t: T) => string): T[] => {
    const byKey = new Map<string, T>();
    for (const value of values) {
      try {
        const checked = check(value);
        byKey.set(keyOf(checked), checked);
      } catch (error) {
        errors.push(error as P2pbError);
      }
    }
    if (byKey.size > limit) throw new MalformedModerationStateError(`more than ${limit} entries`);
    return [...byKey.values()];
  };
  const state: ModerationState = {
    version: MODERATION_STATE_VERSION,
    own: keep(list('own'), checkEntry, MAX_LIST_ENTRIES, (e) => e.key),
    punchThroughs: keep(list('punchThroughs'), checkPunchThrough, MAX_PUNCH_THROUGHS, (p) => p.key),
    subscriptions: keep(list('subscriptions'), checkSubscription, MAX_SUBSCRIPTIONS, (s) => listIdOf(s.list)),
    trustDepth: DEFAULT_TRUST_DEPTH,
  };
  const depth = record.trustDepth;
  if (typeof depth === 'number' && Number.isInteger(depth) && depth >= 1 && depth <= MAX_TRUST_DEPTH) state.trustDepth = depth;
  else if (depth !== undefined) errors.push(new MalformedModerationStateError(`trustDepth must be an integer in 1..${MAX_TRUST_DEPTH}; using ${DEFAULT_TRUST_DEPTH}`));
  return { state, errors };
}

function checkSubscription(value: unknown): Subscription {
  const s = value as Subscription;
  if (typeof s !== 'object' || s === null) throw new InvalidListRefError('a subscription is { list, ts }');
  const list = checkListRef(s.list);
  if (typeof s.ts !== 'number' || !Number.isFinite(s.ts) || s.ts < 0) throw new InvalidListRefError('a subscription has a ts ≥ 0');
  return { list, ts: s.ts };
}

/** Adds or replaces the person's own entry for its key. @throws MalformedListEntryError, UnknownEntryKindError, ListTooLargeError */
export function setOwnEntry(state: ModerationState, entry: ListEntry): ModerationState {
  const checked = checkEntry(entry);
  const own = state.own.filter((e) => e.key !== checked.key);
  if (own.length >= MAX_LIST_ENTRIES) throw new ListTooLargeError(own.length + 1, MAX_LIST_ENTRIES);
  return { ...state, own: [...own, checked] };
}

export function removeOwnEntry(state: ModerationState, key: string): ModerationState {
  return { ...state, own: state.own.filter((e) => e.key !== key) };
}

/** Lets `punch.key` through whatever the lists say. @throws MalformedListEntryError, ListTooLargeError */
export function addPunchThrough(state: ModerationState, punch: PunchThrough): ModerationState {
  const checked = checkPunchThrough(punch);
  const punchThroughs = state.punchThroughs.filter((p) => p.key !== checked.key);
  if (punchThroughs.length >= MAX_PUNCH_THROUGHS) throw new ListTooLargeError(punchThroughs.length + 1, MAX_PUNCH_THROUGHS);
  return { ...state, punchThroughs: [...punchThroughs, checked] };
}

export function removePunchThrough(state: ModerationState, key: string): ModerationState {
  return { ...state, punchThroughs: state.punchThroughs.filter((p) => p.key !== key) };
}

/** Subscribes to a list (again: keeps the first subscription time). @throws InvalidListRefError, ListTooLargeError */
export function subscribe(state: ModerationState, list: ListRef, ts: number): ModerationState {
  const checked = checkSubscription({ list, ts });
  const id = listIdOf(checked.list);
  if (state.subscriptions.some((s) => listIdOf(s.list) === id)) return state;
  if (state.subscriptions.length >= MAX_SUBSCRIPTIONS) throw new ListTooLargeError(state.subscriptions.length + 1, MAX_SUBSCRIPTIONS);
  return { ...state, subscriptions: [...state.subscriptions, checked] };
}

export function unsubscribe(state: ModerationState, list: ListRef): ModerationState {
  const id = listIdOf(list);
  return { ...state, subscriptions: state.subscriptions.filter((s) => listIdOf(s.list) !== id) };
}

/**
 * The input of createEffectiveView for these settings: `lists` gives the subscribed lists as read
 * from their feeds (by list id; a list not read yet counts as empty until it is).
 */
export function viewInputOf(
  state: ModerationState,
  lists: ReadonlyMap<string, ModerationList>,
  extra: Pick<EffectiveViewInput, 'self' | 'published' | 'maxWebKeys'> = {},
): EffectiveViewInput {
  const subscriptions: ModerationList[] = [];
  for (const s of state.subscriptions) {
    const list = lists.get(listIdOf(s.list));
    if (list !== undefined) subscriptions.push(list);
  }
  return { ...extra, subscriptions, own: state.own, punchThroughs: state.punchThroughs, trustDepth: state.trustDepth };
}
