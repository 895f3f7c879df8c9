import { describe, expect, it } from 'vitest';
import { TRUST_SCORE } from './constants.ts';
import { CURATOR_1, key, label, list } from './test-support.ts';
import type { EntryKind, ModerationList, Reason } from './types.ts';
import { createEffectiveView, describeReason } from './view.ts';
import type { EffectiveViewInput } from './view.ts';

const [X, Y, Z, W, V] = ['X', 'Y', 'Z', 'W', 'V'].map(key) as [string, string, string, string, string];
const LIST = { curator: CURATOR_1, feed: 'moderation/lists/web' };

/** Published lists: `{ X: [[Y, 'trust']] }` means X's own list trusts Y. */
function published(graph: Record<string, Array<[string, EntryKind]>>): Map<string, ModerationList> {
  return new Map(Object.entries(graph).map(([truster, entries]) => [truster, list(truster, 'moderation/own', entries)]));
}

const youTrust = (...keys: string[]) => keys.map((k) => ({ key: k, kind: 'trust' as const, ts: 1 }));

function webOf(input: EffectiveViewInput) {
  const view = createEffectiveView(input);
  return {
    view,
    decisions: (...keys: string[]) => keys.map((k) => view.decisionOf(k)),
    path: (k: string) => {
      const web = view.explain(k).reasons.find((r) => r.kind === 'trust-web') as Extract<Reason, { kind: 'trust-web' }> | undefined;
      return web?.path.map(label);
    },
  };
}

