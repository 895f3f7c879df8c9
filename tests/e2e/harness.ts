// End-to-end test rig: launch headless Chromium / Firefox ESR with the built extension, open
// extension pages, wait for pages the extension opens itself, stop the Chromium service worker,
// serve test pages on two loopback origins, take screenshots, surface console errors.
//
// Run e2e tests only through `npm run test:e2e` (tests/e2e/netns-run.sh): launchBrowser refuses
// to start a browser outside the private network namespace.
//
// Facts this relies on (measured, see /work/shared/TESTING.md and tests/e2e/README.md):
// - Chromium: puppeteer-core `enableExtensions: true, pipe: true` + `browser.installExtension`.
// - Firefox: WebDriver BiDi; `browser.installExtension` installs a temporary add-on. BiDi refuses
//   to navigate to moz-extension:// URLs, so extension pages are opened with `tabs.create` from an
//   extension page that is already open (the extension's onboarding tab, opened on install).
//   The add-on UUID is pinned with the pref `extensions.webextensions.uuids`, so the base URL is
//   known before install.
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, {
  type Browser,
  type ConsoleMessage,
  type Page,
  type Target,
  type WebWorker,
} from 'puppeteer-core';
import { afterAll, afterEach, beforeEach } from 'vitest';

export type BrowserKind = 'chromium' | 'firefox';

/** Repository root (this file is tests/e2e/harness.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where `npm run build` puts each browser's extension. */
export const EXTENSION_BUILDS: Record<BrowserKind, string> = {
  chromium: path.join(REPO_ROOT, '.output/chrome-mv3'),
  firefox: path.join(REPO_ROOT, '.output/firefox-mv3'),
};

/** A small extension with the product's page contract, used by rig.e2e.ts. */
export const RIG_FIXTURE_EXTENSION = path.join(REPO_ROOT, 'tests/e2e/fixtures/rig-extension');

/** Fixed moz-extension UUID for every add-on the harness installs (one add-on per profile). */
export const FIREFOX_EXTENSION_UUID = '6d1f2a4e-0b7c-4e51-9a3d-2f8e5c7b1a90';

export const CHROMIUM_EXECUTABLE = process.env.P2PB_CHROMIUM ?? '/usr/lib/chromium/chromium';
export const FIREFOX_EXECUTABLE = process.env.P2PB_FIREFOX ?? '/usr/bin/firefox-esr';

/** Default wait for a page/target/worker event. Well below vitest's 120 s test timeout. */
export const DEFAULT_WAIT_MS = 20_000;

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox', // we run as root
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-default-apps',
  '--disable-breakpad',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
  // Extension pages gather host ICE candidates on loopback too (web pages need the veth).
  '--allow-loopback-in-peer-connection',
  // Chromium still looks up Google hosts (accounts.google.com ListAccounts, which no flag turns
  // off; update.googleapis.com and clients2.google.com). Nothing could leave the namespace
  // anyway; this keeps them from even trying. Other names (localhost, *.local for mDNS ICE) and
  // IP literals are untouched.
  '--host-resolver-rules=' +
    ['google.com', '*.google.com', '*.googleapis.com', '*.gvt1.com', '*.gstatic.com', '*.googleusercontent.com', '*.doubleclick.net']
      .map((h) => `MAP ${h} ~NOTFOUND`)
      .join(', '),
];

/**
 * Firefox prefs on top of puppeteer's own test profile defaults (which already turn off app and
 * add-on updates, safebrowsing lists, remote settings, Normandy/Shield, health report, search
 * updates, SNTP, speculative connections and first-run pages).
 */
