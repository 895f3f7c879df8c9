/**
 * The app host page. `app.html?app=<id>` opens a bundled app in this tab;
 * `app.html?app=<id>&author=<key>` opens the app that key published as its feed `apps/<id>`
 * (a web+p2p:app/<key>/<id> link lands here), after the person saw who signed it and what it
 * reads and writes. Either way the app's code runs in a sandboxed frame (opaque origin, no
 * extension APIs, the app CSP); this page is the only thing the frame can talk to, and it
 * forwards window.p2p requests to the background over PORT_APP (lib/apps/host.ts). The
 * background takes the grant subject, `app:<id>` or `app:<key>/<id>`, from this page's URL.
 * Without an app it lists the bundled apps and lets an author publish one.
 */
import {
  APP_FRAME_SANDBOX,
  APP_SHELL_PATH,
  APPS_DIR,
  PORT_APP,
  SHELL_DOCUMENT_MESSAGE,
  appAuthorFromHostUrl,
  appFeedName,
  appIdFromHostUrl,
  appLink,
  appOrigin,
  bundledApps,
  consentCovers,
  consentKey,
  consentOf,
  consentsIn,
  createAppHost,
  getBundledApp,
  newFeeds,
  openAppPackage,
  openPublishedApp,
  packApp,
  publishUpdates,
  publishedAppOrigin,
  renderPublishedDocument,
  type AppConsent,
  type AppInfo,
  type PublishedApp,
} from '@/lib/apps/index.ts';
import { fromBase64url, toBase64url } from '@/lib/util/bytes.ts';
import { createLogger } from '@/lib/util/log.ts';
import { connectUi, type UiClient } from '@/ui/client.ts';
import { errorText, h, render, shortKey } from '@/ui/dom.ts';
import { unlockForm } from '@/ui/forms.ts';

const log = createLogger('app-host');
const main = document.getElementById('main')!;
const id = appIdFromHostUrl(location.href, location.origin);
const author = appAuthorFromHostUrl(location.href, location.origin);
const app = id === null || author !== null ? undefined : getBundledApp(id);

const codeOf = (err: unknown): string => String((err as { code?: unknown })?.code ?? 'ERROR');
const showError = (title: string, err: unknown) =>
  render(
    main,
    h('section', { class: 'card stack consent' },
      h('h2', {}, title),
      h('p', { class: 'error', role: 'alert', testid: 'app-error', 'data-code': codeOf(err) }, `${errorText(err)} (${codeOf(err)})`),
    ),
  );

// ---- the sandboxed frame, for either kind of app --------------------------------------------

function frameFor(info: AppInfo, origin: string, src: string, allowed: string): HTMLIFrameElement {
  document.title = info.manifest.name;
  document.getElementById('app-name')!.textContent = info.manifest.name;
  document.getElementById('app-origin')!.textContent = origin;
  // Narrow where the frame may go to the app's own document(s) (a second policy only adds limits).
  const csp = document.createElement('meta');
  csp.httpEquiv = 'Content-Security-Policy';
  csp.content = `frame-src ${allowed}; child-src ${allowed}`;
  document.head.append(csp);
  const frame = h('iframe', {
    class: 'app-frame',
    sandbox: APP_FRAME_SANDBOX,
    src,
    title: info.manifest.name,
    referrerpolicy: 'no-referrer',
    testid: 'app-frame',
  });
  const bridge = createAppHost({
    app: info,
    frame: () => frame.contentWindow,
    connect: () => browser.runtime.connect({ name: PORT_APP }),
    log,
  });
  window.addEventListener('message', (event) => bridge.handleMessage(event));
  return frame;
}

/** A deep link into the app (`app.html?app=microblog#profile=<key>`): handed to its document as its own fragment. */
const fragment = /^#[A-Za-z0-9=&._~-]{1,200}$/.test(location.hash) ? location.hash : '';

function host(app: AppInfo): void {
  const folder = new URL(`/${APPS_DIR}/${app.id}/`, location.origin).href;
  render(main, frameFor(app, appOrigin(app.id), `${folder}index.html${fragment}`, folder));
}

