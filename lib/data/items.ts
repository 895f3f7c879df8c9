/**
 * The data format apps share on feeds (docs/data.md): a feed used as a list of items is a Yjs
 * document whose Y.Map "items" maps an item id to a plain JSON object with at least `ts` (the
 * author's ms timestamp). Apps add their own fields (text, replyTo, repostOf…). Swapping an
 * app's UI keeps every item because the items live in the feed, not in the UI.
 *
 * Sorting functions are declarative (data, not code), so the engine can run them beneath every
 * app, the person can switch them, and they can later weigh trust (moderation): a sort is a list
 * of keys, each a field of the item or a derived value, with a direction.
 */
import * as Y from 'yjs';
import { P2pbError } from '../util/errors.ts';

export const ITEMS_MAP = 'items';
/** Items returned by one query at most. */
export const MAX_QUERY_ITEMS = 1000;
/** Keys in one sort at most. */
export const MAX_SORT_KEYS = 4;

export interface Item {
  /** The item's id within its feed (the Y.Map key). */
  id: string;
  /** The author's public key text. */
  author: string;
  /** The feed it came from. */
  feed: string;
  /** The author's timestamp (ms). */
  ts: number;
  [field: string]: unknown;
}

/**
 * Derived values a sort may use besides the item's own fields:
 *  - `$replies`: how many items (in the query) have `replyTo` equal to this item's `author/id`;
 *  - `$thread`: the latest `ts` in this item's thread (the item and its direct replies);
 *  - `$isReply`: 1 when the item has a `replyTo`, else 0;
 *  - `$trust`: the person's trust in the author (lib/moderation TRUST_SCORE: 2 you trust them,
 *    1 trusted through a list or the trust web, 0 neutral); `desc` puts trusted authors first.
 */
export type DerivedField = '$replies' | '$thread' | '$isReply' | '$trust';

export interface SortKey {
  field: string;
  order: 'asc' | 'desc';
}

export interface SortSpec {
  id: string;
  keys: SortKey[];
}

export class InvalidSortError extends P2pbError {
  constructor(message: string) {
    super('INVALID_SORT', message);
  }
}

const FIELD = /^(\$replies|\$thread|\$isReply|\$trust|[a-zA-Z][a-zA-Z0-9_]{0,31})$/;

/** Checks a sort spec from a page. @throws InvalidSortError */
export function checkSort(value: unknown): SortSpec {
  const spec = value as SortSpec;
  if (typeof spec !== 'object' || spec === null || typeof spec.id !== 'string' || spec.id.length === 0 || spec.id.length > 64) {
    throw new InvalidSortError('a sort is { id, keys: [{ field, order }] }');
  }
  if (!Array.isArray(spec.keys) || spec.keys.length === 0 || spec.keys.length > MAX_SORT_KEYS) {
    throw new InvalidSortError(`a sort has 1..${MAX_SORT_KEYS} keys`);
  }
  return {
    id: spec.id,
    keys: spec.keys.map((key, i) => {
      if (typeof key?.field !== 'string' || !FIELD.test(key.field)) throw new InvalidSortError(`keys[${i}].field: a field name or $replies, $thread, $isReply, $trust`);
      if (key.order !== 'asc' && key.order !== 'desc') throw new InvalidSortError(`keys[${i}].order: asc or desc`);
      return { field: key.field, order: key.order };
    }),
  };
}

/** Newest first: the usual timeline. */
export const CHRONOLOGICAL: SortSpec = { id: 'chronological', keys: [{ field: 'ts', order: 'desc' }] };

/** The items of one feed document (entries that are not objects with a numeric ts are skipped). */
export function itemsOf(doc: Y.Doc, author: string, feed: string): Item[] {
  const out: Item[] = [];
  for (const [id, value] of doc.getMap(ITEMS_MAP).entries()) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const fields = value as Record<string, unknown>;
    if (typeof fields.ts !== 'number' || !Number.isFinite(fields.ts)) continue;
    out.push({ ...fields, id, author, feed, ts: fields.ts });
  }
  return out;
}

/** Orders `items` by `sort` (ties: newer first, then author and id, so the order is total). */
export function sortItems(items: readonly Item[], sort: SortSpec, context: { trustOf?: (author: string) => number } = {}): Item[] {
  const ref = (item: Item) => `${item.author}/${item.id}`;
  const replies = new Map<string, number>();
  const thread = new Map<string, number>();
  for (const item of items) {
    if (typeof item.replyTo !== 'string') continue;
    replies.set(item.replyTo, (replies.get(item.replyTo) ?? 0) + 1);
    thread.set(item.replyTo, Math.max(thread.get(item.replyTo) ?? 0, item.ts));
  }
  const value = (item: Item, field: string): number | string => {
    switch (field) {
      case '$replies':
        return replies.get(ref(item)) ?? 0;
      case '$thread':
        return Math.max(item.ts, thread.get(ref(item)) ?? 0);
      case '$isReply':
        return typeof item.replyTo === 'string' ? 1 : 0;
      case '$trust':
        return context.trustOf?.(item.author) ?? 0;
      default: {
        const v = item[field];
        return typeof v === 'number' || typeof v === 'string' ? v : '';
      }
    }
  };
  const compare = (a: Item, b: Item): number => {
    for (const key of sort.keys) {
      const x = value(a, key.field);
      const y = value(b, key.field);
      if (x === y) continue;
      const less = typeof x === typeof y ? x < y : typeof x === 'number';
      return (less ? -1 : 1) * (key.order === 'asc' ? 1 : -1);
    }
    return b.ts - a.ts || (a.author < b.author ? -1 : a.author > b.author ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
  return [...items].sort(compare);
}