export function firefoxPrefs(geckoId: string, uuid: string = FIREFOX_EXTENSION_UUID): Record<string, unknown> {
  return {
    // Pin the add-on's moz-extension:// UUID so the base URL is known before install.
    'extensions.webextensions.uuids': JSON.stringify({ [geckoId]: uuid }),
    // Console messages of extension pages and the background page go to stdout (collected).
    'devtools.console.stdout.content': true,
    // Temporary add-ons: no signature needed; keep the add-on manager off the network.
    'xpinstall.signatures.required': false,
    'extensions.blocklist.enabled': false,
    'extensions.systemAddon.update.enabled': false,
    'extensions.getAddons.showPane': false,
    'extensions.htmlaboutaddons.recommendations.enabled': false,
    'extensions.quarantinedDomains.enabled': false,
    'app.update.auto': false,
    'app.update.enabled': false,
    'app.update.staging.enabled': false,
    'browser.aboutwelcome.enabled': false,
    // Telemetry, studies, experiments, Pocket, messaging.
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'toolkit.telemetry.archive.enabled': false,
    'toolkit.telemetry.server': 'data:,',
    'toolkit.telemetry.updatePing.enabled': false,
    'toolkit.telemetry.shutdownPingSender.enabled': false,
    'toolkit.telemetry.firstShutdownPing.enabled': false,
    'toolkit.telemetry.newProfilePing.enabled': false,
    'toolkit.telemetry.bhrPing.enabled': false,
    'datareporting.usage.uploadEnabled': false,
    'app.shield.optoutstudies.enabled': false,
    'app.normandy.enabled': false,
    'messaging-system.rsexperimentloader.enabled': false,
    'browser.discovery.enabled': false,
    'browser.ping-centre.telemetry': false,
    'browser.newtabpage.activity-stream.feeds.telemetry': false,
    'browser.newtabpage.activity-stream.telemetry': false,
    'browser.newtabpage.activity-stream.feeds.section.topstories': false,
    'browser.newtabpage.activity-stream.feeds.snippets': false,
    'browser.newtabpage.activity-stream.showSponsored': false,
    'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
    'browser.newtabpage.activity-stream.default.sites': '',
    'browser.topsites.contile.enabled': false,
    'extensions.pocket.enabled': false,
    'browser.vpn_promo.enabled': false,
    'identity.fxaccounts.enabled': false,
    // Connectivity probes, captive portal, DNS-over-HTTPS, push, geolocation, region lookup.
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'captivedetect.canonicalURL': '',
    'network.trr.mode': 5,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    'network.predictor.enabled': false,
    'network.http.speculative-parallel-limit': 0,
    'browser.places.speculativeConnect.enabled': false,
    'browser.urlbar.speculativeConnect.enabled': false,
    'dom.push.enabled': false,
    'dom.push.connection.enabled': false,
    'dom.push.serverURL': '',
    'geo.provider.network.url': '',
    'browser.region.network.url': '',
    'browser.region.update.enabled': false,
    'browser.search.geoip.url': '',
    // Safebrowsing: puppeteer turns the features off; also stop list updates.
    'browser.safebrowsing.update.enabled': false,
    'browser.safebrowsing.provider.google.updateURL': '',
    'browser.safebrowsing.provider.google4.updateURL': '',
    'browser.safebrowsing.provider.mozilla.updateURL': '',
    // Certificate checks and CRLite/intermediate downloads (remote settings is already a dummy).
    'security.OCSP.enabled': 0,
    'security.remote_settings.crlite_filters.enabled': false,
    'security.remote_settings.intermediates.enabled': false,
    // Local ML models (translations, smart tab groups) and their downloads.
    'browser.ml.enable': false,
    'browser.translations.enable': false,
    'media.gmp-gmpopenh264.enabled': false,
    'media.gmp-widevinecdm.enabled': false,
    'media.gmp-manager.updateEnabled': false,
    // Crash reporting.
    'browser.tabs.crashReporting.sendReport': false,
    'breakpad.reportURL': '',
    // No auto-https upgrade of http://127.0.0.1 test pages (it is local anyway; be explicit).
    'dom.security.https_first': false,
    'dom.security.https_only_mode': false,
  };
}

/**
 * The browsers e2e tests should cover: P2PB_E2E_BROWSERS=chromium (or firefox, or both comma-
 * separated) narrows a run; default both. Use with describe.each(browserKinds()).
 */
export function browserKinds(): BrowserKind[] {
  const raw = process.env.P2PB_E2E_BROWSERS?.trim();
  if (!raw) return ['chromium', 'firefox'];
  const kinds = raw.split(',').map((k) => k.trim());
  for (const k of kinds) if (k !== 'chromium' && k !== 'firefox') throw new Error(`P2PB_E2E_BROWSERS: unknown browser ${k}`);
  return kinds as BrowserKind[];
}

// ---------------------------------------------------------------------------------------------
// Private network guard

/**
 * Throws unless this process runs in the private network namespace set up by
 * tests/e2e/netns-run.sh (only lo, p2pb0, p2pb1 exist). Set P2PB_E2E_ALLOW_HOST_NETWORK=1 to
 * skip the check (never in CI).
 */
