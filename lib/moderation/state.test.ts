import { describe, expect, it } from 'vitest';
import { expectCode } from '../util/test-errors.ts';
import { DEFAULT_TRUST_DEPTH, MAX_SUBSCRIPTIONS, MODERATION_STATE_VERSION } from './constants.ts';
import { listIdOf } from './ref.ts';
import {
  addPunchThrough,
  emptyModerationState,
  parseModerationState,
  removeOwnEntry,
  removePunchThrough,
  setOwnEntry,
  subscribe,
  unsubscribe,
  viewInputOf,
} from './state.ts';
import { CURATOR_1, CURATOR_2, key, list, nthKey } from './test-support.ts';
import { createEffectiveView } from './view.ts';

const M = key('Mark');
const L1 = { curator: CURATOR_1, feed: 'moderation/lists/spam' };
const L2 = { curator: CURATOR_2, feed: 'moderation/lists/more' };

describe('stored moderation settings', () => {
  it('edits are pure and round-trip through JSON', () => {
    const empty = emptyModerationState();
    let state = setOwnEntry(empty, { key: M, kind: 'block', ts: 1, reason: 'rude' });
    state = setOwnEntry(state, { key: M, kind: 'trust', ts: 2 }); // replaces
    state = addPunchThrough(state, { key: key('Pat'), ts: 3 });
    state = subscribe(state, L1, 4);
    state = subscribe(state, L1, 5); // already subscribed: unchanged
    state = subscribe(state, L2, 6);
    expect(empty).toEqual(emptyModerationState());
    expect(state).toEqual({
      version: MODERATION_STATE_VERSION,
      own: [{ key: M, kind: 'trust', ts: 2 }],
      punchThroughs: [{ key: key('Pat'), ts: 3 }],
      subscriptions: [
        { list: L1, ts: 4 },
        { list: L2, ts: 6 },
      ],
      trustDepth: DEFAULT_TRUST_DEPTH,
    });
    expect(parseModerationState(JSON.parse(JSON.stringify(state)))).toEqual({ state, errors: [] });
    const undone = unsubscribe(removePunchThrough(removeOwnEntry(state, M), key('Pat')), L1);
    expect(undone).toMatchObject({ own: [], punchThroughs: [], subscriptions: [{ list: L2, ts: 6 }] });
  });

  it('nothing stored is the empty state; bad entries are dropped and named, the rest kept', () => {
    expect(parseModerationState(undefined)).toEqual({ state: emptyModerationState(), errors: [] });
    const { state, errors } = parseModerationState({
      version: 1,
      own: [{ key: M, kind: 'block', ts: 1 }, { key: 'nope', kind: 'block', ts: 1 }, { key: M, kind: 'mute', ts: 1 }],
      punchThroughs: [{ key: M }, { key: key('Pat'), ts: 1 }],
      subscriptions: [{ list: L1, ts: 1 }, { list: { curator: 'x', feed: 'y' }, ts: 1 }],
      trustDepth: 9,
    });
    expect(state).toMatchObject({ own: [{ key: M }], punchThroughs: [{ key: key('Pat') }], subscriptions: [{ list: L1 }], trustDepth: DEFAULT_TRUST_DEPTH });
    expect(errors.map((e) => e.code)).toEqual(['MALFORMED_LIST_ENTRY', 'UNKNOWN_ENTRY_KIND', 'MALFORMED_LIST_ENTRY', 'INVALID_LIST_REF', 'MALFORMED_MODERATION_STATE']);
  });

  it('refuses what is not settings, and settings from a newer version', async () => {
    await expectCode(() => parseModerationState('x'), 'MALFORMED_MODERATION_STATE');
    await expectCode(() => parseModerationState({ own: [] }), 'MALFORMED_MODERATION_STATE');
    await expectCode(() => parseModerationState({ version: 1, own: {} }), 'MALFORMED_MODERATION_STATE');
    await expectCode(() => parseModerationState({ version: MODERATION_STATE_VERSION + 1 }), 'UNSUPPORTED_MODERATION_STATE_VERSION');
  });

  it('checks what the edits are given', async () => {
    const state = emptyModerationState();
    await expectCode(() => setOwnEntry(state, { key: 'z6Mkx', kind: 'block', ts: 1 }), 'MALFORMED_LIST_ENTRY');
    await expectCode(() => addPunchThrough(state, { key: M, ts: -1 }), 'MALFORMED_LIST_ENTRY');
    await expectCode(() => subscribe(state, { curator: M, feed: 'Not A Feed' }, 1), 'INVALID_LIST_REF');
    let full = state;
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) full = subscribe(full, { curator: nthKey('C', i), feed: 'moderation/x' }, 1);
    await expectCode(() => subscribe(full, L1, 1), 'LIST_TOO_LARGE');
  });

  it('gives the effective view\'s input: subscribed lists that have been read, own entries, punch-throughs, depth', () => {
    let state = subscribe(subscribe(emptyModerationState(), L1, 1), L2, 2);
    state = addPunchThrough(state, { key: key('Pat'), ts: 1 });
    const lists = new Map([[listIdOf(L1), list(L1.curator, L1.feed, [[M, 'block'], [key('Pat'), 'block']])]]);
    const view = createEffectiveView(viewInputOf(state, lists, { self: [key('Me')] }));
    expect([view.decisionOf(M), view.decisionOf(key('Pat')), view.decisionOf(key('Me'))]).toEqual(['blocked', 'allowed', 'allowed']);
  });
});
