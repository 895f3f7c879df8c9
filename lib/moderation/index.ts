/**
 * lib/moderation — block lists and trust webs by public key, beneath every app. A list is an item
 * feed of its curator (one entry per key, signed by the feed's envelopes); a person's effective
 * view combines their subscribed lists, then their own entries, then their punch-throughs, so the
 * person always wins; a trust web extends trust through trusted keys up to a depth. Rules, format,
 * limits and figures: docs/moderation.md.
 */
export {
  DEFAULT_TRUST_DEPTH,
  LIST_FEED_PREFIX,
  LIST_ITEMS_MAP,
  LIST_UPDATE_TARGET_BYTES,
  MAX_LIST_ENTRIES,
  MAX_PUNCH_THROUGHS,
  MAX_REASON_LENGTH,
  MAX_SUBSCRIPTIONS,
  MAX_TRUST_DEPTH,
  MAX_TRUST_WEB_KEYS,
  MODERATION_STATE_VERSION,
  OWN_LIST_FEED,
  TRUST_SCORE,
} from './constants.ts';
export {
  MODERATION_ERROR_CODES,
  InvalidListRefError,
  InvalidModerationKeyError,
  KeyBlockedError,
  ListNotFoundError,
  ListTooLargeError,
  MalformedListEntryError,
  MalformedListError,
  MalformedModerationStateError,
  UnknownEntryKindError,
  UnsupportedModerationStateVersionError,
} from './errors.ts';
export type { ModerationErrorCode } from './errors.ts';
export { ENTRY_KINDS } from './types.ts';
export type { Decision, EntryKind, ListEntry, ListRef, ModerationList, PunchThrough, Reason, ReasonKind, Verdict } from './types.ts';
export { checkKeyText, checkListRef, isKeyText, listIdOf, parseListId, shortKey } from './ref.ts';
export {
  MAX_REPORTED_ENTRY_ERRORS,
  applyListChanges,
  checkChanges,
  checkEntry,
  chunkListChanges,
  emptyList,
  listFromEntries,
  listUpdate,
  putEntry,
  readList,
  removeEntry,
  writeListChanges,
} from './list.ts';
export type { ListChange, ListReadResult, ListWriter } from './list.ts';
export { EffectiveView, createEffectiveView, describeReason } from './view.ts';
export type { EffectiveViewInput, EffectiveViewStats } from './view.ts';
export { filterItems, trustScoreOf } from './filter.ts';
export type { FilterResult, HiddenItem } from './filter.ts';
export {
  addPunchThrough,
  checkPunchThrough,
  emptyModerationState,
  parseModerationState,
  removeOwnEntry,
  removePunchThrough,
  setOwnEntry,
  subscribe,
  unsubscribe,
  viewInputOf,
} from './state.ts';
export type { ModerationState, Subscription } from './state.ts';
