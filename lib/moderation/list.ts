/**
 * Lists on feeds. A list's content is an item feed of its curator (docs/data.md): the feed
 * document's Y.Map "items" holds one entry per key, `items[key] = { ts, key, kind, reason? }`.
 * The entries are signed because every change to the document travels in a signed feed envelope
 * (lib/feeds); there is nothing more to sign here.
 *
 * Reading never throws for what a list holds: bad entries are skipped and reported, a list that
 * is too large or unreadable is refused whole. Writing checks every change before touching the
 * document and throws on bad input.
 */
import * as Y from 'yjs';
import type { P2pbError } from '../util/errors.ts';
import { LIST_ITEMS_MAP, LIST_UPDATE_TARGET_BYTES, MAX_LIST_ENTRIES, MAX_REASON_LENGTH } from './constants.ts';
import { ListTooLargeError, MalformedListEntryError, MalformedListError, UnknownEntryKindError } from './errors.ts';
import { checkKeyText, checkListRef, isKeyText, listIdOf } from './ref.ts';
import type { EntryKind, ListEntry, ListRef, ModerationList } from './types.ts';

/** Errors reported per read at most; `skipped` still counts every bad entry. */
export const MAX_REPORTED_ENTRY_ERRORS = 100;

export interface ListReadResult {
  /** The valid entries (empty when the list was refused). */
  list: ModerationList;
  /** Why entries were skipped (the first MAX_REPORTED_ENTRY_ERRORS): MALFORMED_LIST_ENTRY, UNKNOWN_ENTRY_KIND. */
  errors: P2pbError[];
  /** How many entries were skipped. */
  skipped: number;
  /** Set when the whole list was refused: LIST_TOO_LARGE, MALFORMED_LIST. */
  refused: P2pbError | null;
}

type Problem = { field: string; message: string } | { unknownKind: string };

/** Checks one stored value; returns the entry or what is wrong with it. Never throws. */
function inspect(id: string | undefined, value: unknown): ListEntry | Problem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { field: 'entry', message: 'not an object' };
  const fields = value as Record<string, unknown>;
  if (!isKeyText(fields.key)) return { field: 'key', message: 'not a public key text' };
  if (id !== undefined && fields.key !== id) return { field: 'key', message: 'differs from the entry id (entries are stored under their key)' };
  if (typeof fields.kind !== 'string') return { field: 'kind', message: 'not a string' };
  if (fields.kind !== 'block' && fields.kind !== 'trust') return { unknownKind: fields.kind };
  if (typeof fields.ts !== 'number' || !Number.isFinite(fields.ts) || fields.ts < 0) return { field: 'ts', message: 'not a finite number ≥ 0' };
  if (fields.reason !== undefined && (typeof fields.reason !== 'string' || fields.reason.length > MAX_REASON_LENGTH)) {
    return { field: 'reason', message: `not a string of at most ${MAX_REASON_LENGTH} characters` };
  }
  // The map key when there is one: the same text, and one string fewer to keep per entry.
  const entry: ListEntry = { key: id ?? fields.key, kind: fields.kind, ts: fields.ts };
  if (fields.reason !== undefined) entry.reason = fields.reason;
  return entry;
}

const isProblem = (x: ListEntry | Problem): x is Problem => !('key' in x);

function toError(id: string | undefined, problem: Problem): P2pbError {
  return 'unknownKind' in problem ? new UnknownEntryKindError(id, problem.unknownKind) : new MalformedListEntryError(id, problem.field, problem.message);
}

/**
 * Checks an entry given to an API (the person's own, or one a curator adds).
 * @throws MalformedListEntryError, UnknownEntryKindError
 */
export function checkEntry(value: unknown): ListEntry {
  const result = inspect(undefined, value);
  if (isProblem(result)) throw toError(undefined, result);
  return result;
}

/** An empty list for `ref`. */
export function emptyList(ref: ListRef): ModerationList {
  return { ref, id: listIdOf(ref), entries: new Map(), blocks: 0, trusts: 0 };
}

/**
 * A list built in memory from entries (later entries for one key win). Entries are checked.
 * @throws MalformedListEntryError, UnknownEntryKindError, ListTooLargeError, InvalidListRefError
 */
export function listFromEntries(ref: ListRef, entries: Iterable<ListEntry>): ModerationList {
  const map = new Map<string, ListEntry>();
  for (const entry of entries) {
    map.set(entry.key, checkEntry(entry));
    if (map.size > MAX_LIST_ENTRIES) throw new ListTooLargeError(map.size, MAX_LIST_ENTRIES);
  }
  return withCounts(checkListRef(ref), map);
}

function withCounts(ref: ListRef, entries: Map<string, ListEntry>): ModerationList {
  let blocks = 0;
  for (const entry of entries.values()) if (entry.kind === 'block') blocks++;
  return { ref, id: listIdOf(ref), entries, blocks, trusts: entries.size - blocks };
}

/**
 * Reads the list `ref` from its feed document. Never throws for the document's content: entries
 * that break a rule are skipped and reported (at most MAX_REPORTED_ENTRY_ERRORS errors, all
 * counted in `skipped`); more than MAX_LIST_ENTRIES entries, or an "items" that is not a Y.Map,
 * refuses the whole list. @throws InvalidListRefError for a bad `ref` (the caller's input).
 */