/** Runs a verified published app: its document is written into the packaged shell, in the same sandbox. */
async function runPublished(published: PublishedApp): Promise<void> {
  const html = await renderPublishedDocument(published.pkg);
  const shell = new URL(APP_SHELL_PATH, location.origin).href;
  const info: AppInfo = { id: published.pkg.id, manifest: published.pkg.manifest };
  const frame = frameFor(info, publishedAppOrigin(published.author, published.pkg.id), shell, shell);
  frame.addEventListener('load', () => frame.contentWindow?.postMessage({ type: SHELL_DOCUMENT_MESSAGE, html }, '*'), { once: true });
  render(main, frame);
}

// ---- published apps: fetch, verify, consent -------------------------------------------------

const feedList = (testid: string, feeds: readonly string[], grown: readonly string[]) =>
  feeds.length === 0
    ? h('p', { class: 'muted', testid }, 'nothing')
    : h('ul', { class: 'feeds', testid }, ...feeds.map((f) => h('li', { class: grown.includes(f) ? 'grown' : '', 'data-feed': f }, f, grown.includes(f) ? ' (new)' : '')));

function consentView(published: PublishedApp, previous: AppConsent | undefined, mine: string | undefined, onOpen: () => void): HTMLElement {
  const { manifest } = published.pkg;
  const grown = previous ? newFeeds(previous, manifest) : { reads: [], writes: [] };
  const open = h('button', { class: 'primary', testid: 'consent-open' }, 'Open');
  const cancel = h('button', { testid: 'consent-cancel' }, 'Cancel');
  open.addEventListener('click', () => {
    open.disabled = true;
    onOpen();
  });
  cancel.addEventListener('click', () => render(main, h('section', { class: 'card', testid: 'consent-cancelled' }, h('p', {}, 'Not opened. Nothing of it ran.'))));
  return h(
    'section',
    { class: 'card stack consent', testid: 'consent' },
    h('p', { class: 'muted' }, previous ? 'A new version of an app you opened before asks for more' : 'Open an app published on the network?'),
    h('h2', { testid: 'consent-name' }, manifest.name),
    h('p', { class: 'muted' }, 'Version ', h('span', { testid: 'consent-version' }, manifest.version), previous ? ` (you opened ${previous.version})` : '', ' · app id ', h('code', {}, published.pkg.id)),
    manifest.description ? h('p', { testid: 'consent-description' }, manifest.description) : null,
    h('p', { testid: 'consent-signer' }, 'Signed by ', mine ? h('strong', {}, `your identity “${mine}” `) : null),
    h('p', { class: 'key', testid: 'consent-author' }, published.author),
    h('p', { class: 'muted' }, 'Only this key could have published it. Anyone can publish an app under any name: trust the key, not the name.'),
    h('h3', {}, 'It will read'),
    feedList('consent-reads', manifest.reads, grown.reads),
    h('h3', {}, 'It will write'),
    feedList('consent-writes', manifest.writes, grown.writes),
    h('p', { class: 'muted' }, 'Only feeds of the identity you choose for it when it asks, and of the people that identity follows. It runs sandboxed: no network but window.p2p, no extension, no storage of its own. Its subject for grants is ', h('code', { testid: 'consent-origin' }, publishedAppOrigin(published.author, published.pkg.id)), '.'),
    h('div', { class: 'buttons' }, cancel, open),
  );
}