export function assertPrivateNetwork(): void {
  if (process.env.P2PB_E2E_ALLOW_HOST_NETWORK === '1') return;
  const names = Object.keys(networkInterfaces());
  const foreign = names.filter((n) => !['lo', 'p2pb0', 'p2pb1'].includes(n));
  let sameAsInit = false;
  try {
    sameAsInit = readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    // /proc/1 not readable (unprivileged): the interface check stands alone.
  }
  if (process.env.P2PB_NETNS !== '1' || foreign.length > 0 || sameAsInit) {
    throw new Error(
      `e2e tests must run inside the private network namespace (npm run test:e2e, or ` +
        `tests/e2e/netns-run.sh vitest run --config vitest.e2e.config.ts); ` +
        `interfaces seen: ${names.join(', ')}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Console errors

export interface ConsoleEntry {
  /** ms since epoch */
  time: number;
  /** 'page' | 'background_page' | 'service_worker' */
  source: string;
  url: string;
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Launch

export interface LaunchOptions {
  /** Unpacked extension dir. Default: .output/chrome-mv3 or .output/firefox-mv3. */
  extensionPath?: string;
  /** Launch without installing any extension. */
  noExtension?: boolean;
  /** Extra Chromium command-line args. */
  args?: string[];
  /** Extra Firefox prefs (override the harness's). */
  prefs?: Record<string, unknown>;
  /** Firefox add-on UUID to pin. Default FIREFOX_EXTENSION_UUID. */
  firefoxUuid?: string;
  /** Pipe browser stdout/stderr to this process (debugging). */
  dumpio?: boolean;
  /** Browser start timeout, ms. Default 30 000. */
  timeout?: number;
  /** Where to make the profile directory (default the system temp dir): e.g. a small disk. */
  profileParent?: string;
}

export interface BrowserHandle {
  readonly kind: BrowserKind;
  readonly browser: Browser;
  /** Chromium: the extension id. Firefox: the gecko id. '' with noExtension. */
  readonly extensionId: string;
  /** `chrome-extension://<id>/` or `moz-extension://<uuid>/` (with trailing slash). '' with noExtension. */
  readonly baseUrl: string;
  /** Fresh temporary profile dir, removed by close(). */
  readonly profileDir: string;
  /** Console errors and uncaught exceptions seen in pages and extension workers, in order. */
  readonly consoleErrors: ConsoleEntry[];
  /** Time taken by launch + install, ms. */
  readonly launchMs: number;
  /** Closes the browser and removes the profile. Idempotent; never throws. */
  close(): Promise<void>;
}

const liveHandles = new Set<BrowserHandle>();
/** Handles closed during the current test: their console errors still print if it fails. */
const closedThisTest: BrowserHandle[] = [];
const liveServers = new Set<StaticServer>();
const kindOfBrowser = new WeakMap<Browser, BrowserKind>();

/** Launches a fresh headless browser with a fresh profile and installs the extension. */
export async function launchBrowser(kind: BrowserKind, opts: LaunchOptions = {}): Promise<BrowserHandle> {
  assertPrivateNetwork();
  const started = Date.now();
  const extensionPath = opts.noExtension ? undefined : path.resolve(opts.extensionPath ?? EXTENSION_BUILDS[kind]);
  if (extensionPath && !existsSync(path.join(extensionPath, 'manifest.json'))) {
    throw new Error(`no extension at ${extensionPath} (run npm run build)`);
  }
  const profileDir = await mkdtemp(path.join(opts.profileParent ?? tmpdir(), `p2pb-e2e-${kind}-`));
  let browser: Browser | undefined;
  try {
    let geckoId = '';
    if (kind === 'chromium') {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM_EXECUTABLE,
        headless: true,
        enableExtensions: true,
        pipe: true,
        userDataDir: profileDir,
        args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
        dumpio: opts.dumpio ?? false,
        timeout: opts.timeout ?? 30_000,
      });
    } else {
      if (extensionPath) {
        const manifest = JSON.parse(readFileSync(path.join(extensionPath, 'manifest.json'), 'utf8'));
        geckoId = manifest?.browser_specific_settings?.gecko?.id ?? manifest?.applications?.gecko?.id ?? '';
        if (!geckoId) throw new Error(`${extensionPath}/manifest.json has no browser_specific_settings.gecko.id`);
      }
      browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: FIREFOX_EXECUTABLE,
        headless: true,
        userDataDir: profileDir,
        extraPrefsFirefox: { ...firefoxPrefs(geckoId || 'none@p2pb.dev', opts.firefoxUuid), ...(opts.prefs ?? {}) },
        env: {
          ...process.env,
          MOZ_CRASHREPORTER_DISABLE: '1',
          // Release builds ignore the services.settings.server pref (puppeteer points it at a
          // data: URL) and keep polling firefox.settings.services.mozilla.com, unless this is set.
          MOZ_REMOTE_SETTINGS_DEVTOOLS: '1',
        },
        dumpio: opts.dumpio ?? false,
        timeout: opts.timeout ?? 30_000,
      });
    }
    kindOfBrowser.set(browser, kind);
    const consoleErrors: ConsoleEntry[] = [];
    // Collect before install, so the first moments of the background are covered.
    let baseUrl = '';
    const collector =
      kind === 'chromium' ? startConsoleCollector(browser, consoleErrors) : collectFirefoxStdoutErrors(browser, consoleErrors);

    let extensionId = '';
    const launchedMs = Date.now() - started;
    if (extensionPath) {
      extensionId = await browser.installExtension(extensionPath);
      if (process.env.P2PB_E2E_DEBUG) console.log(`${kind}: launch ${launchedMs} ms, install ${Date.now() - started - launchedMs} ms`);
      baseUrl =
        kind === 'chromium'
          ? `chrome-extension://${extensionId}/`
          : `moz-extension://${opts.firefoxUuid ?? FIREFOX_EXTENSION_UUID}/`;
      if (kind === 'firefox' && extensionId !== geckoId) {
        throw new Error(`Firefox installed ${extensionId}, expected ${geckoId}: the pinned UUID would not apply`);
      }
    }
    const b = browser;
    let closed = false;
    const handle: BrowserHandle = {
      kind,
      browser: b,
      extensionId,
      baseUrl,
      profileDir,
      consoleErrors,
      launchMs: Date.now() - started,
      async close() {
        if (closed) return;
        closed = true;
        liveHandles.delete(handle);
        closedThisTest.push(handle);
        collector.stop();
        await closeBrowser(b);
        await rm(profileDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
      },
    };
    liveHandles.add(handle);
    return handle;
  } catch (e) {
    if (browser) await closeBrowser(browser);
    await rm(profileDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
    throw e;
  }
}

