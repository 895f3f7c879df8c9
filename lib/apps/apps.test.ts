import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_CHANNEL, PAGE_METHODS, PROTOCOL_VERSION, ProviderErrorCode } from '../protocol/index.ts';
import { createMemoryLogger } from '../util/log.ts';
import { APP_CSP, APP_FRAME_SCRIPT, APP_ORIGIN_PREFIX } from './constants.ts';
import { APP_HEAD, collectApps, injectAppHead } from './build.ts';
import { feedAllowed, parseAppManifest, type AppInfo } from './manifest.ts';
import { APP_METHOD_ACCESS, checkAppRequest } from './policy.ts';
import { appGrantOrigin, appIdFromHostUrl } from './origin.ts';
import { bundledApps, createRegistry, getBundledApp } from './registry.ts';
import { createAppHost, type HostPort } from './host.ts';

const REPO_APPS = path.resolve(import.meta.dirname, '../../apps');
const HELLO = { name: 'Hello', version: '0.1.0', description: 'Says hello', reads: ['hello'], writes: ['hello'], sorts: [] };

describe('app manifests', () => {
  it('accepts the documented shape and fills optional lists', () => {
    expect(parseAppManifest({ name: 'X', version: '1.2.3' })).toEqual({ name: 'X', version: '1.2.3', description: '', reads: [], writes: [], sorts: [] });
    const m = parseAppManifest({ ...HELLO, reads: ['posts', 'notes.*'], sorts: [{ id: 'new', label: 'Newest', keys: [{ field: 'ts', order: 'desc' }] }] });
    expect(m.sorts[0]).toEqual({ id: 'new', label: 'Newest', keys: [{ field: 'ts', order: 'desc' }] });
  });

  it.each([
    ['not an object', []],
    ['an unknown field', { ...HELLO, permissions: ['tabs'] }],
    ['no name', { ...HELLO, name: '' }],
    ['a bad version', { ...HELLO, version: 'latest' }],
    ['a bad feed name', { ...HELLO, reads: ['Posts!'] }],
    ['a bare *', { ...HELLO, writes: ['*'] }],
    ['a bad sort', { ...HELLO, sorts: [{ id: 's', label: 'S', keys: [{ field: 'ts', order: 'sideways' }] }] }],
    ['duplicate sort ids', { ...HELLO, sorts: [{ id: 's', label: 'S' }, { id: 's', label: 'T' }] }],
    ['control characters', { ...HELLO, name: 'a\u0000b' }],
  ])('refuses %s', (_, value) => {
    expect(() => parseAppManifest(value)).toThrow(expect.objectContaining({ code: 'INVALID_APP_MANIFEST' }));
  });

  it('matches feeds exactly or by a prefix ending in *', () => {
    expect(feedAllowed(['posts', 'notes.*'], 'posts')).toBe(true);
    expect(feedAllowed(['posts', 'notes.*'], 'notes.shared')).toBe(true);
    expect(feedAllowed(['posts', 'notes.*'], 'notes.')).toBe(false);
    expect(feedAllowed(['posts', 'notes.*'], 'posts2')).toBe(false);
    expect(feedAllowed([], 'posts')).toBe(false);
  });

  it('every app in apps/ has a manifest the registry accepts, hello among them', () => {
    const folders = readdirSync(REPO_APPS).filter((id) => existsSync(path.join(REPO_APPS, id, 'manifest.json')));
    expect(bundledApps().map((a) => a.id)).toEqual([...folders].sort());
    expect(getBundledApp('hello')?.manifest.name).toBe('Hello');
  });

  it('a registry leaves out bad ids and bad manifests', () => {
    const r = createRegistry({ '../../apps/ok/manifest.json': HELLO, '../../apps/Bad_Id/manifest.json': HELLO, '../../apps/broken/manifest.json': { name: 1 } });
    expect([...r.keys()]).toEqual(['ok']);
  });
});

describe('app policy', () => {
  const app: AppInfo = { id: 'hello', manifest: parseAppManifest({ ...HELLO, reads: ['posts', 'notes.*'], writes: ['hello'] }) };

  it('classifies every page method (a new one must say whether it reads or writes a feed)', () => {
    expect(Object.keys(APP_METHOD_ACCESS).sort()).toEqual([...PAGE_METHODS].sort());
  });

  it('lets through what the manifest declares and methods that name no feed', () => {
    expect(checkAppRequest(app, 'p2p_requestIdentity', undefined)).toBeNull();
    expect(checkAppRequest(app, 'p2p_readFeed', { name: 'posts' })).toBeNull();
    expect(checkAppRequest(app, 'p2p_query', { name: 'notes.a', sort: {} })).toBeNull();
    expect(checkAppRequest(app, 'p2p_readFeed', { name: 'hello' })).toBeNull(); // writes imply reads
    expect(checkAppRequest(app, 'p2p_putItem', { name: 'hello', id: 'x', item: {} })).toBeNull();
  });

  it('refuses undeclared feeds with 4100 before they leave the tab', () => {
    expect(checkAppRequest(app, 'p2p_readFeed', { name: 'secret' })).toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    expect(checkAppRequest(app, 'p2p_subscribeFeed', { author: 'k', name: 'profile' })).toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    // Reading a feed is not writing it.
    expect(checkAppRequest(app, 'p2p_writeFeed', { name: 'posts', update: '' })).toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
    expect(checkAppRequest(app, 'p2p_putItem', { name: 'notes.a', id: 'x', item: {} })).toMatchObject({ code: ProviderErrorCode.UNAUTHORIZED });
  });

  it('leaves unknown methods and bad params for the background to answer', () => {
    expect(checkAppRequest(app, 'p2p_exportKey', {})).toBeNull();
    expect(checkAppRequest(app, 'p2p_readFeed', { name: 42 })).toBeNull();
  });
});