async function published(id: string, author: string): Promise<void> {
  render(main, h('p', { class: 'empty', testid: 'app-fetching' }, `Fetching app “${id}” of ${shortKey(author)}…`));
  const ui = connectUi();
  const state = await ui.request('state.get');
  if (state.vault !== 'unlocked') {
    if (state.vault === 'uninitialized') return showError('No identity yet', Object.assign(new Error('Create an identity in the popup first.'), { code: 'VAULT_UNINITIALIZED' }));
    return render(main, unlockForm(ui, () => void published(id, author)));
  }
  const identity = state.activeIdentity ?? state.identities[0]?.id;
  if (!identity) return showError('No identity yet', Object.assign(new Error('Create an identity in the popup first.'), { code: 'NO_IDENTITY' }));
  let app: PublishedApp;
  try {
    // fresh: the newest version the author has, when a holder answers in time (else the one held).
    const view = await ui.request('feed.read', { identity, author, name: appFeedName(id), fresh: true });
    app = await openPublishedApp(fromBase64url(view.update), author, id);
  } catch (err) {
    return showError('This app cannot be opened', err);
  }
  const key = consentKey(author, id);
  const previous = ((await browser.storage.local.get(key)) as Record<string, AppConsent | undefined>)[key];
  const accept = async () => {
    await browser.storage.local.set({ [key]: consentOf(app, Date.now()) });
    await runPublished(app);
  };
  if (consentCovers(previous, app)) {
    // Same author, nothing it did not have: a new version replaces the old without asking.
    if (previous!.sha256 !== app.header.sha256) await browser.storage.local.set({ [key]: consentOf(app, Date.now()) });
    return runPublished(app);
  }
  const mine = state.identities.find((i) => i.publicKey === author)?.displayName;
  render(main, consentView(app, previous, mine, () => void accept().catch((err) => showError('This app cannot be opened', err))));
  if (!mine) void nameSigner(ui, identity, author);
}

/**
 * What the signer calls itself, from its own signed statement (a lookup of up to a few seconds
 * when its profile is not held), added to the consent page once known: a name anyone could take,
 * so it stays next to the key, which is what the person trusts.
 */
async function nameSigner(ui: UiClient, identity: string, author: string): Promise<void> {
  const [resolved] = await ui.request('feed.resolve', { identity, keys: [author] }).catch(() => []);
  const name = resolved?.statement?.displayName;
  const line = document.querySelector<HTMLElement>('[data-testid="consent-signer"]');
  if (!name || !line) return;
  line.append(h('strong', { testid: 'consent-signer-name' }, `a key that calls itself “${name}”`), ' (anyone can take a name: check the key)');
}

// ---- the list, and publishing --------------------------------------------------------------

async function readFolder(files: FileList): Promise<{ id: string; files: Map<string, Uint8Array> }> {
  const out = new Map<string, Uint8Array>();
  let root = '';
  for (const file of files) {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const [first, ...rest] = rel.split('/');
    root ||= first!;
    if (rest.some((segment) => segment.startsWith('.'))) continue; // .DS_Store, .git: not the app's (as pack-app)
    out.set(rest.length ? rest.join('/') : rel, new Uint8Array(await file.arrayBuffer()));
  }
  return { id: root, files: out };
}

/** Publishes a package as `identity` into its feed apps/<id>: chunks first, header last. */
async function publish(ui: UiClient, identity: string, publicKey: string, pkgBytes: Uint8Array): Promise<string> {
  const pkg = openAppPackage(pkgBytes);
  const name = appFeedName(pkg.id);
  const current = await ui.request('feed.read', { identity, author: publicKey, name });
  const updates = await publishUpdates(fromBase64url(current.update), pkg, pkgBytes);
  for (const update of updates) await ui.request('feed.write', { identity, name, update: toBase64url(update) });
  return appLink(publicKey, pkg.id);
}

