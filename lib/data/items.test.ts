import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { expectCode } from '../util/test-errors.ts';
import { CHRONOLOGICAL, checkSort, itemsOf, sortItems, type Item } from './items.ts';

const A = 'z6MkA';
const B = 'z6MkB';
const item = (author: string, id: string, ts: number, extra: Record<string, unknown> = {}): Item => ({ id, author, feed: `${author}/posts`, ts, ...extra });

describe('items and sorting', () => {
  const items = [
    item(A, 'a1', 100),
    item(B, 'b1', 200),
    item(A, 'a2', 300, { replyTo: `${B}/b1` }),
    item(B, 'b2', 400),
    item(A, 'a3', 150, { replyTo: `${B}/b1` }),
  ];

  it('chronological: newest first', () => {
    expect(sortItems(items, CHRONOLOGICAL).map((i) => i.id)).toEqual(['b2', 'a2', 'b1', 'a3', 'a1']);
  });

  it('conversations first: items with the most replies, then newest thread, then newest', () => {
    const conversations = checkSort({ id: 'conversations', keys: [{ field: '$replies', order: 'desc' }, { field: '$thread', order: 'desc' }] });
    expect(sortItems(items, conversations).map((i) => i.id)).toEqual(['b1', 'b2', 'a2', 'a3', 'a1']);
  });

  it('top-level posts before replies', () => {
    const posts = checkSort({ id: 'posts', keys: [{ field: '$isReply', order: 'asc' }, { field: 'ts', order: 'desc' }] });
    expect(sortItems(items, posts).map((i) => i.id)).toEqual(['b2', 'b1', 'a1', 'a2', 'a3']);
  });

  it('reads items from a feed document, skipping malformed entries', () => {
    const doc = new Y.Doc();
    const map = doc.getMap('items');
    map.set('p1', { ts: 5, text: 'hi' });
    map.set('bad1', 'not an object');
    map.set('bad2', { text: 'no ts' });
    expect(itemsOf(doc, A, `${A}/posts`)).toEqual([{ id: 'p1', author: A, feed: `${A}/posts`, ts: 5, text: 'hi' }]);
  });

  it('refuses malformed sorts by name', async () => {
    await expectCode(() => checkSort({ id: 'x', keys: [] }), 'INVALID_SORT');
    await expectCode(() => checkSort({ id: 'x', keys: [{ field: '__proto__', order: 'desc' }] }), 'INVALID_SORT');
    await expectCode(() => checkSort({ id: 'x', keys: [{ field: 'ts', order: 'sideways' }] }), 'INVALID_SORT');
    await expectCode(() => checkSort(null), 'INVALID_SORT');
  });
  it('$trust sorts by the trust the person gives each author (0 when nobody says)', () => {
    const items: Item[] = [
      { id: 'n', author: 'neutral', feed: 'neutral/posts', ts: 30 },
      { id: 't', author: 'trusted', feed: 'trusted/posts', ts: 10 },
      { id: 'w', author: 'web', feed: 'web/posts', ts: 20 },
    ];
    const trustOf = (author: string) => ({ trusted: 2, web: 1 })[author] ?? 0;
    const spec = checkSort({ id: 'trusted', keys: [{ field: '$trust', order: 'desc' }, { field: 'ts', order: 'desc' }] });
    expect(sortItems(items, spec, { trustOf }).map((i) => i.id)).toEqual(['t', 'w', 'n']);
    expect(sortItems(items, spec).map((i) => i.id)).toEqual(['n', 'w', 't']);
  });
});
