import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../util/cbor.ts';
import { equalBytes, utf8 } from '../util/bytes.ts';
import { generateKeyPair, encodePublicKey } from '../identity/index.ts';
import { APP_CSP, APP_PACKAGE_CHUNK_BYTES, APP_SCRIPT_NONCE, MAX_APP_FILES, MAX_APP_PACKAGE_BYTES } from './constants.ts';
import { isValidAppPath, openAppPackage, packApp } from './package.ts';
import { appGrantOrigin } from './origin.ts';
import {
  appLink,
  consentCovers,
  consentKey,
  consentOf,
  consentsIn,
  newFeeds,
  openPublishedApp,
  parseAppLink,
  publishUpdates,
  renderPublishedDocument,
} from './published.ts';

const MANIFEST = { name: 'Pub', version: '1.0.0', description: 'A published app', reads: ['posts'], writes: ['pub'], sorts: [] };
const files = (extra: Record<string, string | Uint8Array> = {}, manifest: object = MANIFEST) => {
  const out: Record<string, Uint8Array> = {
    'manifest.json': utf8(JSON.stringify(manifest)),
    'index.html': utf8('<!doctype html><html><head><link rel="stylesheet" href="style.css"></head><body><img src="img/a.png"><script src="app.js"></script></body></html>'),
    'app.js': utf8('document.body.dataset.ran = "yes";\r\n'),
    'style.css': utf8('body { background: url(img/a.png) }'),
    'img/a.png': new Uint8Array([137, 80, 78, 71]),
  };
  for (const [k, v] of Object.entries(extra)) out[k] = typeof v === 'string' ? utf8(v) : v;
  return out;
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
};
const asyncCode = async (fn: () => Promise<unknown>) => fn().then(() => 'no error', (err: { code?: string }) => err.code);

async function key(): Promise<string> {
  return encodePublicKey((await generateKeyPair()).publicKey);
}