describe('app grant origin', () => {
  const ext = { id: 'abc', origin: 'chrome-extension://abc' };
  const bundled = (id: string) => id === 'hello' || id === 'notes';
  const sender = { id: 'abc', url: 'chrome-extension://abc/app.html?app=hello', origin: 'chrome-extension://abc', frameId: 0, tab: {} };

  it('is app:<id> for the extension’s own app.html of a bundled app', () => {
    expect(appGrantOrigin(sender, ext, bundled)).toBe(`${APP_ORIGIN_PREFIX}hello`);
    expect(appGrantOrigin({ ...sender, origin: undefined }, ext, bundled)).toBe('app:hello');
  });

  it.each([
    ['another extension', { id: 'evil' }],
    ['a frame, not the tab', { frameId: 3 }],
    ['no tab', { tab: undefined }],
    ['an opaque (sandboxed) document', { origin: 'null' }],
    ['a web page', { url: 'https://example.com/app.html?app=hello', origin: 'https://example.com' }],
    ['another extension page', { url: 'chrome-extension://abc/popup.html?app=hello' }],
    ['an app that is not bundled', { url: 'chrome-extension://abc/app.html?app=other' }],
    ['two app ids', { url: 'chrome-extension://abc/app.html?app=hello&app=notes' }],
    ['no app id', { url: 'chrome-extension://abc/app.html' }],
  ])('is refused from %s', (_, change) => {
    expect(appGrantOrigin({ ...sender, ...change }, ext, bundled)).toBeNull();
  });

  it('reads only a well-formed id from the host URL', () => {
    expect(appIdFromHostUrl('chrome-extension://abc/app.html?app=hello#x', ext.origin)).toBe('hello');
    expect(appIdFromHostUrl('chrome-extension://abc/app.html?app=../popup', ext.origin)).toBeNull();
    expect(appIdFromHostUrl('chrome-extension://abc/app.html?app=Hello', ext.origin)).toBeNull();
    expect(appIdFromHostUrl('not a url', ext.origin)).toBeNull();
  });
});

describe('app build', () => {
  it('puts the CSP and the frame script before everything of the app', () => {
    const html = injectAppHead('<!doctype html>\n<html><head><script src="app.js"></script></head></html>', 'x');
    expect(html.startsWith(`<!doctype html>\n${APP_HEAD}<html>`)).toBe(true);
    expect(APP_HEAD).toContain(APP_CSP);
    expect(APP_HEAD).toContain(`src="${APP_FRAME_SCRIPT}"`);
    expect(injectAppHead('<p>no doctype</p>', 'x').startsWith(APP_HEAD)).toBe(true);
  });

  it.each([
    ['an inline script', '<script>alert(1)</script>'],
    ['an inline handler', '<button onclick="go()">go</button>'],
    ['a javascript: URL', '<a href="javascript:go()">go</a>'],
  ])('stops on %s', (_, html) => {
    expect(() => injectAppHead(html, 'apps/x/index.html')).toThrow(expect.objectContaining({ code: 'INVALID_APP_MANIFEST' }));
  });

  it('lets an empty script element and external scripts through', () => {
    expect(() => injectAppHead('<script src="a.js"></script><script type="module" src="b.js"></script>', 'x')).not.toThrow();
  });

  it('collects each app folder with its files and pages, and refuses a folder without index.html', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'p2pb-apps-'));
    mkdirSync(path.join(root, 'one/img'), { recursive: true });
    writeFileSync(path.join(root, 'one/manifest.json'), JSON.stringify(HELLO));
    writeFileSync(path.join(root, 'one/index.html'), '<!doctype html><script src="app.js"></script>');
    writeFileSync(path.join(root, 'one/app.js'), '1');
    writeFileSync(path.join(root, 'one/img/a.png'), '');
    mkdirSync(path.join(root, 'not-an-app'));
    const [one] = collectApps(root);
    expect(one!.id).toBe('one');
    expect(one!.pages).toEqual(['apps/one/index.html']);
    expect(one!.files.map((f) => f.relativeDest)).toEqual(['apps/one/app.js', 'apps/one/img/a.png', 'apps/one/index.html', 'apps/one/manifest.json']);
    expect(one!.files.find((f) => f.relativeDest.endsWith('.html'))!.contents).toContain(APP_CSP);
    mkdirSync(path.join(root, 'two'));
    writeFileSync(path.join(root, 'two/manifest.json'), JSON.stringify(HELLO));
    expect(() => collectApps(root)).toThrow(/no index.html/);
  });

  it('builds every app in the repository', () => {
    expect(collectApps(REPO_APPS).map((a) => a.id)).toContain('hello');
  });
});

