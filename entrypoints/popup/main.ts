/**
 * The popup (also opened as a full tab on first install, `?view=tab`): set up, unlock and lock
 * the vault; create, switch, rename and delete identities; see and revoke what each site may do;
 * where each network's data is hosted; storage use, and a banner on every view when it is full;
 * back up and restore identities.
 */
import type { GrantView, IdentityView, NetworkView, StorageView, UiState } from '@/lib/protocol/index.ts';
import { renderSVG } from 'uqr';
import { reconnectingUi } from '@/ui/client.ts';
import { errorText, formatBytes, h, render, renderKeepingInputs, shortKey } from '@/ui/dom.ts';
import { field, form, setupForm, unlockForm } from '@/ui/forms.ts';
import { moderationScreen } from '@/ui/moderation.ts';

type Tab = 'identities' | 'networks' | 'sites' | 'moderation' | 'data';

const app = document.getElementById('app')!;
const headerActions = document.getElementById('header-actions')!;
const statusBar = document.getElementById('status')!;
if (new URLSearchParams(location.search).get('view') === 'tab') document.body.classList.add('tab');

let state: UiState | null = null;
let tab: Tab = 'identities';
let renaming: string | null = null;
let confirmingDelete: string | null = null;
let confirmingLeave: string | null = null;
/** `<network id> <host peer id>` of the host whose "Stop hosting" awaits confirmation. */
let confirmingRevoke: string | null = null;
/** Hosting requests in flight and their last errors, by network id: they outlive re-renders. */
const hostingBusy = new Map<string, 'delegate' | 'revoke'>();
const hostingErrors = new Map<string, string>();
let showingQr: string | null = null;

const ui = reconnectingUi((next) => {
  state = next;
  draw();
});
const moderation = moderationScreen(ui);

/** Runs an action, showing its error in `errorEl` (or the page's error line) instead of throwing. */
function act(action: () => Promise<unknown>, errorEl?: HTMLElement): void {
  action().catch((err: unknown) => {
    const target = errorEl ?? document.querySelector<HTMLElement>('[data-testid="page-error"]');
    if (target) target.textContent = errorText(err);
  });
}

/** What the last full redraw showed: most state events repeat it (a UI request, an engine tick), and a redraw for nothing can land between a person's typing and their click. */
let drawn = '';

function draw(): void {
  if (!state) return;
  const view = JSON.stringify([state, tab, renaming, confirmingDelete, confirmingLeave, confirmingRevoke, [...hostingBusy], [...hostingErrors], showingQr]);
  if (view === drawn) return;
  drawn = view;
  drawStatus(state);
  render(headerActions);
  // A state event (the engine's networks changing) must not wipe what the person is typing.
  if (state.vault === 'uninitialized') {
    if (!app.querySelector('[data-testid="setup"]')) render(app, setupForm(ui));
    return;
  }
  if (state.vault === 'locked') {
    if (!app.querySelector('[data-testid="unlock"]')) render(app, storageFullBanner(state.storage, false), unlockForm(ui));
    return;
  }
  render(
    headerActions,
    // Apps open in a tab of their own (app.html lists the bundled apps).
    h('button', { testid: 'open-apps', title: 'Open your apps', onclick: () => act(() => browser.tabs.create({ url: browser.runtime.getURL('/app.html') })) }, 'Apps'),
    h('button', { testid: 'lock', title: 'Lock the vault', onclick: () => act(() => ui.request('vault.lock')) }, 'Lock'),
  );
  const shown = state;
  renderKeepingInputs(app, () => {
    const tabs = h(
      'nav',
      { class: 'tabs', role: 'tablist' },
      ...(['identities', 'networks', 'sites', 'moderation', 'data'] as const).map((t) =>
        h('button', { role: 'tab', 'aria-selected': String(tab === t), testid: `tab-${t}`, onclick: () => ((tab = t), draw()) }, t[0]!.toUpperCase() + t.slice(1)),
      ),
    );
    const body =
      tab === 'identities' ? identitiesView(shown) : tab === 'networks' ? networksView(shown) : tab === 'sites' ? sitesView(shown) : tab === 'moderation' ? moderationView(shown) : dataView(shown.storage);
    return [storageFullBanner(shown.storage, tab !== 'data'), tabs, h('p', { class: 'error', role: 'alert', testid: 'page-error' }), body];
  });
}

