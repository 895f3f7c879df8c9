import { describe, expect, it } from 'vitest';
import { sortItems, type Item } from '../data/items.ts';
import { TRUST_SCORE } from './constants.ts';
import { filterItems, trustScoreOf } from './filter.ts';
import { CURATOR_1, key, list } from './test-support.ts';
import { createEffectiveView } from './view.ts';

const [A, M, T, W, P] = ['Ann', 'Mark', 'Trent', 'Web', 'Punched'].map(key) as [string, string, string, string, string];
const LIST = { curator: CURATOR_1, feed: 'moderation/lists/spam' };
const item = (author: string, id: string, ts: number): Item => ({ id, author, feed: `${author}/posts`, ts });

const view = createEffectiveView({
  subscriptions: [list(LIST.curator, LIST.feed, [[M, 'block', 'spam'], [P, 'block']])],
  own: [{ key: T, kind: 'trust', ts: 1 }],
  punchThroughs: [{ key: P, ts: 1 }],
  published: new Map([[T, list(T, 'moderation/own', [[W, 'trust']])]]),
});

describe('filtering a timeline', () => {
  const items = [item(A, 'a1', 1), item(M, 'm1', 2), item(T, 't1', 3), item(M, 'm2', 4), item(W, 'w1', 5), item(P, 'p1', 6)];

  it('shows items by neutral, allowed and trusted authors and hides blocked ones with their reason, in input order', () => {
    const { shown, hidden } = filterItems(items, view);
    expect(shown.map((i) => i.id)).toEqual(['a1', 't1', 'w1', 'p1']);
    expect(hidden.map((h) => h.item.id)).toEqual(['m1', 'm2']);
    expect(hidden[0]!.verdict).toMatchObject({ key: M, decision: 'blocked', because: { kind: 'list-block', list: LIST, note: 'spam' } });
    expect(hidden[1]!.verdict).toBe(hidden[0]!.verdict); // worked out once per author
  });

  it('"show anyway" is a punch-through: with it the items come back', () => {
    const withPunch = createEffectiveView({
      subscriptions: [list(LIST.curator, LIST.feed, [[M, 'block']])],
      punchThroughs: [{ key: M, ts: 2 }],
    });
    const { shown, hidden } = filterItems(items, withPunch);
    expect(hidden).toEqual([]);
    expect(shown).toHaveLength(items.length);
  });

  it('takes any iterable of things with an author, and an empty view hides nothing', () => {
    const { shown, hidden } = filterItems(new Set([{ author: M, text: 'x' }]), createEffectiveView());
    expect(shown).toEqual([{ author: M, text: 'x' }]);
    expect(hidden).toEqual([]);
  });

  it('gives a trust score per author for a "trusted first" sort', () => {
    const score = trustScoreOf(view);
    expect([A, M, T, W, P].map(score)).toEqual([TRUST_SCORE.NEUTRAL, TRUST_SCORE.BLOCKED, TRUST_SCORE.DIRECT, TRUST_SCORE.INDIRECT, TRUST_SCORE.NEUTRAL]);
    // What lib/data's sort can do with it: the score as a key, then its usual tie-breaks.
    const scored = filterItems(items, view).shown.map((i) => ({ ...i, trust: score(i.author) }));
    const sorted = sortItems(scored, { id: 'trusted-first', keys: [{ field: 'trust', order: 'desc' }, { field: 'ts', order: 'desc' }] });
    expect(sorted.map((i) => i.id)).toEqual(['t1', 'w1', 'p1', 'a1']);
  });
});