async function closeBrowser(browser: Browser): Promise<void> {
  const proc = browser.process();
  // Bounded: a wedged browser must not hang the suite; it is killed below.
  await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}

function startConsoleCollector(browser: Browser, out: ConsoleEntry[]): { stop(): void } {
  const seen = new WeakSet<Target>();
  const push = (source: string, url: string, text: string) => out.push({ time: Date.now(), source, url, text });
  const fromMessage = (source: string, fallbackUrl: () => string) => (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    push(source, msg.location()?.url || fallbackUrl(), msg.text());
  };
  const attach = (target: Target) => {
    if (seen.has(target)) return;
    const type = target.type();
    if (type === 'page' || type === 'background_page') {
      seen.add(target);
      target
        .page()
        .then((page) => {
          if (!page) return;
          page.on('console', fromMessage(type, () => page.url()));
          page.on('pageerror', (err) => push(type, page.url(), `uncaught: ${errorText(err)}`));
        })
        .catch(() => {});
    } else if (type === 'service_worker' && target.url().startsWith('chrome-extension://')) {
      seen.add(target);
      target
        .worker()
        .then((worker: WebWorker | null) => {
          if (!worker) return;
          worker.on('console', fromMessage(type, () => worker.url()));
          worker.on('error', (err) => push(type, worker.url(), `uncaught: ${errorText(err)}`));
        })
        .catch(() => {});
    }
  };
  for (const t of browser.targets()) attach(t);
  browser.on('targetcreated', attach);
  browser.on('targetchanged', attach);
  return {
    stop() {
      browser.off('targetcreated', attach);
      browser.off('targetchanged', attach);
    },
  };
}

/**
 * Firefox: BiDi reports no console messages from moz-extension:// documents (pages or the
 * background page). With `devtools.console.stdout.content` (the extension process is a content
 * process) Firefox prints every page's console calls on stdout, as `console.error: "text" …`
 * (no URL), and uncaught exceptions on stderr as `JavaScript error: <url>, line N: Error: …`.
 * Firefox's own chrome code logs there too (`console.error: <module.name>: …`,
 * `JavaScript error: resource://…`): skipped.
 */
