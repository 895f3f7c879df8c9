import { describe, expect, it } from 'vitest';
import { TRUST_SCORE } from './constants.ts';
import { CURATOR_1, CURATOR_2, key, list } from './test-support.ts';
import type { Decision, EntryKind, ListEntry, PunchThrough, ReasonKind } from './types.ts';
import { createEffectiveView } from './view.ts';

const K = key('Target');
const OTHER = key('Bystander');
const L1 = { curator: CURATOR_1, feed: 'moderation/lists/spam' };
const L2 = { curator: CURATOR_2, feed: 'moderation/lists/friends' };

/** What the subscribed lists say about K: L1's entry, then L2's. */
type Lists = '-' | 'B' | 'T' | 'BT' | 'TB' | 'BB';
type Own = '-' | 'block' | 'trust';

/**
 * The combination rules, written out by hand: subscribed lists × own entries × punch-through →
 * decision, the deciding reason, every reason in layer order, and the trust score.
 */
const TABLE: Array<[Lists, Own, boolean, Decision, ReasonKind | null, ReasonKind[], number]> = [
  // lists  own      punch  decision    because          reasons                                                   score
  ['-', '-', false, 'neutral', null, [], TRUST_SCORE.NEUTRAL],
  ['-', '-', true, 'allowed', 'punch-through', ['punch-through'], TRUST_SCORE.NEUTRAL],
  ['-', 'block', false, 'blocked', 'own-block', ['own-block'], TRUST_SCORE.BLOCKED],
  ['-', 'block', true, 'allowed', 'punch-through', ['own-block', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['-', 'trust', false, 'trusted', 'own-trust', ['own-trust'], TRUST_SCORE.DIRECT],
  ['-', 'trust', true, 'trusted', 'own-trust', ['own-trust', 'punch-through'], TRUST_SCORE.DIRECT],
  ['B', '-', false, 'blocked', 'list-block', ['list-block'], TRUST_SCORE.BLOCKED],
  ['B', '-', true, 'allowed', 'punch-through', ['list-block', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['B', 'block', false, 'blocked', 'own-block', ['list-block', 'own-block'], TRUST_SCORE.BLOCKED],
  ['B', 'block', true, 'allowed', 'punch-through', ['list-block', 'own-block', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['B', 'trust', false, 'trusted', 'own-trust', ['list-block', 'own-trust'], TRUST_SCORE.DIRECT],
  ['B', 'trust', true, 'trusted', 'own-trust', ['list-block', 'own-trust', 'punch-through'], TRUST_SCORE.DIRECT],
  ['T', '-', false, 'trusted', 'list-trust', ['list-trust'], TRUST_SCORE.INDIRECT],
  ['T', '-', true, 'trusted', 'list-trust', ['list-trust', 'punch-through'], TRUST_SCORE.INDIRECT],
  ['T', 'block', false, 'blocked', 'own-block', ['list-trust', 'own-block'], TRUST_SCORE.BLOCKED],
  ['T', 'block', true, 'allowed', 'punch-through', ['list-trust', 'own-block', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['T', 'trust', false, 'trusted', 'own-trust', ['list-trust', 'own-trust'], TRUST_SCORE.DIRECT],
  ['T', 'trust', true, 'trusted', 'own-trust', ['list-trust', 'own-trust', 'punch-through'], TRUST_SCORE.DIRECT],
  // Two lists disagree: a block anywhere beats a trust anywhere, whatever the order…
  ['BT', '-', false, 'blocked', 'list-block', ['list-block', 'list-trust'], TRUST_SCORE.BLOCKED],
  ['TB', '-', false, 'blocked', 'list-block', ['list-trust', 'list-block'], TRUST_SCORE.BLOCKED],
  ['BB', '-', false, 'blocked', 'list-block', ['list-block', 'list-block'], TRUST_SCORE.BLOCKED],
  // …and the person still wins.
  ['BT', '-', true, 'allowed', 'punch-through', ['list-block', 'list-trust', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['BT', 'block', false, 'blocked', 'own-block', ['list-block', 'list-trust', 'own-block'], TRUST_SCORE.BLOCKED],
  ['BT', 'block', true, 'allowed', 'punch-through', ['list-block', 'list-trust', 'own-block', 'punch-through'], TRUST_SCORE.NEUTRAL],
  ['BT', 'trust', false, 'trusted', 'own-trust', ['list-block', 'list-trust', 'own-trust'], TRUST_SCORE.DIRECT],
  ['TB', 'trust', true, 'trusted', 'own-trust', ['list-trust', 'list-block', 'own-trust', 'punch-through'], TRUST_SCORE.DIRECT],
];

const kindOf = (c: string): EntryKind => (c === 'B' ? 'block' : 'trust');

function viewFor(lists: Lists, own: Own, punch: boolean) {
  const first: Array<[string, EntryKind, string?]> = [[OTHER, 'block']];
  const second: Array<[string, EntryKind, string?]> = [[OTHER, 'trust']];
  if (lists !== '-') first.push([K, kindOf(lists[0]!), 'from list 1']);
  if (lists.length === 2) second.push([K, kindOf(lists[1]!), 'from list 2']);
  const ownEntries: ListEntry[] = own === '-' ? [] : [{ key: K, kind: own, ts: 5, reason: 'mine' }];
  const punches: PunchThrough[] = punch ? [{ key: K, ts: 6 }] : [];
  return createEffectiveView({ subscriptions: [list(L1.curator, L1.feed, first), list(L2.curator, L2.feed, second)], own: ownEntries, punchThroughs: punches });
}

describe('the effective view: subscribed lists, then own entries, then punch-throughs', () => {
  it.each(TABLE)('lists %s, own %s, punch-through %s → %s because %s', (lists, own, punch, decision, because, reasons, score) => {
    const view = viewFor(lists, own, punch);
    const verdict = view.explain(K);
    expect(verdict.decision).toBe(decision);
    expect(view.decisionOf(K)).toBe(decision);
    expect(view.isBlocked(K)).toBe(decision === 'blocked');
    expect(view.trustScore(K)).toBe(score);
    expect(verdict.because?.kind ?? null).toBe(because);
    expect(verdict.reasons.map((r) => r.kind)).toEqual(reasons);
    // The deciding reason is one of the listed ones, and the other key is untouched by K's entries.
    if (verdict.because !== null) expect(verdict.reasons).toContain(verdict.because);
    expect(view.decisionOf(OTHER)).toBe('blocked');
  });

  it('names the list and curator that block a key, with the entry\'s own reason as a note', () => {
    const view = viewFor('BT', '-', false);
    const verdict = view.explain(K);
    expect(verdict.because).toMatchObject({ kind: 'list-block', list: L1, note: 'from list 1' });
    expect(verdict.because?.text).toBe(`blocked by list moderation/lists/spam of curator ${CURATOR_1.slice(0, 12)}…`);
    expect(verdict.reasons[1]).toMatchObject({ kind: 'list-trust', list: L2, note: 'from list 2' });
  });

  it('says "you blocked", "you trust" and "you allowed it (punch-through)"', () => {
    expect(viewFor('-', 'block', false).explain(K).because?.text).toBe('you blocked');
    expect(viewFor('-', 'block', false).explain(K).because).toMatchObject({ note: 'mine' });
    expect(viewFor('-', 'trust', false).explain(K).because?.text).toBe('you trust');
    expect(viewFor('B', '-', true).explain(K).because?.text).toBe('you allowed it (punch-through)');
  });

  it('a key nobody mentions is neutral, with no reasons', () => {
    const view = viewFor('B', 'trust', true);
    expect(view.explain(key('Nobody'))).toEqual({ key: key('Nobody'), decision: 'neutral', because: null, reasons: [] });
    expect(view.trustScore(key('Nobody'))).toBe(0);
  });

  it('the person\'s own identities are always allowed, and the lists that block them still show', () => {
    const me = key('Me');
    const view = createEffectiveView({ self: [me], subscriptions: [list(L1.curator, L1.feed, [[me, 'block']])], own: [{ key: me, kind: 'block', ts: 1 }] });
    const verdict = view.explain(me);
    expect(verdict.decision).toBe('allowed');
    expect(verdict.because?.kind).toBe('self');
    expect(verdict.reasons.map((r) => r.kind)).toEqual(['list-block', 'own-block', 'self']);
  });

  it('for one key, the last own entry given wins', () => {
    const view = createEffectiveView({ own: [{ key: K, kind: 'block', ts: 1 }, { key: K, kind: 'trust', ts: 2 }] });
    expect(view.decisionOf(K)).toBe('trusted');
  });

  it('counts its keys by decision', () => {
    const view = createEffectiveView({
      subscriptions: [list(L1.curator, L1.feed, [[key('A'), 'block'], [key('B'), 'block'], [key('C'), 'trust']])],
      own: [{ key: key('D'), kind: 'trust', ts: 1 }],
      punchThroughs: [{ key: key('A'), ts: 1 }],
    });
    expect(view.stats).toEqual({ keys: 4, blocked: 1, allowed: 1, trusted: 2, webKeys: 0, truncated: false, trustDepth: 2 });
    expect(new Map(view.decisions())).toEqual(
      new Map([
        [key('A'), 'allowed'],
        [key('B'), 'blocked'],
        [key('C'), 'trusted'],
        [key('D'), 'trusted'],
      ]),
    );
  });

  it('refuses a trust depth outside 1..4', () => {
    expect(() => createEffectiveView({ trustDepth: 0 })).toThrow(RangeError);
    expect(() => createEffectiveView({ trustDepth: 5 })).toThrow(RangeError);
    expect(() => createEffectiveView({ trustDepth: 1.5 })).toThrow(RangeError);
  });
});
