/**
 * An app's manifest.json: who it is, its data format (the feeds it reads and writes) and the
 * sorting functions it offers. Checked strictly by the build (an app with a bad manifest is not
 * shipped) and again where it is used.
 *
 *   { "name": "Hello", "version": "0.1.0", "description": "…",
 *     "reads": ["posts", "notes.*"], "writes": ["posts"],
 *     "sorts": [{ "id": "chronological", "label": "Newest first", "keys": [{ "field": "ts", "order": "desc" }] }] }
 */
import { FEED_NAME_PATTERN } from '../feeds/constants.ts';
import { checkSort, type SortKey } from '../data/items.ts';
import {
  MAX_APP_DESCRIPTION_LENGTH,
  MAX_APP_FEEDS,
  MAX_APP_NAME_LENGTH,
  MAX_APP_SORTS,
} from './constants.ts';
import { InvalidAppManifestError } from './errors.ts';

export interface AppSort {
  id: string;
  label: string;
  /** The declarative sort (lib/data/items.ts); optional: an app may only name its sorts. */
  keys?: SortKey[];
}

export interface AppManifest {
  name: string;
  version: string;
  description: string;
  /** Feed names, or a prefix ending in `*` (`notes.*`), the app may read. */
  reads: string[];
  /** Feed names or prefixes the app may write (and read). */
  writes: string[];
  sorts: AppSort[];
}

/** A bundled app: its id (the folder name) and its manifest. */
export interface AppInfo {
  id: string;
  manifest: AppManifest;
}

const VERSION = /^\d{1,9}\.\d{1,9}\.\d{1,9}(?:-[0-9A-Za-z.-]{1,32})?$/;
/** A feed name, or a prefix of one followed by `*`. */
const FEED_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,98}\*?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

const KEYS = ['name', 'version', 'description', 'reads', 'writes', 'sorts'] as const;

function text(value: unknown, field: string, max: number, { empty = false } = {}): string {
  if (typeof value !== 'string' || (!empty && value.trim().length === 0) || value.length > max || CONTROL.test(value)) {
    throw new InvalidAppManifestError(`${field}: text of ${empty ? 0 : 1}..${max} characters, no control characters`);
  }
  return value;
}

function feeds(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_APP_FEEDS) throw new InvalidAppManifestError(`${field}: a list of at most ${MAX_APP_FEEDS} feed names`);
  return value.map((name, i) => {
    if (typeof name !== 'string' || !FEED_PATTERN.test(name)) {
      throw new InvalidAppManifestError(`${field}[${i}]: a feed name (${FEED_NAME_PATTERN}), or a prefix of one ending in *`);
    }
    return name;
  });
}

/** Checks a parsed manifest.json. @throws InvalidAppManifestError */
export function parseAppManifest(value: unknown): AppManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidAppManifestError('a manifest is a JSON object');
  const m = value as Record<string, unknown>;
  const extra = Object.keys(m).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (extra.length > 0) throw new InvalidAppManifestError(`unknown field ${extra[0]!.slice(0, 32)} (fields: ${KEYS.join(', ')})`);
  const sortsValue = m.sorts ?? [];
  if (!Array.isArray(sortsValue) || sortsValue.length > MAX_APP_SORTS) throw new InvalidAppManifestError(`sorts: a list of at most ${MAX_APP_SORTS}`);
  const sorts = sortsValue.map((s: unknown, i): AppSort => {
    const sort = s as Record<string, unknown> | null;
    if (typeof sort !== 'object' || sort === null) throw new InvalidAppManifestError(`sorts[${i}]: { id, label, keys? }`);
    const id = text(sort.id, `sorts[${i}].id`, 64);
    const label = text(sort.label, `sorts[${i}].label`, 64);
    if (sort.keys === undefined) return { id, label };
    try {
      return { id, label, keys: checkSort({ id, keys: sort.keys }).keys };
    } catch (err) {
      throw new InvalidAppManifestError(`sorts[${i}].keys: ${(err as Error).message}`);
    }
  });
  if (new Set(sorts.map((s) => s.id)).size !== sorts.length) throw new InvalidAppManifestError('sorts: ids must differ');
  const version = text(m.version, 'version', 64);
  if (!VERSION.test(version)) throw new InvalidAppManifestError('version: major.minor.patch');
  return {
    name: text(m.name, 'name', MAX_APP_NAME_LENGTH),
    version,
    description: text(m.description ?? '', 'description', MAX_APP_DESCRIPTION_LENGTH, { empty: true }),
    reads: feeds(m.reads ?? [], 'reads'),
    writes: feeds(m.writes ?? [], 'writes'),
    sorts,
  };
}

/** True when feed `name` is covered by one of `patterns` (exact, or `prefix*`). */
export function feedAllowed(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.length > p.length - 1 && name.startsWith(p.slice(0, -1)) : p === name));
}
