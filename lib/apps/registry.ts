/**
 * The apps that ship inside the extension: every `apps/<id>/manifest.json`, read at build time
 * (Vite's import.meta.glob), so the background and the host page know the same list the build
 * copied (lib/apps/build.ts). An app whose manifest does not parse is left out here and stops
 * the build there.
 */
import { APP_ID_PATTERN } from './constants.ts';
import { parseAppManifest, type AppInfo } from './manifest.ts';

const manifests = import.meta.glob('../../apps/*/manifest.json', { eager: true, import: 'default' });

/** Builds a registry from (path or id → parsed JSON); exported for tests. */
export function createRegistry(entries: Record<string, unknown>): ReadonlyMap<string, AppInfo> {
  const apps = new Map<string, AppInfo>();
  for (const [key, json] of Object.entries(entries)) {
    const id = key.includes('/') ? key.split('/').at(-2)! : key;
    if (!APP_ID_PATTERN.test(id)) continue;
    try {
      apps.set(id, { id, manifest: parseAppManifest(json) });
    } catch {
      // The build refuses such an app; nothing to serve.
    }
  }
  return apps;
}

const bundled = createRegistry(manifests);

export const bundledApps = (): AppInfo[] => [...bundled.values()].sort((a, b) => a.id.localeCompare(b.id));
export const getBundledApp = (id: string): AppInfo | undefined => bundled.get(id);
export const isBundledApp = (id: string): boolean => bundled.has(id);