describe('app packages', () => {
  it('packs a folder deterministically and opens it again', () => {
    const a = packApp('pub', files());
    const b = packApp('pub', new Map(Object.entries(files()).reverse()));
    expect(b.bytes).toEqual(a.bytes);
    const opened = openAppPackage(a.bytes);
    expect(opened.id).toBe('pub');
    expect(opened.manifest.writes).toEqual(['pub']);
    expect([...opened.files.keys()]).toEqual(['app.js', 'img/a.png', 'index.html', 'manifest.json', 'style.css']);
  });

  it.each([
    ['a parent segment', '../x.js'],
    ['a dot segment', 'a/./x.js'],
    ['a hidden file', '.env'],
    ['an absolute path', '/x.js'],
    ['a backslash', 'a\\b.js'],
    ['an empty segment', 'a//b.js'],
    ['a trailing slash', 'a/'],
    ['a space', 'a b.js'],
    ['a path too long', `${'a'.repeat(201)}`],
  ])('refuses %s as INVALID_APP_PACKAGE', (_, path) => {
    expect(isValidAppPath(path)).toBe(false);
    expect(code(() => packApp('pub', files({ [path]: 'x' })))).toBe('INVALID_APP_PACKAGE');
  });

  it('refuses what the build refuses: manifest, index.html, inline script, handlers, javascript: URLs', () => {
    expect(code(() => packApp('pub', files({}, { ...MANIFEST, permissions: [] })))).toBe('INVALID_APP_MANIFEST');
    const noIndex = files();
    delete noIndex['index.html'];
    expect(code(() => packApp('pub', noIndex))).toBe('INVALID_APP_MANIFEST');
    expect(code(() => packApp('pub', files({ 'index.html': '<script>alert(1)</script>' })))).toBe('INVALID_APP_MANIFEST');
    expect(code(() => packApp('pub', files({ 'other.html': '<a onclick="x()">x</a>' })))).toBe('INVALID_APP_MANIFEST');
    expect(code(() => packApp('pub', files({ 'index.html': '<a href="javascript:x()">x</a>' })))).toBe('INVALID_APP_MANIFEST');
    expect(code(() => packApp('Pub!', files()))).toBe('INVALID_APP_PACKAGE');
  });

  it.each([
    ['a data-src that is not a src', '<script data-src="app.js"></script>'],
    ['code inside a script that has a src', '<script src="app.js">alert(1)</script>'],
    ['a handler in a tag that swallowed another', '<a <b onclick="x()">x</a>'],
    ['an upper-case handler', '<IMG SRC="x.png" ONERROR="x()">'],
    ['a javascript: URL in a quoted form action', '<form action = "javascript:x()"></form>'],
  ])('refuses %s like the build', (_, html) => {
    expect(code(() => packApp('pub', files({ 'index.html': html })))).toBe('INVALID_APP_MANIFEST');
  });

  it('refuses over the limits with APP_PACKAGE_TOO_LARGE, before decoding', () => {
    expect(code(() => packApp('pub', files({ 'big.bin': new Uint8Array(MAX_APP_PACKAGE_BYTES) })))).toBe('APP_PACKAGE_TOO_LARGE');
    const many: Record<string, string> = {};
    for (let i = 0; i < MAX_APP_FILES; i++) many[`f${i}.txt`] = '';
    expect(code(() => packApp('pub', files(many)))).toBe('APP_PACKAGE_TOO_LARGE');
    expect(code(() => openAppPackage(new Uint8Array(MAX_APP_PACKAGE_BYTES + 1)))).toBe('APP_PACKAGE_TOO_LARGE');
  });

  it('refuses malformed bytes with INVALID_APP_PACKAGE', () => {
    const { bytes } = packApp('pub', files());
    expect(code(() => openAppPackage(new Uint8Array([0xff, 0x00])))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(bytes.subarray(0, bytes.length - 1)))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(encodeCanonical([2, 'app-package', 'pub', []])))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(encodeCanonical([1, 'something-else', 'pub', []])))).toBe('INVALID_APP_PACKAGE');
    const list = Object.entries(files()).sort(([a], [b]) => (a < b ? -1 : 1));
    expect(code(() => openAppPackage(encodeCanonical([1, 'app-package', 'pub', [...list].reverse()])))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(encodeCanonical([1, 'app-package', 'pub', [...list, list.at(-1)]])))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(encodeCanonical([1, 'app-package', 'pub', [['../a', new Uint8Array()], ...list]])))).toBe('INVALID_APP_PACKAGE');
    expect(code(() => openAppPackage(encodeCanonical([1, 'app-package', 'pub', [['a.js', 'text, not bytes']]])))).toBe('INVALID_APP_PACKAGE');
  });
});