function collectFirefoxStdoutErrors(browser: Browser, out: ConsoleEntry[]): { stop(): void } {
  const proc = browser.process();
  let stopped = false;
  for (const stream of [proc?.stdout, proc?.stderr]) {
    if (!stream) continue;
    let partial = '';
    let current: ConsoleEntry | undefined;
    stream.on('data', (chunk: Buffer | string) => {
      if (stopped) return;
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const js = /^JavaScript error: ((?:moz-extension|https?|file|data|blob):[^,]*), line \d+: (.*)$/.exec(line);
        const ce = /^console\.error: (.*)$/.exec(line);
        if (js) {
          current = { time: Date.now(), source: js[1]!.startsWith('moz-extension:') ? 'extension' : 'page', url: js[1]!, text: `uncaught: ${js[2]}` };
          out.push(current);
        } else if (ce && !/^\(?[\w.-]+\)?:(\s|$)/.test(ce[1]!) && !/^\(new \w*Error\(.*chrome:\/\//.test(ce[1]!)) {
          current = { time: Date.now(), source: 'console', url: '', text: ce[1]! };
          out.push(current);
        } else if (current && /^\s/.test(line) && line.trim()) {
          current.text += `\n${line}`;
        } else {
          current = undefined;
        }
      }
    });
  }
  return {
    stop() {
      stopped = true;
    },
  };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/** Formats collected console errors, optionally only those since `sinceMs`. */
export function formatConsoleErrors(handle: BrowserHandle, sinceMs = 0): string {
  const entries = handle.consoleErrors.filter((e) => e.time >= sinceMs);
  if (entries.length === 0) return '';
  return entries.map((e) => `[${handle.kind} ${e.source}] ${e.url}\n    ${e.text}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Extension pages
//
// Chromium reports a target's URL as soon as a navigation commits, so waiting is waitForTarget.
// Firefox (BiDi) sends navigationStarted/navigationCommitted for moz-extension:// documents but
// no load event, so puppeteer never updates such a page's url(): it stays 'about:blank'. There,
// every page target is probed instead: an evaluate in the page that resolves with location.href
// once an extension document has fired load, or with null on pagehide (then it probes the next
// document). Firefox runs the evaluate in the document that is current when the navigation
// commits, so this is event-driven end to end. Use currentUrl(page), not page.url(), on Firefox.

export interface WaitOptions {
  /** ms; default DEFAULT_WAIT_MS */
  timeout?: number;
}

export type PageMatcher = string | ((url: string) => boolean);

export interface WaitForPageOptions extends WaitOptions {
  /** Only pages that appear after this call (default false: an already open page matches too). */
  newOnly?: boolean;
}

function extensionUrl(handle: BrowserHandle, pagePath: string): string {
  if (!handle.baseUrl) throw new Error('this browser was launched without an extension');
  if (/^(chrome|moz)-extension:\/\//.test(pagePath)) return pagePath;
  return handle.baseUrl + pagePath.replace(/^\//, '');
}

function matcherFor(handle: BrowserHandle, match: PageMatcher): (url: string) => boolean {
  if (typeof match === 'function') return (u) => u.startsWith(handle.baseUrl) && match(u);
  const needle = match.startsWith(handle.baseUrl) ? match.slice(handle.baseUrl.length) : match.replace(/^\//, '');
  return (u) => u.startsWith(handle.baseUrl) && u.slice(handle.baseUrl.length).includes(needle);
}

/** The page's current document URL (page.url() is stale for moz-extension:// pages in Firefox). */
export async function currentUrl(page: Page): Promise<string> {
  return page.evaluate(() => location.href);
}

/**
 * Opens an extension page (path relative to the extension root, e.g. 'popup.html?view=tab') in
 * a new tab and returns it once its document has loaded.
 * Chromium: newPage + goto. Firefox: `browser.tabs.create` evaluated in an extension page that is
 * already open (the onboarding tab the extension opens on install; waited for if not there yet).
 */
export async function openExtensionPage(handle: BrowserHandle, pagePath: string, opts: WaitOptions = {}): Promise<Page> {
  const url = extensionUrl(handle, pagePath);
  const timeout = opts.timeout ?? DEFAULT_WAIT_MS;
  if (handle.kind === 'chromium') {
    const page = await handle.browser.newPage();
    await page.goto(url, { waitUntil: 'load', timeout });
    await page.bringToFront(); // headless Chromium gives background tabs no animation frames
    return page;
  }
  const opener = await findExtensionPage(handle, () => true, { timeout }).catch((e) => {
    throw new Error(
      `openExtensionPage(firefox): no page of the extension is open to call tabs.create from. The ` +
        `extension must open popup.html?view=tab on install (runtime.onInstalled). ${errorText(e)}`,
    );
  });
  const opened = findExtensionPage(handle, (u) => u === url, { timeout, newOnly: true });
  opened.catch(() => {}); // surfaced below
  await opener.evaluate(async (u: string) => {
    const g = globalThis as unknown as { browser: { tabs: { create(o: object): Promise<unknown> } } };
    await g.browser.tabs.create({ url: u, active: true });
  }, url);
  const page = await opened;
  await page.bringToFront();
  return page;
}

/**
 * Waits for an extension page the extension opens itself (windows.create / tabs.create), e.g.
 * the approval prompt: `waitForExtensionPage(h, 'prompt.html')`. A string matches when the URL
 * relative to the base URL contains it; a function gets the full URL. Event-driven; call it before
 * the action that opens the page (or rely on it also matching a page that is already open, unless
 * newOnly). Resolves with the page after its load event.
 */
export async function waitForExtensionPage(
  handle: BrowserHandle,
  match: PageMatcher,
  opts: WaitForPageOptions = {},
): Promise<Page> {
  if (!handle.baseUrl) throw new Error('this browser was launched without an extension');
  return findExtensionPage(handle, matcherFor(handle, match), opts).catch((e) => {
    throw new Error(`waitForExtensionPage(${handle.kind}, ${String(match)}): ${errorText(e)}`);
  });
}

async function findExtensionPage(
  handle: BrowserHandle,
  test: (url: string) => boolean,
  opts: WaitForPageOptions,
): Promise<Page> {
  const timeout = opts.timeout ?? DEFAULT_WAIT_MS;
  const { browser, baseUrl } = handle;
  const before = opts.newOnly ? new Set(browser.targets()) : undefined;
  if (handle.kind === 'chromium') {
    const target = await browser
      .waitForTarget((t) => t.type() === 'page' && !before?.has(t) && t.url().startsWith(baseUrl) && test(t.url()), {
        timeout,
      })
      .catch((e) => {
        const open = browser.targets().filter((t) => t.type() === 'page').map((t) => t.url());
        throw new Error(`no matching extension page within ${timeout} ms; open pages: ${open.join(', ')} (${errorText(e)})`);
      });
    const page = await pageOf(target);
    await waitForLoad(page, target.url(), timeout);
    return page;
  }

  // Firefox: probe every page target (see the note at the top of this section).
  const token = randomUUID();
  let settled = false;
  const seenUrls: string[] = [];
  return new Promise<Page>((resolve, reject) => {
    const probed = new WeakSet<Target>();
    const watched = new Set<Page>();
    const finish = (err: Error | null, page?: Page) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      browser.off('targetcreated', consider);
      // Release the probes still pending in other pages (they would otherwise wait for pagehide,
      // and Firefox takes seconds longer to close with script calls pending).
      for (const p of watched) {
        if (p !== page && !p.isClosed()) {
          p.evaluate((t: string) => void dispatchEvent(new Event(`p2pb-e2e-release-${t}`)), token).catch(() => {});
        }
      }
      if (err) reject(err);
      else resolve(page!);
    };
    const timer = setTimeout(() => {
      const wrong = seenUrls.filter((u) => u.startsWith('moz-extension://') && !u.startsWith(baseUrl));
      finish(
        new Error(
          wrong.length > 0
            ? `saw ${wrong.join(', ')}, not under ${baseUrl}: the pinned add-on UUID did not apply`
            : `no matching extension page within ${timeout} ms; documents seen: ${seenUrls.join(', ') || 'none'}`,
        ),
      );
    }, timeout);
    const watch = async (page: Page) => {
      watched.add(page);
      let transientErrors = 0;
      while (!settled) {
        let href: string | null;
        try {
          href = await page.evaluate(probeDocument, baseUrl, token);
          transientErrors = 0;
        } catch (e) {
          if (settled || page.isClosed()) return;
          // The document was replaced while we evaluated in it: probe the new one.
          if (++transientErrors < 20 && /context|destroyed|navigat|detached|discarded|realm|no such frame/i.test(String(e))) continue;
          return; // page or browser gone
        }
        if (href === null) continue; // the document went away: probe the next one
        seenUrls.push(href);
        if (href.startsWith(baseUrl) && test(href)) return finish(null, page);
      }
    };
    function consider(t: Target) {
      if (settled || t.type() !== 'page' || probed.has(t) || before?.has(t)) return;
      probed.add(t);
      t.page()
        .then((page) => page && watch(page))
        .catch(() => {});
    }
    browser.on('targetcreated', consider);
    for (const t of browser.targets()) consider(t);
  });
}

/**
 * Runs in a page: resolves with location.href once this document is an extension page that has
 * fired load and that this token has not reported yet; with null when the document goes away.
 */
function probeDocument(baseUrl: string, token: string): Promise<string | null> {
  const key = Symbol.for('p2pb-e2e-probed');
  const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  const reported = (g[key] ??= new Set<string>());
  const gone = new Promise<null>((resolve) => {
    addEventListener('pagehide', () => resolve(null), { once: true });
    addEventListener(`p2pb-e2e-release-${token}`, () => resolve(null), { once: true });
  });
  if (!location.href.startsWith(baseUrl) || reported.has(token)) return gone;
  const loaded =
    document.readyState === 'complete'
      ? Promise.resolve(location.href)
      : new Promise<string>((resolve) => addEventListener('load', () => resolve(location.href), { once: true }));
  return Promise.race([loaded, gone]).then((href) => {
    if (href !== null) reported.add(token);
    return href;
  });
}

async function pageOf(target: Target): Promise<Page> {
  const page = await target.page();
  if (!page) throw new Error(`target ${target.url()} has no page`);
  return page;
}

/** Resolves once `page` shows a document whose URL starts with `urlPrefix` and that has fired load. */
async function waitForLoad(page: Page, urlPrefix: string, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`timed out waiting for ${urlPrefix} to load`);
    try {
      const loaded = await withTimeout(
        page.evaluate((prefix: string) => {
          if (!location.href.startsWith(prefix)) {
            return new Promise<boolean>((resolve) => addEventListener('pagehide', () => resolve(false), { once: true }));
          }
          if (document.readyState === 'complete') return true;
          return new Promise<boolean>((resolve) => addEventListener('load', () => resolve(true), { once: true }));
        }, urlPrefix),
        remaining,
      );
      if (loaded) return;
    } catch (e) {
      // The document was replaced while we evaluated in it: try again in the new one.
      if (!/context|destroyed|navigat|detached|discarded|realm/i.test(String(e))) throw e;
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Chromium MV3 service worker

function isExtensionWorker(handle: BrowserHandle, t: Target): boolean {
  return t.type() === 'service_worker' && t.url().startsWith(handle.baseUrl);
}

/**
 * Chromium only: the extension's service worker target, waiting for it to be running (it starts
 * again by itself on the next event after stopServiceWorker).
 */
export async function serviceWorkerTarget(handle: BrowserHandle, opts: WaitOptions = {}): Promise<Target> {
  if (handle.kind !== 'chromium') throw new Error('serviceWorkerTarget: Chromium only (Firefox MV3 uses an event page)');
  return handle.browser.waitForTarget((t) => isExtensionWorker(handle, t), { timeout: opts.timeout ?? DEFAULT_WAIT_MS });
}

/**
 * Chromium only: stops the extension's MV3 service worker, like Chrome does after 30 s idle, and
 * resolves once its target is gone. Uses CDP Target.closeTarget on the worker target (what
 * puppeteer's WebWorker.close() does for service workers). No-op if it is not running.
 */
export async function stopServiceWorker(handle: BrowserHandle, opts: WaitOptions = {}): Promise<void> {
  if (handle.kind !== 'chromium') throw new Error('stopServiceWorker: Chromium only');
  const timeout = opts.timeout ?? DEFAULT_WAIT_MS;
  const targets = handle.browser.targets().filter((t) => isExtensionWorker(handle, t));
  if (targets.length === 0) return;
  const session = await handle.browser.target().createCDPSession();
  try {
    await Promise.all(
      targets.map(async (target) => {
        const gone = new Promise<void>((resolve) => {
          const onDestroyed = (t: Target) => {
            if (t !== target) return;
            handle.browser.off('targetdestroyed', onDestroyed);
            resolve();
          };
          handle.browser.on('targetdestroyed', onDestroyed);
          if (!handle.browser.targets().includes(target)) {
            handle.browser.off('targetdestroyed', onDestroyed);
            resolve();
          }
        });
        const worker = await target.worker();
        if (worker) await worker.close();
        else await session.send('Target.closeTarget', { targetId: targetIdOf(target) });
        await withTimeout(gone, timeout).catch(() => {
          throw new Error(`service worker ${target.url()} still running ${timeout} ms after Target.closeTarget`);
        });
      }),
    );
    // Double-check with the browser itself: no service worker of ours is left.
    const { targetInfos } = await session.send('Target.getTargets');
    // Only the stopped workers count: the extension may legitimately start a new one at once
    // (an open extension page reconnecting), which is a restart, not a failure to stop.
    const stopped = new Set(targets.map(targetIdOf));
    const left = targetInfos.filter((i) => i.type === 'service_worker' && stopped.has(i.targetId));
    if (left.length > 0) throw new Error(`service worker still listed after stop: ${left.map((i) => i.url).join(', ')}`);
  } finally {
    await session.detach().catch(() => {});
  }
}

function targetIdOf(target: Target): string {
  // Target has no public id accessor; CDP targets keep it in _targetId.
  return (target as unknown as { _targetId: string })._targetId;
}

// ---------------------------------------------------------------------------------------------
// Static test pages on two loopback origins

export type Route = string | Buffer | { body: string | Buffer; contentType?: string; headers?: Record<string, string> };

export interface StaticServer {
  /** http://127.0.0.1:<portA> */
  readonly origin: string;
  /** http://127.0.0.1:<portB>: same content, a different origin */
  readonly otherOrigin: string;
  readonly origins: readonly [string, string];
  /** URL of `pathname` on origin 0 (default) or 1. */
  url(pathname: string, which?: 0 | 1): string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

function contentTypeOf(p: string): string {
  return CONTENT_TYPES[path.extname(p).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Serves a directory, or a map of path → content (`{ '/index.html': '<!doctype html>…' }`), on
 * 127.0.0.1 at two ports (two origins). node:http only. '/' serves '/index.html'.
 */
export async function startStaticServer(source: string | Record<string, Route>): Promise<StaticServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad request', 'text/plain');
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    if (typeof source === 'string') {
      const root = path.resolve(source);
      const file = path.resolve(root, '.' + pathname);
      if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'forbidden', 'text/plain');
      if (!existsSync(file) || !statSync(file).isFile()) return send(404, 'not found', 'text/plain');
      res.writeHead(200, { 'content-type': contentTypeOf(file), 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
      return;
    }
    const route = source[pathname];
    if (route === undefined) return send(404, 'not found', 'text/plain');
    if (typeof route === 'string' || Buffer.isBuffer(route)) return send(200, route, contentTypeOf(pathname));
    return send(200, route.body, route.contentType ?? contentTypeOf(pathname), route.headers);
  };
  const listen = () =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer(handler);
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
  const servers = await Promise.all([listen(), listen()]);
  const origins = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`) as [string, string];
  let closed = false;
  const server: StaticServer = {
    origin: origins[0],
    otherOrigin: origins[1],
    origins,
    url: (pathname, which = 0) => origins[which] + (pathname.startsWith('/') ? pathname : `/${pathname}`),
    async close() {
      if (closed) return;
      closed = true;
      liveServers.delete(server);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  liveServers.add(server);
  return server;
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/** `artifacts/screenshots/` at the repo root (created). */
export function artifactsDir(): string {
  const dir = path.join(REPO_ROOT, 'artifacts/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Saves a PNG of `page` as artifacts/screenshots/<kind>-<name>.png; returns the file path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const kind = kindOfBrowser.get(page.browser()) ?? 'browser';
  const safe = name.replace(/[^a-zA-Z0-9._-]+/g, '-');
  const file = path.join(artifactsDir(), `${kind}-${safe}.png`);
  // Headless Chromium only paints the tab in front; a capture of any other waits forever.
  await page.bringToFront();
  const data = await page.screenshot({ type: 'png' });
  await writeFile(file, data);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Vitest integration: registered for every test file that imports this module.

let testStartedAt = 0;
try {
  beforeEach(() => {
    testStartedAt = Date.now();
    closedThisTest.length = 0;
  });
  // Registered first, so it runs after the test file's own afterEach hooks (vitest runs them in
  // reverse order), which may already have closed the browsers.
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') {
      for (const h of new Set([...closedThisTest, ...liveHandles])) {
        const text = formatConsoleErrors(h, testStartedAt);
        if (text) console.error(`console errors in ${h.kind} during "${ctx.task.name}":\n${text}`);
      }
    }
    closedThisTest.length = 0;
  });
  // Safety net: a test file that forgot to close (or failed before closing) leaves nothing behind.
  afterAll(async () => {
    for (const h of [...liveHandles]) await h.close();
    for (const s of [...liveServers]) await s.close();
  });
} catch {
  // Imported outside a vitest collection: no hooks.
}