export function readList(doc: Y.Doc, ref: ListRef): ListReadResult {
  const checked = checkListRef(ref);
  const refuse = (error: P2pbError): ListReadResult => ({ list: emptyList(checked), errors: [], skipped: 0, refused: error });
  let items: Y.Map<unknown>;
  try {
    items = doc.getMap(LIST_ITEMS_MAP);
  } catch (cause) {
    return refuse(new MalformedListError(`"${LIST_ITEMS_MAP}" is not a Y.Map`, { cause }));
  }
  // Count first, without looking at values: an oversized list costs no parsing.
  let count = 0;
  for (const _ of items.keys()) {
    if (++count > MAX_LIST_ENTRIES) return refuse(new ListTooLargeError(count, MAX_LIST_ENTRIES));
  }
  const entries = new Map<string, ListEntry>();
  const errors: P2pbError[] = [];
  let skipped = 0;
  for (const [id, value] of items.entries()) {
    const result = inspect(id, value);
    if (isProblem(result)) {
      skipped++;
      if (errors.length < MAX_REPORTED_ENTRY_ERRORS) errors.push(toError(id, result));
      continue;
    }
    entries.set(id, result);
  }
  return { list: withCounts(checked, entries), errors, skipped, refused: null };
}

/** One change to a list: put (add or replace) an entry, or remove a key's entry. */
export type ListChange = { op: 'put'; entry: ListEntry } | { op: 'remove'; key: string };

/** Shorthands for building changes. */
export const putEntry = (key: string, kind: EntryKind, ts: number, reason?: string): ListChange => ({
  op: 'put',
  entry: reason === undefined ? { key, kind, ts } : { key, kind, ts, reason },
});
export const removeEntry = (key: string): ListChange => ({ op: 'remove', key });

/** Checks every change (the entries, the keys). @throws MalformedListEntryError, UnknownEntryKindError, InvalidModerationKeyError */
export function checkChanges(changes: readonly ListChange[]): ListChange[] {
  return changes.map((change) => {
    if (change?.op === 'put') return { op: 'put', entry: checkEntry(change.entry) };
    if (change?.op === 'remove') return { op: 'remove', key: checkKeyText(change.key) };
    throw new MalformedListEntryError(undefined, 'op', 'a change is { op: "put", entry } or { op: "remove", key }');
  });
}

/** Applies already-checked changes to the items map; the caller holds the transaction. */
function applyChecked(doc: Y.Doc, changes: readonly ListChange[]): void {
  const items = doc.getMap(LIST_ITEMS_MAP);
  for (const change of changes) {
    if (change.op === 'remove') {
      items.delete(change.key);
    } else {
      const { key, kind, ts, reason } = change.entry;
      items.set(key, reason === undefined ? { ts, key, kind } : { ts, key, kind, reason });
    }
  }
}

/**
 * Applies `changes` to a list's document in ONE transaction (one envelope when the document is a
 * writable feed's). Keep batches under LIST_UPDATE_TARGET_BYTES (chunkListChanges), or use
 * writeListChanges, which does. Checks every change first: nothing is applied if one is bad.
 */
export function applyListChanges(doc: Y.Doc, changes: readonly ListChange[]): void {
  const checked = checkChanges(changes);
  doc.transact(() => applyChecked(doc, checked));
}

/** Like applyListChanges, and returns the Yjs update (v1) that this one transaction produced (empty when nothing changed). */
export function listUpdate(doc: Y.Doc, changes: readonly ListChange[]): Uint8Array {
  const checked = checkChanges(changes);
  let update: Uint8Array = new Uint8Array(0);
  const capture = (bytes: Uint8Array) => {
    update = bytes;
  };
  doc.on('update', capture);
  try {
    doc.transact(() => applyChecked(doc, checked));
  } finally {
    doc.off('update', capture);
  }
  return update;
}

/**
 * Upper bound of the bytes one change adds to a Yjs update. A put stores the key twice (map key
 * and `key` field) plus the field names, a float64 ts, the kind and the reason (≤ 3 UTF-8 bytes
 * per UTF-16 unit) and Yjs' per-item header; a remove is a few bytes in the delete set.
 */
function estimateBytes(change: ListChange): number {
  return change.op === 'remove' ? 24 : 96 + 2 * change.entry.key.length + 3 * (change.entry.reason?.length ?? 0);
}

/** Cuts changes into batches whose updates stay under `targetBytes` (each batch is one transaction). */
export function chunkListChanges(changes: readonly ListChange[], targetBytes = LIST_UPDATE_TARGET_BYTES): ListChange[][] {
  const batches: ListChange[][] = [];
  let batch: ListChange[] = [];
  let bytes = 0;
  for (const change of changes) {
    const size = estimateBytes(change);
    if (batch.length > 0 && bytes + size > targetBytes) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(change);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** What writeListChanges writes to: a writable Feed (lib/feeds) or anything with its transact(). */
export interface ListWriter {
  transact(fn: (doc: Y.Doc) => void): Promise<void>;
}

/**
 * Writes `changes` to a list feed in as few transactions as fit (each a signed envelope when
 * `target` is a Feed), checking all of them before the first write. Returns how many
 * transactions were made. Rejects with the feed's error (STORAGE_FULL …) like feed.transact.
 * @throws MalformedListEntryError, UnknownEntryKindError, InvalidModerationKeyError
 */
export async function writeListChanges(target: ListWriter, changes: readonly ListChange[]): Promise<number> {
  const batches = chunkListChanges(checkChanges(changes));
  for (const batch of batches) await target.transact((doc) => applyChecked(doc, batch));
  return batches.length;
}
