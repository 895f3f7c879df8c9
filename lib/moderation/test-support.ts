/** Test helpers: readable keys of the right shape, lists in memory, a Y.Doc as a list writer. */
import * as Y from 'yjs';
import { listFromEntries } from './list.ts';
import type { ListWriter } from './list.ts';
import type { EntryKind, ListEntry, ModerationList } from './types.ts';

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** A public key text whose readable part is `label` ("z6Mk" + label, padded): `key('Mallory')`. */
export function key(label: string): string {
  if (!BASE58.test(label) || label.length > 44) throw new Error(`label ${label} must be ≤ 44 base58 characters (no 0 O I l)`);
  return `z6Mk${label}${'1'.repeat(44 - label.length)}`;
}

const DIGITS = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** The n-th key of a series: `nthKey('A', 10)` (n in base58 digits at the end). */
export function nthKey(prefix: string, n: number): string {
  let digits = '';
  do {
    digits = DIGITS[n % 58]! + digits;
    n = Math.floor(n / 58);
  } while (n > 0);
  return `z6Mk${prefix}${'1'.repeat(44 - prefix.length - digits.length)}${digits}`; // '1' is digit 0: no collisions
}

/** The label back from key(): for readable assertions. */
export function label(keyText: string): string {
  return keyText.slice(4).replace(/1+$/, '');
}

export const CURATOR_1 = key('CuratorA');
export const CURATOR_2 = key('CuratorB');

/** A list in memory: `list(CURATOR_1, 'moderation/spam', [[M, 'block']])`. */
export function list(curator: string, feed: string, entries: Array<[string, EntryKind, string?]>, ts = 1): ModerationList {
  return listFromEntries(
    { curator, feed },
    entries.map(([k, kind, reason]): ListEntry => (reason === undefined ? { key: k, kind, ts } : { key: k, kind, ts, reason })),
  );
}

/** A plain Y.Doc as a ListWriter (one Yjs transaction per transact, as a Feed makes one envelope). */
export function docWriter(doc: Y.Doc): ListWriter & { transactions: number } {
  const writer = {
    transactions: 0,
    transact: async (fn: (doc: Y.Doc) => void) => {
      writer.transactions++;
      doc.transact(() => fn(doc));
    },
  };
  return writer;
}