/** Blocks, trusts, community lists and "show anyway": the options page's screen, with a way there. */
function moderationView(s: UiState): HTMLElement {
  moderation.refresh(s);
  return h('div', { class: 'stack' },
    h('div', { class: 'buttons' }, h('button', { testid: 'open-options', onclick: () => act(() => browser.runtime.openOptionsPage()) }, 'Open in a tab')),
    moderation.element,
  );
}

function drawStatus(s: UiState): void {
  const engine = s.engine;
  const where = engine?.host === 'offscreen' ? 'offscreen document' : engine?.host === 'background' ? 'background page' : '';
  render(
    statusBar,
    h('span', { class: `dot ${engine?.running ? 'on' : ''}` }),
    h('span', { testid: 'engine-status' }, engine?.running ? `Engine running in the ${where}${engine.webrtc ? ' · WebRTC ready' : ' · no WebRTC'}` : 'Engine not running'),
  );
}

/** Shown above everything while the person's own data does not fit: what failed, what to do. */
function storageFullBanner(storage: StorageView | null, linkToData: boolean): HTMLElement | null {
  if (storage?.status !== 'full') return null;
  const full = storage.full;
  // No role="alert": the popup redraws on every state push, which would announce it each time;
  // #app is already a polite live region.
  return h(
    'div',
    { class: 'banner', testid: 'storage-full' },
    h('strong', {}, 'Storage is full: your latest change was not saved.'),
    h('p', { title: full ? new Date(full.at).toLocaleString() : undefined },
      full ? `It needs ${formatBytes(full.neededBytes)} more (${full.message}). ` : null,
      'Everything saved before is safe; the change is kept and tried again.',
    ),
    h('p', {},
      'To make room, free disk space on this device, and export a backup of your identities so they do not depend on it alone. ',
      storage.cachedBytes > 0
        ? `Cached copies of others' posts (${formatBytes(storage.cachedBytes)} now) are removed first, by themselves.`
        : "Cached copies of others' posts are already removed.",
    ),
    linkToData ? h('div', { class: 'actions' }, h('button', { testid: 'storage-full-open', onclick: () => ((tab = 'data'), draw()) }, 'Storage and backup')) : null,
  );
}

/**
 * Forms built once and kept across redraws: the popup redraws on every state event (a peer
 * connecting, the engine starting), and a form rebuilt between a person's typing and their click
 * would swallow the click on a button no longer in the page.
 */
const kept = new Map<string, HTMLElement>();
function keep(key: string, build: () => HTMLElement): HTMLElement {
  let el = kept.get(key);
  if (!el) kept.set(key, (el = build()));
  return el;
}

// ---- identities -------------------------------------------------------------------------------

function identitiesView(s: UiState): HTMLElement {
  return h(
    'section',
    { class: 'stack' },
    h('ul', { class: 'list', testid: 'identities' }, ...s.identities.map((identity) => identityItem(identity, s.activeIdentity === identity.id))),
    keep('new-identity', () => {
      const name = h('input', { type: 'text', required: true, maxlength: 64, placeholder: 'Name of the new identity', testid: 'new-identity-name', autocomplete: 'off' });
      return h(
        'div',
        { class: 'card' },
        form('new-identity', [field('New identity (an alt: unlinkable to your others)', name)], 'Create', async () => {
          await ui.request('identity.create', { displayName: name.value.trim() });
          name.value = '';
        }),
      );
    }),
  );
}

