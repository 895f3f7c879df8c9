/**
 * An app package: what an author publishes so that others can run the app (docs/apps.md,
 * "Published apps"). One deterministic CBOR value:
 *
 *   [1, "app-package", id, [[path, bytes], …]]      paths sorted, unique
 *
 * It carries no signature of its own: it travels in the author's feed `apps/<id>`, whose
 * envelopes are signed (lib/apps/published.ts). Every rule the build applies to a built-in app
 * (lib/apps/build.ts: manifest, index.html, no inline script, handler or javascript: URL) is
 * applied here when a package is made and again when one is opened, plus limits on size, on the
 * number of files and on paths, all checked before anything is allocated for them.
 */
import { CanonicalCborError, decodeCanonical, encodeCanonical } from '../util/cbor.ts';
import { fromUtf8 } from '../util/bytes.ts';
import {
  APP_ID_PATTERN,
  APP_PACKAGE_VERSION,
  MAX_APP_FILES,
  MAX_APP_MANIFEST_BYTES,
  MAX_APP_PACKAGE_BYTES,
  MAX_APP_PATH_LENGTH,
} from './constants.ts';
import { AppPackageTooLargeError, InvalidAppManifestError, InvalidAppPackageError } from './errors.ts';
import { checkAppHtml } from './html.ts';
import { parseAppManifest, type AppManifest } from './manifest.ts';

export const APP_PACKAGE_TYPE = 'app-package';

export interface AppPackage {
  id: string;
  manifest: AppManifest;
  /** path → bytes, in path order; manifest.json and index.html among them. */
  files: ReadonlyMap<string, Uint8Array>;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * A file path inside a package: `/`-separated segments of letters, digits, `._-`, none empty,
 * none starting with a dot (no `.`, `..` or hidden files), no leading or trailing slash.
 */
export function isValidAppPath(path: unknown): path is string {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_APP_PATH_LENGTH) return false;
  return path.split('/').every((segment) => SEGMENT.test(segment));
}

const isHtml = (path: string) => /\.html?$/i.test(path);

/** Checks files as a package: paths, limits, manifest, index.html, the HTML rules. */
function check(id: string, files: ReadonlyMap<string, Uint8Array>): AppManifest {
  if (!APP_ID_PATTERN.test(id)) throw new InvalidAppPackageError(`app id "${id.slice(0, 70)}" is not lower-case letters, digits and dashes (1..64)`);
  if (files.size > MAX_APP_FILES) throw new AppPackageTooLargeError(`${files.size} files; a package holds at most ${MAX_APP_FILES}`);
  let total = 0;
  for (const [path, bytes] of files) {
    if (!isValidAppPath(path)) throw new InvalidAppPackageError(`bad file path "${String(path).slice(0, 80)}": segments of A-Z a-z 0-9 . _ -, none starting with a dot`);
    total += bytes.length;
    if (total > MAX_APP_PACKAGE_BYTES) throw new AppPackageTooLargeError(`files larger than ${MAX_APP_PACKAGE_BYTES} bytes in all`);
  }
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes) throw new InvalidAppManifestError(`${id}: no manifest.json`);
  if (manifestBytes.length > MAX_APP_MANIFEST_BYTES) throw new InvalidAppManifestError(`${id}/manifest.json: larger than ${MAX_APP_MANIFEST_BYTES} bytes`);
  let manifest: AppManifest;
  try {
    manifest = parseAppManifest(JSON.parse(fromUtf8(manifestBytes)));
  } catch (err) {
    throw new InvalidAppManifestError(`${id}/manifest.json: ${(err as Error).message}`);
  }
  if (!files.has('index.html')) throw new InvalidAppManifestError(`${id}: no index.html`);
  for (const [path, bytes] of files) if (isHtml(path)) checkAppHtml(fromUtf8(bytes), `${id}/${path}`);
  return manifest;
}

/**
 * Makes a package from an app's files (path → bytes, e.g. a folder read by `p2pb-node
 * pack-app` or the app page's folder picker), after the same checks as opening one.
 * @throws InvalidAppPackageError, AppPackageTooLargeError, InvalidAppManifestError
 */
export function packApp(id: string, files: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>): { pkg: AppPackage; bytes: Uint8Array } {
  const entries = files instanceof Map ? [...files] : Object.entries(files);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sorted = new Map(entries);
  const manifest = check(id, sorted);
  const bytes = encodeCanonical([APP_PACKAGE_VERSION, APP_PACKAGE_TYPE, id, entries.map(([path, data]) => [path, new Uint8Array(data)])]);
  if (bytes.length > MAX_APP_PACKAGE_BYTES) throw new AppPackageTooLargeError(`package of ${bytes.length} bytes; at most ${MAX_APP_PACKAGE_BYTES}`);
  return { pkg: { id, manifest, files: sorted }, bytes };
}

/**
 * Opens package bytes: size first, then strict CBOR, shape, paths (sorted, unique), limits and
 * the build's rules. @throws InvalidAppPackageError, AppPackageTooLargeError, InvalidAppManifestError
 */
export function openAppPackage(bytes: Uint8Array): AppPackage {
  if (!(bytes instanceof Uint8Array)) throw new InvalidAppPackageError('a package is bytes');
  if (bytes.length > MAX_APP_PACKAGE_BYTES) throw new AppPackageTooLargeError(`package of ${bytes.length} bytes; at most ${MAX_APP_PACKAGE_BYTES}`);
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (err) {
    throw new InvalidAppPackageError(`package ${err instanceof CanonicalCborError ? err.message : 'is not CBOR'}`, { cause: err });
  }
  if (!Array.isArray(value) || value.length !== 4) throw new InvalidAppPackageError('a package is [version, "app-package", id, files]');
  const [version, type, id, list] = value as unknown[];
  if (version !== APP_PACKAGE_VERSION) throw new InvalidAppPackageError(`package version ${String(version).slice(0, 20)}; this version of P2P Browser reads ${APP_PACKAGE_VERSION}`);
  if (type !== APP_PACKAGE_TYPE) throw new InvalidAppPackageError(`not an app package (${String(type).slice(0, 40)})`);
  if (typeof id !== 'string') throw new InvalidAppPackageError('the app id is text');
  if (!Array.isArray(list)) throw new InvalidAppPackageError('files are a list of [path, bytes]');
  if (list.length > MAX_APP_FILES) throw new AppPackageTooLargeError(`${list.length} files; a package holds at most ${MAX_APP_FILES}`);
  const files = new Map<string, Uint8Array>();
  let previous = '';
  for (const entry of list as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || !(entry[1] instanceof Uint8Array)) throw new InvalidAppPackageError('each file is [path, bytes]');
    const [path, data] = entry as [unknown, Uint8Array];
    if (!isValidAppPath(path)) throw new InvalidAppPackageError(`bad file path "${String(path).slice(0, 80)}"`);
    if (files.size > 0 && !(previous < path)) throw new InvalidAppPackageError(`file paths must be sorted and unique (at "${path}")`);
    files.set(path, new Uint8Array(data));
    previous = path;
  }
  return { id, manifest: check(id, files), files };
}