/** A window-ish object the host posts to; records what it got. */
function fakeFrame() {
  const got: unknown[] = [];
  return { got, win: { postMessage: (m: unknown, target: string) => got.push({ m, target }) } as unknown as Window };
}

function fakePort() {
  const sent: any[] = [];
  let onMessage: (m: unknown) => void = () => {};
  let onDisconnect: () => void = () => {};
  const port: HostPort = {
    postMessage: (m) => sent.push(m),
    onMessage: { addListener: (cb) => void (onMessage = cb) },
    onDisconnect: { addListener: (cb) => void (onDisconnect = cb) },
  };
  return { port, sent, answer: (m: unknown) => onMessage(m), drop: () => onDisconnect() };
}

const request = (id: string, method: string, params?: unknown) => ({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'bridge', id, method, ...(params === undefined ? {} : { params }) });

describe('app host', () => {
  function setup() {
    const frame = fakeFrame();
    const ports: ReturnType<typeof fakePort>[] = [];
    const log = createMemoryLogger();
    const app: AppInfo = { id: 'hello', manifest: parseAppManifest(HELLO) };
    const host = createAppHost({ app, frame: () => frame.win, connect: () => (ports.push(fakePort()), ports.at(-1)!.port), log });
    const fromFrame = (data: unknown, source: unknown = frame.win, origin = 'null') => host.handleMessage({ data, source, origin } as unknown as MessageEvent);
    return { frame, ports, log, fromFrame };
  }

  it('forwards exactly method and params from its own frame, and relays the answer and events', () => {
    const { frame, ports, fromFrame } = setup();
    fromFrame(request('a-1', 'p2p_requestIdentity'));
    expect(ports[0]!.sent).toEqual([{ v: PROTOCOL_VERSION, type: 'request', id: 'a-1', method: 'p2p_requestIdentity' }]);
    ports[0]!.answer({ v: PROTOCOL_VERSION, type: 'response', id: 'a-1', result: { publicKey: 'z' } });
    ports[0]!.answer({ v: PROTOCOL_VERSION, type: 'event', event: 'identityChanged', data: null });
    expect(frame.got).toEqual([
      { m: { channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: 'a-1', result: { publicKey: 'z' } }, target: '*' },
      { m: { channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', event: 'identityChanged', data: null }, target: '*' },
    ]);
  });

  it('ignores messages from anything but its frame, and from a frame that is not opaque', () => {
    const { ports, fromFrame } = setup();
    fromFrame(request('a-1', 'p2p_requestIdentity'), {} as Window);
    fromFrame(request('a-2', 'p2p_requestIdentity'), null);
    fromFrame(request('a-3', 'p2p_requestIdentity'), undefined, 'chrome-extension://abc');
    expect(ports).toHaveLength(0);
  });

  it('drops anything but the exact request shape: the frame cannot name an origin', () => {
    const { ports, log, fromFrame } = setup();
    fromFrame({ ...request('a-1', 'p2p_requestIdentity'), origin: 'app:other' });
    fromFrame({ ...request('a-2', 'p2p_requestIdentity'), v: 99 });
    fromFrame('p2p_requestIdentity');
    expect(ports).toHaveLength(0);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(3);
  });

  it('answers an undeclared feed itself, without asking the background', () => {
    const { frame, ports, fromFrame } = setup();
    fromFrame(request('a-1', 'p2p_readFeed', { name: 'posts' }));
    expect(ports).toHaveLength(0);
    expect(frame.got[0]).toMatchObject({ m: { id: 'a-1', error: { code: ProviderErrorCode.UNAUTHORIZED } } });
  });

  it('says DISCONNECTED for requests in flight when the background goes, and reconnects on the next', () => {
    const { frame, ports, fromFrame } = setup();
    fromFrame(request('a-1', 'p2p_getIdentity'));
    ports[0]!.drop();
    expect(frame.got[0]).toMatchObject({ m: { id: 'a-1', error: { code: ProviderErrorCode.DISCONNECTED } } });
    fromFrame(request('a-2', 'p2p_getIdentity'));
    expect(ports).toHaveLength(2);
    expect(ports[1]!.sent[0]).toMatchObject({ id: 'a-2' });
  });

  it('refuses a request over the size limit', () => {
    const { frame, ports, fromFrame } = setup();
    fromFrame(request('a-1', 'p2p_sign', { message: 'x'.repeat(2 * 1024 * 1024) }));
    expect(ports).toHaveLength(0);
    expect(frame.got[0]).toMatchObject({ m: { id: 'a-1', error: { code: ProviderErrorCode.INVALID_REQUEST } } });
  });
});