function identityItem(identity: IdentityView, active: boolean): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' });
  const item = h(
    'li',
    { class: 'item', testid: 'identity', 'data-id': identity.id },
    h('div', { class: 'row' }, h('span', { class: 'name', testid: 'identity-name' }, identity.displayName), active ? h('span', { class: 'badge', testid: 'identity-active' }, 'Default') : null),
    h('div', { class: 'key', title: identity.publicKey }, shortKey(identity.publicKey)),
  );
  if (renaming === identity.id) {
    const input = h('input', { type: 'text', value: identity.displayName, maxlength: 64, testid: 'identity-rename-input' });
    item.append(
      h('div', { class: 'actions' }, input,
        h('button', { class: 'primary', testid: 'identity-rename-save', onclick: () => act(async () => {
          await ui.request('identity.rename', { id: identity.id, displayName: input.value.trim() });
          renaming = null;
          draw();
        }, error) }, 'Save'),
        h('button', { onclick: () => ((renaming = null), draw()) }, 'Cancel'),
      ),
    );
  } else if (confirmingDelete === identity.id) {
    item.append(
      h('div', { class: 'confirm', testid: 'identity-delete-confirmation' },
        h('span', {}, `Delete “${identity.displayName}” from this device? Without a backup its key is gone for good, and sites using it lose access.`),
        h('div', { class: 'buttons' },
          h('button', { onclick: () => ((confirmingDelete = null), draw()) }, 'Keep it'),
          h('button', { class: 'danger solid', testid: 'identity-delete-confirm', onclick: () => act(async () => {
            await ui.request('identity.delete', { id: identity.id });
            confirmingDelete = null;
          }, error) }, 'Delete forever'),
        ),
      ),
    );
  } else {
    item.append(
      h('div', { class: 'actions' },
        active ? null : h('button', { testid: 'identity-use', title: 'Offer this identity first to new sites', onclick: () => act(() => ui.request('identity.setActive', { id: identity.id }), error) }, 'Make default'),
        h('button', { testid: 'identity-copy', onclick: () => act(() => navigator.clipboard.writeText(identity.publicKey), error) }, 'Copy key'),
        h('button', { testid: 'identity-rename', onclick: () => ((renaming = identity.id), (confirmingDelete = null), draw()) }, 'Rename'),
        h('button', { class: 'danger', testid: 'identity-delete', onclick: () => ((confirmingDelete = identity.id), (renaming = null), draw()) }, 'Delete'),
      ),
    );
  }
  item.append(error);
  return item;
}

// ---- networks ---------------------------------------------------------------------------------

function networksView(s: UiState): HTMLElement {
  return h(
    'section',
    { class: 'stack' },
    s.networks.length === 0
      ? h('p', { class: 'empty', testid: 'networks-empty' }, 'You are in no network yet. Open an invite link, or paste one below.')
      : h('ul', { class: 'list', testid: 'networks' }, ...s.networks.map((network) => networkItem(network, s.identities))),
    createNetworkCard(s),
    keep('paste', () => {
      const link = h('input', { type: 'text', required: true, placeholder: 'web+p2p:invite/…', testid: 'paste-link', autocomplete: 'off' });
      return h(
        'div',
        { class: 'card' },
        form('paste', [field('Open a web+p2p: link', link)], 'Open', async () => {
          const value = link.value.trim();
          if (!/^web\+p2p:/i.test(value)) throw new Error('That is not a web+p2p: link.');
          await browser.tabs.create({ url: browser.runtime.getURL(`/link.html?link=${encodeURIComponent(value)}`) });
          link.value = '';
        }),
      );
    }),
  );
}

/** The always-on node last used to create a network, offered again next time. */
const LAST_HOST_KEY = 'p2pb.lastHost';

const joinAs = (s: UiState | null) => (s ? (s.identities.find((i) => i.id === s.activeIdentity) ?? s.identities[0]) : undefined);

