/**
 * The app host page: `app.html?app=<id>` opens a bundled app in this tab. The app's own
 * documents run in a sandboxed frame (opaque origin, no extension APIs, the app CSP); this page
 * is the only thing the frame can talk to, and it forwards window.p2p requests to the background
 * over PORT_APP (lib/apps/host.ts). The background takes the grant subject, `app:<id>`, from this
 * page's URL. Without a known id it lists the bundled apps.
 */
import {
  APP_FRAME_SANDBOX,
  APPS_DIR,
  PORT_APP,
  appIdFromHostUrl,
  appOrigin,
  bundledApps,
  createAppHost,
  getBundledApp,
  type AppInfo,
} from '@/lib/apps/index.ts';
import { createLogger } from '@/lib/util/log.ts';
import { h, render } from '@/ui/dom.ts';

const log = createLogger('app-host');
const main = document.getElementById('main')!;
const id = appIdFromHostUrl(location.href, location.origin);
const app = id === null ? undefined : getBundledApp(id);

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
  );
}

function host(app: AppInfo): void {
  document.title = app.manifest.name;
  document.getElementById('app-name')!.textContent = app.manifest.name;
  document.getElementById('app-origin')!.textContent = appOrigin(app.id);
  const folder = new URL(`/${APPS_DIR}/${app.id}/`, location.origin).href;
  // Narrow where the frame may go to this app's own folder (a second policy only adds limits).
  const csp = document.createElement('meta');
  csp.httpEquiv = 'Content-Security-Policy';
  csp.content = `frame-src ${folder}; child-src ${folder}`;
  document.head.append(csp);

  const frame = h('iframe', {
    class: 'app-frame',
    sandbox: APP_FRAME_SANDBOX,
    src: `${folder}index.html`,
    title: app.manifest.name,
    referrerpolicy: 'no-referrer',
    testid: 'app-frame',
  });
  const bridge = createAppHost({
    app,
    frame: () => frame.contentWindow,
    connect: () => browser.runtime.connect({ name: PORT_APP }),
    log,
  });
  window.addEventListener('message', (event) => bridge.handleMessage(event));
  render(main, frame);
}

if (app) host(app);
else launcher();
