/**
 * Timelines: which items to show, and why the others are hidden (so an app can offer "show
 * anyway", which is a punch-through the person confirms). Items are anything with an `author`
 * public key text, such as lib/data's Item; this module does not import lib/data, so lib/data
 * may later use the trust score hook below without a cycle.
 */
import type { EffectiveView } from './view.ts';
import type { Verdict } from './types.ts';

export interface HiddenItem<T> {
  item: T;
  /** Why its author is blocked (the same object for every item of one author). */
  verdict: Verdict;
}

export interface FilterResult<T> {
  /** The items to show, in their input order. */
  shown: T[];
  /** The items not shown, in their input order, each with its reason. */
  hidden: Array<HiddenItem<T>>;
}

/**
 * Splits `items` into shown and hidden by their authors' decisions in `view`: items by blocked
 * authors are hidden, everything else (neutral, allowed, trusted) is shown. One Map lookup per
 * item; reasons are worked out once per hidden author.
 */
export function filterItems<T extends { readonly author: string }>(items: Iterable<T>, view: EffectiveView): FilterResult<T> {
  const shown: T[] = [];
  const hidden: Array<HiddenItem<T>> = [];
  let verdicts: Map<string, Verdict> | undefined;
  for (const item of items) {
    if (!view.isBlocked(item.author)) {
      shown.push(item);
      continue;
    }
    verdicts ??= new Map();
    let verdict = verdicts.get(item.author);
    if (verdict === undefined) {
      verdict = view.explain(item.author);
      verdicts.set(item.author, verdict);
    }
    hidden.push({ item, verdict });
  }
  return { shown, hidden };
}

/**
 * The trust-aware sort hook: a function from author key to TRUST_SCORE (2 you trust them, 1
 * trusted through a list or the trust web, 0 neutral or allowed, −1 blocked). A sort key
 * "trusted first" is this score, descending.
 */
export function trustScoreOf(view: EffectiveView): (author: string) => number {
  return (author) => view.trustScore(author);
}