function createNetworkCard(s: UiState): HTMLElement {
  const card = keep('network-create', () => {
    const name = h('input', { type: 'text', required: true, maxlength: 64, placeholder: 'e.g. Book club', testid: 'network-name-input', autocomplete: 'off' });
    const host = h('input', { type: 'text', required: true, placeholder: '/ip4/…/tcp/…/ws/p2p/12D3Koo…', testid: 'network-host', autocomplete: 'off', value: localStorage.getItem(LAST_HOST_KEY) ?? '' });
    const closed = h('input', { type: 'checkbox', testid: 'network-closed', checked: true });
    return h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Create a network'),
      h('p', { class: 'muted', 'data-role': 'join-as' }),
      form('network-create', [
        field('Name', name),
        field('Always-on node (its front-door address)', host),
        h('label', { class: 'check' }, closed, 'Closed: only people with the invite can join'),
      ], 'Create network', async () => {
        // The identity active when the person clicks, not when the form was built.
        const identity = joinAs(state);
        if (!identity) throw new Error('Create an identity first.');
        await ui.request('network.create', { name: name.value.trim(), host: host.value.trim(), identity: identity.id, closed: closed.checked });
        localStorage.setItem(LAST_HOST_KEY, host.value.trim());
        name.value = '';
      }),
    );
  });
  card.querySelector('[data-role="join-as"]')!.textContent =
    `You join it as ${joinAs(s)?.displayName ?? 'your default identity'}. An always-on node hosts it: yours, or a community node that accepts new networks.`;
  return card;
}

function networkItem(network: NetworkView, identities: IdentityView[]): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' });
  const identity = identities.find((i) => i.id === network.identity);
  const status = network.status === 'online' ? `${network.peers} peer${network.peers === 1 ? '' : 's'}` : network.status === 'joining' ? 'joining…' : 'offline';
  const item = h(
    'li',
    { class: 'item', testid: 'network', 'data-id': network.id },
    h('div', { class: 'row' },
      h('span', { class: 'name', testid: 'network-name' }, network.name),
      h('span', { class: network.status === 'online' ? 'badge' : 'key', testid: 'network-status', 'data-status': network.status }, status),
    ),
    h('div', { class: 'key' }, `as ${identity?.displayName ?? shortKey(network.identity)}`, network.closed ? ' · closed' : ' · open'),
    hostingView(network),
  );
  if (confirmingLeave === network.id) {
    item.append(
      h('div', { class: 'confirm' },
        h('span', {}, `Leave “${network.name}”? Your identities and data stay; you can join again with the invite.`),
        h('div', { class: 'buttons' },
          h('button', { onclick: () => ((confirmingLeave = null), draw()) }, 'Stay'),
          h('button', { class: 'danger solid', testid: 'network-leave-confirm', onclick: () => act(async () => {
            await ui.request('network.leave', { id: network.id });
            confirmingLeave = null;
          }, error) }, 'Leave'),
        ),
      ),
    );
  } else {
    item.append(
      h('div', { class: 'actions' },
        h('button', { testid: 'network-copy-invite', onclick: () => act(() => navigator.clipboard.writeText(network.invite), error) }, 'Copy invite'),
        h('button', { testid: 'network-qr', 'aria-expanded': String(showingQr === network.id), onclick: () => ((showingQr = showingQr === network.id ? null : network.id), draw()) }, 'QR code'),
        h('button', { class: 'danger', testid: 'network-leave', onclick: () => ((confirmingLeave = network.id), draw()) }, 'Leave'),
      ),
    );
  }
  if (showingQr === network.id) {
    const qr = h('div', { class: 'qr', testid: 'network-qr-code', title: network.invite });
    // uqr renders an SVG string from data we made ourselves (the invite link), not from a page.
    qr.innerHTML = renderSVG(network.invite, { border: 2 });
    item.append(qr);
  }
  item.append(error);
  return item;
}

/** Where this network's identity's data is kept: this device, and the always-on nodes hosting it. */
function hostingView(network: NetworkView): HTMLElement {
  const busy = hostingBusy.get(network.id);
  return h(
    'div',
    { class: 'hosting' },
    h('ul', { class: 'hosts', testid: 'network-hosts', 'aria-label': 'Where your data is kept' },
      h('li', { 'data-where': 'device' }, 'On this device'),
      ...network.hosts.map((host) => hostItem(network, host, busy)),
    ),
    network.hosts.length > 0
      ? null
      : h('div', { class: 'actions' },
          h('button', {
            testid: 'network-delegate',
            class: busy === 'delegate' ? 'busy' : undefined,
            disabled: busy !== undefined,
            'aria-busy': busy === 'delegate' ? 'true' : undefined,
            onclick: () => hosting(network.id, 'delegate', () => ui.request('network.delegate', { id: network.id })),
          }, busy === 'delegate' ? 'Asking the node…' : "Host on the network's node"),
        ),
    h('p', { class: 'error', role: 'alert', testid: 'network-host-error' }, hostingErrors.get(network.id) ?? ''),
    h('p', { class: 'muted' }, 'An always-on node keeps a copy of your posts so people can read them while this browser is closed. You can stop at any time; this browser keeps everything.'),
  );
}