describe('published apps', () => {
  async function feedState(pkgBytes: Uint8Array, before: Uint8Array | null = null) {
    const pkg = openAppPackage(pkgBytes);
    const updates = await publishUpdates(before, pkg, pkgBytes);
    const doc = new Y.Doc();
    if (before) Y.applyUpdate(doc, before);
    for (const u of updates) Y.applyUpdate(doc, u);
    return { state: Y.encodeStateAsUpdate(doc), updates };
  }

  it('round-trips through the feed, in chunks that each fit an envelope, header last', async () => {
    const author = await key();
    const big = new Uint8Array(APP_PACKAGE_CHUNK_BYTES * 2 + 10).map((_, i) => i % 251);
    const { bytes } = packApp('pub', files({ 'big.bin': big }));
    const { state, updates } = await feedState(bytes);
    expect(updates).toHaveLength(4);
    for (const u of updates) expect(u.length).toBeLessThan(APP_PACKAGE_CHUNK_BYTES + 1024);
    const opened = await openPublishedApp(state, author, 'pub');
    expect(equalBytes(opened.pkg.files.get('big.bin')!, big)).toBe(true); // (toEqual on 1 MiB takes seconds)
    expect(opened.header).toMatchObject({ id: 'pub', version: '1.0.0', chunks: 3, size: bytes.length });
    // Without the last update (the header) nothing is published yet.
    const partial = new Y.Doc();
    for (const u of updates.slice(0, -1)) Y.applyUpdate(partial, u);
    expect(await asyncCode(() => openPublishedApp(Y.encodeStateAsUpdate(partial), author, 'pub'))).toBe('APP_NOT_PUBLISHED');
  });

  it('a new version replaces the old and drops chunks it no longer needs', async () => {
    const author = await key();
    const v1 = packApp('pub', files({ 'big.bin': new Uint8Array(APP_PACKAGE_CHUNK_BYTES * 2) })).bytes;
    const { state } = await feedState(v1);
    const v2 = packApp('pub', files({}, { ...MANIFEST, version: '1.1.0' })).bytes;
    const { state: next } = await feedState(v2, state);
    const opened = await openPublishedApp(next, author, 'pub');
    expect(opened.pkg.manifest.version).toBe('1.1.0');
    expect(opened.pkg.files.has('big.bin')).toBe(false);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, next);
    expect([...doc.getMap('chunks').keys()]).toEqual(['0']);
  });

  it('refuses a tampered chunk, a package copied under another id, and a feed that is not Yjs', async () => {
    const author = await key();
    const { bytes } = packApp('pub', files());
    const { state } = await feedState(bytes);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const chunk = doc.getMap<Uint8Array>('chunks').get('0')!;
    const evil = new Uint8Array(chunk);
    evil[evil.length - 3]! ^= 1;
    doc.getMap('chunks').set('0', evil);
    expect(await asyncCode(() => openPublishedApp(Y.encodeStateAsUpdate(doc), author, 'pub'))).toBe('APP_PACKAGE_MISMATCH');
    expect(await asyncCode(() => openPublishedApp(state, author, 'other'))).toBe('APP_PACKAGE_MISMATCH');
    expect(await asyncCode(() => openPublishedApp(new Uint8Array([1, 2, 3]), author, 'pub'))).toBe('INVALID_APP_PACKAGE');
    expect(await asyncCode(() => openPublishedApp(Y.encodeStateAsUpdate(new Y.Doc()), author, 'pub'))).toBe('APP_NOT_PUBLISHED');
  });

  it('asks again only when reads or writes grew', async () => {
    const author = await key();
    const v1 = await openPublishedApp((await feedState(packApp('pub', files()).bytes)).state, author, 'pub');
    const consent = consentOf(v1, 1);
    expect(consentCovers(consent, v1)).toBe(true);
    expect(consentCovers(undefined, v1)).toBe(false);
    expect(consentCovers({ ...consent, author: await key() }, v1)).toBe(false);
    expect(newFeeds(consent, { reads: ['posts', 'pub'], writes: ['pub'] })).toEqual({ reads: [], writes: [] });
    expect(newFeeds(consent, { reads: ['posts'], writes: ['posts'] })).toEqual({ reads: [], writes: ['posts'] });
    expect(newFeeds(consent, { reads: ['secrets'], writes: [] })).toEqual({ reads: ['secrets'], writes: [] });
    expect(consent.name).toBe('Pub');
    // The launcher lists consents from everything the extension stores, newest first, nothing else.
    const older = { ...consent, id: 'old', at: 0 };
    const stored = { [consentKey(author, 'pub')]: consent, [consentKey(author, 'old')]: older, vault: { v: 1 }, 'published-app:junk': 'not a consent', 'published-app:x/y': { author } };
    expect(consentsIn(stored)).toEqual([consent, older]);
  });

  it('writes one document with its scripts inline, each allowed by its own hash only', async () => {
    const html = await renderPublishedDocument(openAppPackage(packApp('pub', files()).bytes));
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    // The app CSP exactly, with one hash added to script-src (the CRLF normalized as the parser will).
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new Uint8Array(utf8('document.body.dataset.ran = "yes";\n')))).toString('base64');
    expect(csp).toBe(APP_CSP.replace("script-src 'self'", `script-src 'self' 'sha256-${digest}'`));
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('/app-frame.js'));
    expect(html).toContain(`<script nonce="${APP_SCRIPT_NONCE}">document.body.dataset.ran = "yes";\n</script>`);
    expect(html).toContain('<style>body { background: url("data:image/png;base64,iVBORw==") }</style>');
    expect(html).toContain('<img src="data:image/png;base64,iVBORw==">');
    expect(html).not.toContain('src="app.js"');
  });

  it('leaves the text of inlined scripts exactly as hashed, and moves deferred scripts to the end in order', async () => {
    const code = 'const t = \'<img src="img/a.png"> <link rel="stylesheet" href="style.css">\';';
    const pkg = openAppPackage(
      packApp('pub', files({
        'index.html': '<html><head><script defer src="late.js"></script><script src="app.js"></script></head><body><p>x</p></body></html>',
        'app.js': code,
        'late.js': 'window.late = 1;',
      })).bytes,
    );
    const html = await renderPublishedDocument(pkg);
    expect(html).toContain(`>${code}</script>`);
    expect(html.indexOf('window.late = 1;')).toBeGreaterThan(html.indexOf('<p>x</p>'));
    expect(html.indexOf('window.late = 1;')).toBeLessThan(html.indexOf('</body>'));
    expect(html).not.toMatch(/p2pb-[0-9a-f-]{36}-\d/);
  });

  it('checks and renders hostile markup in linear time (it runs before the person agreed to anything)', async () => {
    // Each of these took minutes with regular expressions over the whole document ([^>]* from every "<").
    const hostile = [
      '<a '.repeat(350_000),
      '<script '.repeat(130_000),
      '<p x="y">'.repeat(100_000),
      `<img${' src="'.repeat(150_000)}>`,
      `<link rel="stylesheet" href="style.css">${' <b'.repeat(300_000)}`,
    ];
    for (const html of hostile) {
      const began = performance.now();
      const pkg = openAppPackage(packApp('pub', files({ 'index.html': html, 'style.css': 'url('.repeat(250_000) })).bytes);
      await renderPublishedDocument(pkg);
      expect(performance.now() - began).toBeLessThan(3000);
    }
  }, 30_000);

  it('refuses scripts it cannot inline and relative references to missing files', async () => {
    const bad = openAppPackage(packApp('pub', files({ 'app.js': 'const s = "</script>";' })).bytes);
    expect(await asyncCode(() => renderPublishedDocument(bad))).toBe('INVALID_APP_PACKAGE');
    const missing = openAppPackage(packApp('pub', files({ 'index.html': '<script src="gone.js"></script>' })).bytes);
    expect(await asyncCode(() => renderPublishedDocument(missing))).toBe('INVALID_APP_PACKAGE');
  });

  it('links and grant subjects name the author', async () => {
    const author = await key();
    expect(parseAppLink(appLink(author, 'pub'))).toEqual({ author, id: 'pub' });
    for (const bad of ['web+p2p:app/pub', `web+p2p:app/${author}/Pub`, 'web+p2p:app/zNotAKey/pub', `web+p2p:app/${author}/pub/x`]) {
      expect(code(() => parseAppLink(bad))).toBe('INVALID_APP_LINK');
    }
    const ext = { id: 'abc', origin: 'chrome-extension://abc' };
    const sender = (url: string) => ({ id: 'abc', url, origin: ext.origin, frameId: 0, tab: {} });
    const bundled = (id: string) => id === 'hello';
    expect(appGrantOrigin(sender(`chrome-extension://abc/app.html?app=pub&author=${author}`), ext, bundled)).toBe(`app:${author}/pub`);
    // A published app with a built-in app's id is still its author's, never app:hello.
    expect(appGrantOrigin(sender(`chrome-extension://abc/app.html?app=hello&author=${author}`), ext, bundled)).toBe(`app:${author}/hello`);
    expect(appGrantOrigin(sender(`chrome-extension://abc/app.html?app=pub&author=zNotAKey`), ext, bundled)).toBeNull();
    expect(appGrantOrigin(sender(`chrome-extension://abc/app.html?app=pub&author=${author}&author=${author}`), ext, bundled)).toBeNull();
    expect(appGrantOrigin(sender(`chrome-extension://abc/app.html?app=hello&origin=x`), ext, bundled)).toBeNull();
  });
});
