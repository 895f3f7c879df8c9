import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ITEMS_MAP, itemsOf } from '../data/items.ts';
import { MAX_UPDATE_BYTES } from '../feeds/index.ts';
import { expectCode } from '../util/test-errors.ts';
import { LIST_ITEMS_MAP, LIST_UPDATE_TARGET_BYTES, MAX_LIST_ENTRIES, MAX_REASON_LENGTH } from './constants.ts';
import {
  MAX_REPORTED_ENTRY_ERRORS,
  applyListChanges,
  chunkListChanges,
  listFromEntries,
  listUpdate,
  putEntry,
  readList,
  removeEntry,
  writeListChanges,
} from './list.ts';
import type { ListChange } from './list.ts';
import { parseListId } from './ref.ts';
import { CURATOR_1, docWriter, key, nthKey } from './test-support.ts';

const REF = { curator: CURATOR_1, feed: 'moderation/lists/spam' };
const [M, N, P] = [key('Mark'), key('Niaj'), key('Peggy')];

describe('lists on item feeds', () => {
  it('round-trips entries through a Yjs document, one item per key', async () => {
    const doc = new Y.Doc();
    const writer = docWriter(doc);
    expect(await writeListChanges(writer, [putEntry(M, 'block', 10, 'spam'), putEntry(N, 'trust', 11), putEntry(P, 'block', 12)])).toBe(1);
    expect(writer.transactions).toBe(1);
    await writeListChanges(writer, [removeEntry(P), putEntry(N, 'block', 13, 'changed my mind')]);
    expect(doc.getMap(LIST_ITEMS_MAP).toJSON()).toEqual({
      [M]: { ts: 10, key: M, kind: 'block', reason: 'spam' },
      [N]: { ts: 13, key: N, kind: 'block', reason: 'changed my mind' },
    });
    const { list, errors, skipped, refused } = readList(doc, REF);
    expect({ errors, skipped, refused }).toEqual({ errors: [], skipped: 0, refused: null });
    expect(list.id).toBe(`${CURATOR_1}/moderation/lists/spam`);
    expect(parseListId(list.id)).toEqual(REF);
    expect([...list.entries.values()]).toEqual([
      { key: M, kind: 'block', ts: 10, reason: 'spam' },
      { key: N, kind: 'block', ts: 13, reason: 'changed my mind' },
    ]);
    expect({ blocks: list.blocks, trusts: list.trusts }).toEqual({ blocks: 2, trusts: 0 });
  });

  it('is an item feed: the map lib/data reads, entries with a numeric ts', () => {
    expect(LIST_ITEMS_MAP).toBe(ITEMS_MAP);
    const doc = new Y.Doc();
    applyListChanges(doc, [putEntry(M, 'block', 10)]);
    expect(itemsOf(doc, CURATOR_1, 'moderation/lists/spam')).toEqual([
      { id: M, author: CURATOR_1, feed: 'moderation/lists/spam', ts: 10, key: M, kind: 'block' },
    ]);
  });

  it('listUpdate returns the one update of that change, which a reader applies to get the same list', () => {
    const writer = new Y.Doc();
    const reader = new Y.Doc();
    const first = listUpdate(writer, [putEntry(M, 'block', 1), putEntry(N, 'trust', 2)]);
    const second = listUpdate(writer, [removeEntry(M)]);
    expect(listUpdate(writer, [removeEntry(P)])).toHaveLength(0); // nothing to remove: no update
    Y.applyUpdate(reader, first);
    expect([...readList(reader, REF).list.entries.keys()]).toEqual([M, N]);
    Y.applyUpdate(reader, second);
    expect([...readList(reader, REF).list.entries.keys()]).toEqual([N]);
  });

  it('skips malformed entries and reports each with a named error, never throwing', () => {
    const doc = new Y.Doc();
    const items = doc.getMap(LIST_ITEMS_MAP);
    applyListChanges(doc, [putEntry(M, 'block', 1)]);
    const bad: Record<string, unknown> = {
      notAnObject: 'block',
      [key('Array')]: [1, 2],
      [key('Nothing')]: null,
      [key('NoKey')]: { ts: 1, kind: 'block' },
      [key('Another')]: { ts: 1, key: N, kind: 'block' }, // stored under another key than its own
      shortKey: { ts: 1, key: 'z6Mkshort', kind: 'block' },
      [key('KindNum')]: { ts: 1, key: key('KindNum'), kind: 7 },
      [key('Mute')]: { ts: 1, key: key('Mute'), kind: 'mute' }, // a later version's kind
      [key('NoTs')]: { key: key('NoTs'), kind: 'block' },
      [key('NegTs')]: { ts: -1, key: key('NegTs'), kind: 'block' },
      [key('NaNTs')]: { ts: Number.NaN, key: key('NaNTs'), kind: 'block' },
      [key('LongWhy')]: { ts: 1, key: key('LongWhy'), kind: 'block', reason: 'x'.repeat(MAX_REASON_LENGTH + 1) },
      [key('NumWhy')]: { ts: 1, key: key('NumWhy'), kind: 'block', reason: 42 },
    };
    for (const [id, value] of Object.entries(bad)) items.set(id, value);
    items.set(key('Extra'), { ts: 1, key: key('Extra'), kind: 'trust', later: 'fields are ignored' });

    const { list, errors, skipped, refused } = readList(doc, REF);
    expect(refused).toBeNull();
    expect([...list.entries.keys()].sort()).toEqual([M, key('Extra')].sort());
    expect(skipped).toBe(Object.keys(bad).length);
    const byId = new Map(errors.map((e) => [(e as unknown as { id: string }).id, e]));
    const fieldOf = (id: string) => (byId.get(id) as unknown as { field?: string }).field;
    expect(byId.size).toBe(Object.keys(bad).length);
    expect(byId.get(key('Mute'))?.code).toBe('UNKNOWN_ENTRY_KIND');
    for (const id of Object.keys(bad).filter((id) => id !== key('Mute'))) expect(byId.get(id)?.code, id).toBe('MALFORMED_LIST_ENTRY');
    expect([fieldOf('notAnObject'), fieldOf(key('Nothing')), fieldOf(key('NoKey')), fieldOf(key('Another')), fieldOf(key('KindNum'))]).toEqual([
      'entry',
      'entry',
      'key',
      'key',
      'kind',
    ]);
    expect([fieldOf(key('NoTs')), fieldOf(key('NegTs')), fieldOf(key('NaNTs')), fieldOf(key('LongWhy')), fieldOf(key('NumWhy'))]).toEqual([
      'ts',
      'ts',
      'ts',
      'reason',
      'reason',
    ]);
  });

  it('reports at most MAX_REPORTED_ENTRY_ERRORS errors but counts every skipped entry', () => {
    const doc = new Y.Doc();
    doc.transact(() => {
      for (let i = 0; i < MAX_REPORTED_ENTRY_ERRORS + 50; i++) doc.getMap(LIST_ITEMS_MAP).set(`bad${i}`, i);
    });
    const result = readList(doc, REF);
    expect(result.errors).toHaveLength(MAX_REPORTED_ENTRY_ERRORS);
    expect(result.skipped).toBe(MAX_REPORTED_ENTRY_ERRORS + 50);
  });

  it('refuses a list with more than MAX_LIST_ENTRIES entries whole (LIST_TOO_LARGE), and accepts exactly the limit', () => {
    const doc = new Y.Doc();
    const items = doc.getMap(LIST_ITEMS_MAP);
    doc.transact(() => {
      for (let i = 0; i < MAX_LIST_ENTRIES; i++) items.set(nthKey('A', i), { ts: 1, key: nthKey('A', i), kind: 'block' });
    });
    const atLimit = readList(doc, REF);
    expect(atLimit.refused).toBeNull();
    expect(atLimit.list.entries.size).toBe(MAX_LIST_ENTRIES);
    items.set(key('AndMore'), { ts: 1, key: key('AndMore'), kind: 'block' });
    const over = readList(doc, REF);
    expect(over.refused?.code).toBe('LIST_TOO_LARGE');
    expect(over.list.entries.size).toBe(0);
    expect(() => listFromEntries(REF, [...atLimit.list.entries.values(), { key: key('AndMore'), kind: 'block', ts: 1 }])).toThrow(
      expect.objectContaining({ code: 'LIST_TOO_LARGE' }),
    );
  });

  it('refuses a document whose "items" is not a Y.Map (MALFORMED_LIST), without throwing', () => {
    const doc = new Y.Doc();
    doc.getArray(LIST_ITEMS_MAP).push([1]);
    const result = readList(doc, REF);
    expect(result.refused?.code).toBe('MALFORMED_LIST');
    expect(result.list.entries.size).toBe(0);
  });

  it('throws named errors for bad input to the writing API, before writing anything', async () => {
    const doc = new Y.Doc();
    const writer = docWriter(doc);
    await expectCode(() => writeListChanges(writer, [putEntry(M, 'block', 1), putEntry('z6Mkbad', 'block', 1)]), 'MALFORMED_LIST_ENTRY');
    await expectCode(() => writeListChanges(writer, [putEntry(M, 'mute' as 'block', 1)]), 'UNKNOWN_ENTRY_KIND');
    await expectCode(() => writeListChanges(writer, [putEntry(M, 'block', 1, 'x'.repeat(MAX_REASON_LENGTH + 1))]), 'MALFORMED_LIST_ENTRY');
    await expectCode(() => writeListChanges(writer, [removeEntry('nope')]), 'INVALID_MODERATION_KEY');
    await expectCode(() => writeListChanges(writer, [{ op: 'rename' } as unknown as ListChange]), 'MALFORMED_LIST_ENTRY');
    await expectCode(() => readList(doc, { curator: 'someone', feed: 'x' }), 'INVALID_LIST_REF');
    await expectCode(() => readList(doc, { curator: CURATOR_1, feed: 'Bad Name' }), 'INVALID_LIST_REF');
    await expectCode(() => parseListId('no-slash'), 'INVALID_LIST_REF');
    expect(writer.transactions).toBe(0);
    expect(doc.getMap(LIST_ITEMS_MAP).size).toBe(0);
  });

  it('cuts large changes into transactions that each fit in one envelope, even with the longest reasons', async () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    const longest = '\u{10FFFF}'.repeat(MAX_REASON_LENGTH / 2); // 4 UTF-8 bytes per 2 UTF-16 units
    const worst = '\u0800'.repeat(MAX_REASON_LENGTH); // 3 UTF-8 bytes per unit: the most bytes per unit
    const changes = Array.from({ length: 2_000 }, (_, i) => putEntry(nthKey('W', i), 'block', Number.MAX_VALUE, i % 2 ? worst : longest));
    const transactions = await writeListChanges(docWriter(doc), changes);
    expect(transactions).toBe(chunkListChanges(changes).length);
    expect(transactions).toBeGreaterThan(1);
    expect(updates).toHaveLength(transactions);
    for (const update of updates) {
      expect(update.length).toBeLessThanOrEqual(LIST_UPDATE_TARGET_BYTES);
      expect(update.length).toBeLessThan(MAX_UPDATE_BYTES);
    }
    expect(readList(doc, REF).list.entries.size).toBe(2_000);
    // Plain entries pack many per transaction.
    expect(chunkListChanges(Array.from({ length: 100_000 }, (_, i) => putEntry(nthKey('P', i), 'block', 1))).length).toBeLessThan(100);
  });
});