function hostItem(network: NetworkView, host: string, busy: 'delegate' | 'revoke' | undefined): HTMLElement {
  const key = `${network.id} ${host}`;
  const confirming = confirmingRevoke === key;
  const item = h(
    'li',
    { 'data-where': 'node', 'data-peer-id': host },
    h('div', { class: 'row' },
      h('span', { title: host }, 'Hosted by always-on node ', h('span', { class: 'key' }, shortKey(host))),
      confirming ? null : h('button', { class: 'danger', testid: 'network-revoke-host', disabled: busy !== undefined, onclick: () => ((confirmingRevoke = key), draw()) }, 'Stop hosting'),
    ),
  );
  if (confirming) {
    item.append(
      h('div', { class: 'confirm' },
        h('span', {}, 'Stop hosting on this node? People can then read your posts only while this browser is open. This browser keeps everything.'),
        h('div', { class: 'buttons' },
          h('button', { onclick: () => ((confirmingRevoke = null), draw()) }, 'Keep hosting'),
          h('button', {
            class: busy === 'revoke' ? 'danger solid busy' : 'danger solid',
            testid: 'network-revoke-host-confirm',
            disabled: busy !== undefined,
            onclick: () => hosting(network.id, 'revoke', async () => {
              await ui.request('network.revoke', { id: network.id, host });
              confirmingRevoke = null;
            }),
          }, busy === 'revoke' ? 'Stopping…' : 'Stop hosting'),
        ),
      ),
    );
  }
  return item;
}

/**
 * Runs a hosting request for one network, keeping its progress and error in module state: the
 * background pushes a new state (and the popup redraws) while the node is being asked.
 */
function hosting(networkId: string, kind: 'delegate' | 'revoke', request: () => Promise<unknown>): void {
  hostingBusy.set(networkId, kind);
  hostingErrors.delete(networkId);
  draw();
  request()
    .catch((err: unknown) => hostingErrors.set(networkId, hostingErrorText(kind, err)))
    .finally(() => {
      hostingBusy.delete(networkId);
      draw();
    });
}

function hostingErrorText(kind: 'delegate' | 'revoke', err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const reason = errorText(err);
  if (kind === 'revoke') return `Could not stop hosting: ${reason}`;
  if (code === 'SYNC_TIMEOUT') return "The network's node did not answer in time. Check that it is running, then try again.";
  if (code === 'NOT_A_HOST') return "The network's node does not host data for others. Your data stays on this device.";
  if (code === 'DELEGATION_REFUSED') return `The network's node refused to host your data: ${reason}`;
  if (code === 'UNKNOWN_NETWORK') return 'This network is not running on this device right now. Try again once it is online.';
  return `Could not ask the network's node to host your data: ${reason}`;
}

// ---- sites ------------------------------------------------------------------------------------

function sitesView(s: UiState): HTMLElement {
  if (s.grants.length === 0) {
    return h('p', { class: 'empty', testid: 'grants-empty' }, 'No site can see any of your identities yet. Sites ask, and you choose.');
  }
  return h('ul', { class: 'list', testid: 'grants' }, ...s.grants.map((grant) => grantItem(grant, s.identities)));
}