describe('trust web', () => {
  const chain = published({ [X]: [[Y, 'trust']], [Y]: [[Z, 'trust']], [Z]: [[W, 'trust']] });

  it('counts trust given by keys you trust, up to depth 2 by default', () => {
    const { view, decisions, path } = webOf({ own: youTrust(X), published: chain });
    expect(decisions(X, Y, Z)).toEqual(['trusted', 'trusted', 'neutral']);
    expect(path(Y)).toEqual(['X', 'Y']);
    expect(view.trustScore(X)).toBe(TRUST_SCORE.DIRECT);
    expect(view.trustScore(Y)).toBe(TRUST_SCORE.INDIRECT);
    const because = view.explain(Y).because!;
    expect(because.kind).toBe('trust-web');
    expect(because.text).toBe(`trusted because ${X.slice(0, 12)}… trusts ${Y.slice(0, 12)}… (you trust ${X.slice(0, 12)}…)`);
    expect(describeReason(because, label)).toBe('trusted because X trusts Y (you trust X)');
    expect(view.stats).toMatchObject({ webKeys: 1, trustDepth: 2, truncated: false });
  });

  it('follows the depth limit: 1 counts only your own trust, 3 and 4 go further', () => {
    expect(webOf({ own: youTrust(X), published: chain, trustDepth: 1 }).decisions(X, Y)).toEqual(['trusted', 'neutral']);
    const three = webOf({ own: youTrust(X), published: chain, trustDepth: 3 });
    expect(three.decisions(Y, Z, W)).toEqual(['trusted', 'trusted', 'neutral']);
    expect(three.path(Z)).toEqual(['X', 'Y', 'Z']);
    expect(describeReason(three.view.explain(Z).because!, label)).toBe('trusted because Y trusts Z (X trusts Y; you trust X)');
    expect(webOf({ own: youTrust(X), published: chain, trustDepth: 4 }).decisions(W)).toEqual(['trusted']);
  });

  it('ends on cycles and visits each key once', () => {
    const cyclic = published({
      [X]: [[Y, 'trust'], [X, 'trust']],
      [Y]: [[X, 'trust'], [Z, 'trust']],
      [Z]: [[X, 'trust'], [Y, 'trust'], [W, 'trust']],
      [W]: [[Z, 'trust'], [X, 'trust']],
    });
    const { view, decisions, path } = webOf({ own: youTrust(X), published: cyclic, trustDepth: 4 });
    expect(decisions(X, Y, Z, W)).toEqual(['trusted', 'trusted', 'trusted', 'trusted']);
    expect(view.explain(X).because?.kind).toBe('own-trust'); // never re-reached through the cycle
    expect(path(X)).toBeUndefined();
    expect(path(W)).toEqual(['X', 'Y', 'Z', 'W']);
    expect(view.stats.webKeys).toBe(3);
  });

  it('gives the shortest path as the reason', () => {
    const graph = published({ [X]: [[Y, 'trust']], [Y]: [[Z, 'trust']], [V]: [[Z, 'trust']] });
    const { path } = webOf({ own: youTrust(X, V), published: graph, trustDepth: 3 });
    expect(path(Z)).toEqual(['V', 'Z']);
  });

  it('starts from the keys a subscribed trust list trusts, naming the list', () => {
    const { view, decisions } = webOf({ subscriptions: [list(LIST.curator, LIST.feed, [[X, 'trust']])], published: chain });
    expect(decisions(X, Y, Z)).toEqual(['trusted', 'trusted', 'neutral']);
    const because = view.explain(Y).because as Extract<Reason, { kind: 'trust-web' }>;
    expect(because.root).toMatchObject({ kind: 'list-trust', list: LIST });
    expect(describeReason(because, label)).toBe('trusted because X trusts Y (list moderation/lists/web of curator CuratorA trusts X)');
    expect(view.trustScore(Y)).toBe(TRUST_SCORE.INDIRECT);
  });

  it('a list\'s block beats trust through the web, the path still shows, and the blocked key passes nothing on', () => {
    const { view, decisions, path } = webOf({
      own: youTrust(X),
      subscriptions: [list(LIST.curator, LIST.feed, [[Y, 'block']])],
      published: chain,
      trustDepth: 3,
    });
    expect(decisions(Y, Z)).toEqual(['blocked', 'neutral']);
    expect(view.explain(Y).because?.kind).toBe('list-block');
    expect(view.explain(Y).reasons.map((r) => r.kind)).toEqual(['list-block', 'trust-web']);
    expect(path(Y)).toEqual(['X', 'Y']);
  });

  it('your own block stops the web at that key', () => {
    const { decisions } = webOf({ own: [...youTrust(X), { key: Y, kind: 'block', ts: 1 }], published: chain, trustDepth: 3 });
    expect(decisions(Y, Z)).toEqual(['blocked', 'neutral']);
  });

  it('your own trust beats a list\'s block, and that key\'s trust counts', () => {
    const { decisions } = webOf({ own: youTrust(X), subscriptions: [list(LIST.curator, LIST.feed, [[X, 'block']])], published: chain });
    expect(decisions(X, Y)).toEqual(['trusted', 'trusted']);
  });

  it('a key both blocked and trusted by lists passes nothing on; a punch-through allows it but gives no trust', () => {
    const lists = [list(LIST.curator, LIST.feed, [[X, 'block']]), list(key('CuratorB'), 'moderation/lists/b', [[X, 'trust']])];
    expect(webOf({ subscriptions: lists, published: chain }).decisions(X, Y)).toEqual(['blocked', 'neutral']);
    expect(webOf({ subscriptions: lists, published: chain, punchThroughs: [{ key: X, ts: 1 }] }).decisions(X, Y)).toEqual(['allowed', 'neutral']);
  });

  it('only trust propagates: a trusted key\'s blocks are its own business', () => {
    const { decisions } = webOf({ own: youTrust(X), published: published({ [X]: [[Y, 'block'], [Z, 'trust']] }) });
    expect(decisions(Y, Z)).toEqual(['neutral', 'trusted']);
  });

  it('never trusts or blocks you through the web', () => {
    const me = key('Me');
    const { view, decisions } = webOf({ self: [me], own: youTrust(X), published: published({ [X]: [[me, 'trust'], [Y, 'trust']] }) });
    expect(decisions(me, Y)).toEqual(['allowed', 'trusted']);
    expect(view.explain(me).because?.kind).toBe('self');
  });

  it('takes published lists from a function too', () => {
    const asked: string[] = [];
    const { decisions } = webOf({
      own: youTrust(X),
      published: (k) => {
        asked.push(label(k));
        return chain.get(k);
      },
    });
    expect(decisions(Y)).toEqual(['trusted']);
    expect(asked).toEqual(['X']); // depth 2: only the depth-1 keys are asked
  });

  it('stops walking at maxWebKeys and says so', () => {
    const wide = published({ [X]: ['A', 'B', 'C', 'D', 'E'].map((l): [string, EntryKind] => [key(l), 'trust']) });
    const { view } = webOf({ own: youTrust(X), published: wide, maxWebKeys: 3 });
    expect(view.stats).toMatchObject({ webKeys: 3, truncated: true });
    expect(['A', 'B', 'C', 'D', 'E'].map((l) => view.decisionOf(key(l)))).toEqual(['trusted', 'trusted', 'trusted', 'neutral', 'neutral']);
    expect(webOf({ own: youTrust(X), published: wide, maxWebKeys: 5 }).view.stats).toMatchObject({ webKeys: 5, truncated: false });
  });
});
