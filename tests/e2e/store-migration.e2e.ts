/**
 * The feed store's schema 1 → 2 migration (lib/store/idb.ts) in each real browser's IndexedDB:
 * fake-indexeddb in the unit tests cannot show that the browser keeps the version-change
 * transaction alive across the migration's cursor, or that it commits what the migration wrote.
 * A plain page (no extension needed) runs the store code, bundled here with Vite.
 */
import path from 'node:path';
import { build } from 'vite';
import { afterEach, describe, expect, it } from 'vitest';
import { browserKinds, launchBrowser, startStaticServer, type BrowserHandle, type StaticServer } from './harness.ts';

async function bundle(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      lib: { entry: path.join(import.meta.dirname, 'fixtures/store-migration/page.ts'), formats: ['iife'], name: 'storeMigration' },
    },
  });
  const chunks = (Array.isArray(out) ? out : [out]).flatMap((o) => ('output' in o ? o.output : []));
  const code = chunks.find((c) => c.type === 'chunk');
  if (!code || code.type !== 'chunk') throw new Error('vite built no script');
  return code.code;
}

describe.each(browserKinds())('store migration in %s', (kind) => {
  let handle: BrowserHandle | undefined;
  let server: StaticServer | undefined;
  afterEach(async () => {
    await handle?.close();
    await server?.close();
  });

  it('a schema 1 IndexedDB store opens as schema 2 with every envelope byte for byte, and keeps working', async () => {
    server = await startStaticServer({
      '/index.html': '<!doctype html><meta charset="utf-8"><title>store migration</title><script src="/page.js"></script>',
      '/page.js': { body: await bundle(), contentType: 'text/javascript' },
    });
    handle = await launchBrowser(kind, { noExtension: true });
    const page = await handle.browser.newPage();
    await page.goto(server.url('/index.html'), { waitUntil: 'load' });
    const report = (await page.evaluate(() => (globalThis as any).runStoreMigration())) as {
      envelopes: number;
      mismatches: number;
      feeds: { ownership: string; envelopes: number; head: number; bytes: number }[];
      rawBytes: number[];
      appendError: string | null;
      headAfterReopen: number;
      layout: { version: number; stores: string[] };
      migrateMs: number;
    };
    console.log(`[store-migration ${kind}] 607 envelopes in 2 feeds migrated in ${report.migrateMs} ms; accounted ${report.feeds.map((f) => f.bytes).join(' + ')} B for ${report.rawBytes.join(' + ')} B of whole envelopes`);
    expect(report.envelopes).toBe(607);
    expect(report.mismatches).toBe(0);
    expect(report.feeds.map(({ bytes: _b, ...f }) => f)).toEqual([
      { ownership: 'own', envelopes: 600, head: 600 },
      { ownership: 'cached', envelopes: 7, head: 7 },
    ]);
    // Compact records cost less than the whole envelopes they rebuild.
    report.feeds.forEach((f, i) => expect(f.bytes).toBeLessThan(report.rawBytes[i]!));
    expect(report.appendError).toBeNull();
    expect(report.headAfterReopen).toBe(601);
    expect(report.layout).toEqual({ version: 2, stores: ['counters', 'feeds', 'forks', 'records', 'snapshots'] });
  });
});