function grantItem(grant: GrantView, identities: IdentityView[]): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' });
  const select = h(
    'select',
    { testid: 'grant-identity', 'aria-label': `Identity ${grant.origin} sees` },
    ...identities.map((i) => h('option', { value: i.id, selected: i.id === grant.identity }, `${i.displayName} (${shortKey(i.publicKey)})`)),
  );
  select.addEventListener('change', () => act(() => ui.request('grant.setIdentity', { origin: grant.origin, id: select.value }), error));
  const sign = h('input', { type: 'checkbox', testid: 'grant-sign', checked: grant.sign });
  sign.addEventListener('change', () => act(() => ui.request('grant.setSign', { origin: grant.origin, sign: sign.checked }), error));
  return h(
    'li',
    { class: 'item', testid: 'grant', 'data-origin': grant.origin },
    h('div', { class: 'row' }, h('span', { class: 'origin' }, grant.origin), h('button', { class: 'danger', testid: 'grant-revoke', onclick: () => act(() => ui.request('grant.revoke', { origin: grant.origin }), error) }, 'Revoke')),
    h('label', { class: 'field' }, h('span', {}, 'Sees the identity'), select),
    h('label', { class: 'check' }, sign, 'May sign without asking me each time'),
    error,
  );
}

// ---- data -------------------------------------------------------------------------------------

function dataView(storage: StorageView | null): HTMLElement {
  return h('section', { class: 'stack' }, storageCard(storage), backupView());
}

const feedCount = (n: number): string => `${n} feed${n === 1 ? '' : 's'}`;

function storageCard(storage: StorageView | null): HTMLElement {
  const card = h('div', { class: 'card storage', testid: 'storage', 'data-status': storage?.status ?? 'unknown' }, h('h2', {}, 'Storage on this device'));
  if (!storage) {
    card.append(h('p', { class: 'muted' }, 'Sizes show once the engine is running.'));
    return card;
  }
  card.append(
    h('dl', { class: 'usage' },
      h('dt', {}, 'Your data'),
      h('dd', { testid: 'storage-own' }, `${formatBytes(storage.ownBytes)} · ${feedCount(storage.ownFeeds)}`),
      h('dt', {}, 'Cached from others'),
      h('dd', { testid: 'storage-cached' }, `${formatBytes(storage.cachedBytes)} of ${formatBytes(storage.cacheLimitBytes)} · ${feedCount(storage.cachedFeeds)}`),
    ),
    h('meter', { min: 0, max: storage.cacheLimitBytes, value: storage.cachedBytes, 'aria-label': 'Cache used' }),
    h('p', { class: 'muted' },
      storage.status === 'stopped'
        ? 'The feed store is stopped right now; these are its last sizes.'
        : "Your own data is never removed to make room. Cached copies of others' posts are, oldest first, and are fetched again when needed."),
  );
  return card;
}

function backupView(): HTMLElement {
  const exportPass = h('input', { type: 'password', required: true, minlength: 8, testid: 'backup-passphrase', autocomplete: 'new-password' });
  const file = h('input', { type: 'file', accept: 'application/json,.json', required: true, testid: 'backup-file' });
  const importPass = h('input', { type: 'password', required: true, testid: 'backup-import-passphrase', autocomplete: 'off' });
  const result = h('p', { class: 'muted', testid: 'backup-result', role: 'status' });
  return h(
    'section',
    { class: 'stack' },
    h('div', { class: 'card' },
      h('h2', {}, 'Back up your identities'),
      h('p', { class: 'muted' }, 'Downloads a file with every identity, encrypted with the passphrase you choose here.'),
      form('backup-export', [field('Passphrase for the backup file', exportPass)], 'Download backup', async () => {
        const { filename, text } = await ui.request('backup.export', { passphrase: exportPass.value });
        const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
        h('a', { href: url, download: filename }).click();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        exportPass.value = '';
        result.textContent = `Saved ${filename}.`;
      }),
    ),
    h('div', { class: 'card' },
      h('h2', {}, 'Restore from a backup'),
      form('backup-import', [field('Backup file', file), field('Its passphrase', importPass)], 'Restore', async () => {
        const chosen = file.files?.[0];
        if (!chosen) throw new Error('Choose a backup file.');
        const { added, skipped } = await ui.request('backup.import', { text: await chosen.text(), passphrase: importPass.value });
        importPass.value = '';
        result.textContent = `Restored ${added.length} identit${added.length === 1 ? 'y' : 'ies'}${skipped.length ? `, ${skipped.length} already here` : ''}.`;
      }),
    ),
    result,
  );
}

ui.request('state.get').then(
  (s) => {
    state = s;
    draw();
  },
  (err: unknown) => render(app, h('p', { class: 'error' }, errorText(err))),
);