function publishCard(): HTMLElement {
  const ui = connectUi();
  const select = h('select', { testid: 'publish-identity' });
  const folder = h('input', { type: 'file', webkitdirectory: true, testid: 'publish-folder' });
  const file = h('input', { type: 'file', accept: '.p2papp', testid: 'publish-file' });
  const status = h('p', { class: 'muted', testid: 'publish-status', role: 'status' });
  const go = async (make: () => Promise<Uint8Array>) => {
    status.className = 'muted';
    status.textContent = 'Publishing…';
    try {
      const identity = select.value;
      const state = await ui.request('state.get');
      const who = state.identities.find((i) => i.id === identity);
      if (!who) throw new Error('Choose an identity (unlock the vault in the popup).');
      const link = await publish(ui, identity, who.publicKey, await make());
      status.replaceChildren('Published. Share this link: ', h('code', { testid: 'publish-link' }, link));
    } catch (err) {
      status.className = 'error';
      status.dataset.code = codeOf(err);
      status.textContent = `${errorText(err)} (${codeOf(err)})`;
    }
  };
  folder.addEventListener('change', () => {
    if (folder.files?.length) void go(async () => {
      const { id, files } = await readFolder(folder.files!);
      return packApp(id, files).bytes;
    });
  });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen) void go(async () => new Uint8Array(await chosen.arrayBuffer()));
  });
  ui.request('state.get').then(
    (state) => {
      select.replaceChildren(...state.identities.map((i) => h('option', { value: i.id, selected: i.id === state.activeIdentity }, `${i.displayName} · ${shortKey(i.publicKey)}`)));
    },
    (err: unknown) => log.warn('no state', err),
  );
  return h(
    'section',
    { class: 'card stack', testid: 'publish' },
    h('h2', {}, 'Publish an app'),
    h('p', { class: 'muted' }, 'Publish an app folder (manifest.json, index.html, its files; at most 5 MiB) as a feed of one of your identities, and share its web+p2p:app link. A new version replaces the old one for everyone who opens it.'),
    h('label', { class: 'field' }, h('span', {}, 'As'), select),
    h('label', { class: 'field' }, h('span', {}, 'A folder'), folder),
    h('label', { class: 'field' }, h('span', {}, 'Or a package made by p2pb-node pack-app'), file),
    status,
  );
}

/**
 * Published apps the person opened from links: open again, or forget — the consent goes, and so
 * does the app's grant, so opening its link again asks for both anew.
 */
function openedCard(): HTMLElement {
  const list = h('ul', { class: 'list', testid: 'opened-apps' });
  const card = h('section', { class: 'card stack', testid: 'opened', hidden: true }, h('h2', {}, 'Apps you opened from links'), list);
  const draw = async () => {
    const consents = consentsIn(await browser.storage.local.get(null));
    card.hidden = consents.length === 0;
    list.replaceChildren(
      ...consents.map((c) => {
        const error = h('span', { class: 'error' });
        const forget = h('button', { testid: 'opened-forget', title: 'Forget this app: its consent and its grant' }, 'Forget');
        forget.addEventListener('click', () => {
          void (async () => {
            await browser.storage.local.remove(consentKey(c.author, c.id));
            try {
              await connectUi().request('grant.revoke', { origin: publishedAppOrigin(c.author, c.id) });
            } catch (err) {
              if (codeOf(err) !== 'UNKNOWN_GRANT') throw err; // it never asked for an identity
            }
            await draw();
          })().catch((err: unknown) => (error.textContent = errorText(err)));
        });
        return h(
          'li',
          { testid: 'opened-app', 'data-app': c.id, 'data-author': c.author },
          h('a', { href: `?app=${encodeURIComponent(c.id)}&author=${encodeURIComponent(c.author)}`, testid: 'opened-open' }, c.name ?? c.id),
          h('span', { class: 'muted' }, ` ${c.version} · by ${shortKey(c.author)} · reads ${c.reads.join(', ') || 'nothing'} · writes ${c.writes.join(', ') || 'nothing'} `),
          forget,
          error,
        );
      }),
    );
  };
  draw().catch((err: unknown) => log.warn('cannot list opened apps', err));
  return card;
}

function launcher(): void {
  document.title = 'P2P Browser — apps';
  main.className = 'launcher';
  render(
    main,
    id !== null || new URLSearchParams(location.search).has('app')
      ? h('p', { class: 'error', testid: 'app-unknown' }, 'There is no such app in P2P Browser.')
      : null,
    ...bundledApps().map((a) =>
      h(
        'a',
        { class: 'item', href: `?app=${encodeURIComponent(a.id)}`, testid: 'app-link', 'data-app': a.id },
        h('span', { class: 'name' }, a.manifest.name),
        h('span', { class: 'muted' }, a.manifest.description),
      ),
    ),
    openedCard(),
    publishCard(),
  );
}

if (id !== null && typeof author === 'string') {
  main.className = 'launcher';
  published(id, author).catch((err: unknown) => showError('This app cannot be opened', err));
} else if (app) host(app);
else launcher();
