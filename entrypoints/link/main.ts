/**
 * The page every web+p2p: link opens (Firefox's protocol handler, the links content script in
 * both browsers, or a link pasted in the popup). It says what the link is and does nothing
 * until the person confirms.
 */
import { decodeInvite, parseLink, type NetworkInvite } from '@/lib/net/invite.ts';
import { parseAppLink } from '@/lib/apps/published.ts';
import { decodePublicKey, encodePublicKey } from '@/lib/identity/index.ts';
import type { ListPreview, UiState } from '@/lib/protocol/index.ts';
import { reconnectingUi } from '@/ui/client.ts';
import { errorText, h, render, shortKey } from '@/ui/dom.ts';
import { setupForm, unlockForm } from '@/ui/forms.ts';

const app = document.getElementById('app')!;
const link = new URLSearchParams(location.search).get('link') ?? '';
let state: UiState | null = null;
let joined: string | null = null;

const ui = reconnectingUi((next) => {
  state = next;
  draw();
});

/** host:port of a bootstrap multiaddr, for people. */
function hostOf(addr: string): string {
  const parts = addr.split('/');
  const host = parts[2] ?? '?';
  const port = parts[4];
  return port ? `${host}:${port}` : host;
}

function draw(): void {
  if (!state) return;
  let invite: NetworkInvite;
  try {
    const parsed = parseLink(link);
    if (parsed.kind === 'list') return drawList(parsed.payload);
    if (parsed.kind === 'app') {
      // A published app: app.html fetches it, checks it and shows who signed it and what it
      // reads and writes before anything of it runs (lib/apps/published.ts).
      const { author, id } = parseAppLink(link);
      return location.replace(browser.runtime.getURL(`/app.html?app=${encodeURIComponent(id)}&author=${encodeURIComponent(author)}` as '/app.html'));
    }
    if (parsed.kind === 'profile') {
      // A person's profile link opens the microblog on them (it offers to follow).
      const key = encodePublicKey(decodePublicKey(parsed.payload));
      return location.replace(browser.runtime.getURL(`/app.html?app=microblog#profile=${key}` as '/app.html'));
    }
    if (parsed.kind !== 'invite') {
      return render(app, h('section', { class: 'card' }, h('h2', {}, 'Not supported yet'), h('p', { class: 'muted', testid: 'link-error' }, `This is a “${parsed.kind}” link; this version of P2P Browser opens network invites only.`)));
    }
    invite = decodeInvite(link);
  } catch (err) {
    return render(app, h('section', { class: 'card' }, h('h2', {}, 'This link cannot be used'), h('p', { class: 'error', testid: 'link-error' }, errorText(err))));
  }
  if (state.vault === 'uninitialized') return render(app, describe(invite), setupForm(ui));
  if (state.vault === 'locked') return render(app, describe(invite), unlockForm(ui));
  const member = state.networks.find((n) => n.id === invite.networkId);
  if (member || joined) {
    const network = member ?? state.networks.find((n) => n.id === joined);
    return render(
      app,
      describe(invite),
      h('section', { class: 'card', testid: 'joined' },
        h('h2', {}, network?.status === 'online' ? 'You are in this network' : 'Joining…'),
        network ? h('p', { class: 'muted', testid: 'join-status', 'data-status': network.status }, `${network.status} · ${network.peers} peer${network.peers === 1 ? '' : 's'} connected`) : null,
      ),
    );
  }
  const preselected = state.activeIdentity ?? state.identities[0]?.id;
  const error = h('p', { class: 'error', role: 'alert', testid: 'join-error' });
  const join = h('button', { class: 'primary', testid: 'join-submit' }, 'Join network');
  join.addEventListener('click', () => {
    const chosen = app.querySelector<HTMLInputElement>('input[name="identity"]:checked');
    if (!chosen) return;
    join.disabled = true;
    ui.request('network.join', { link, identity: chosen.value }).then(
      (network) => {
        joined = network.id;
        draw();
      },
      (err: unknown) => {
        join.disabled = false;
        error.textContent = errorText(err);
      },
    );
  });
  render(
    app,
    describe(invite),
    h('section', { class: 'card stack' },
      h('h2', {}, 'Join as'),
      h('p', { class: 'muted' }, 'Members of this network will know you by this identity only. You can hold different identities in different networks.'),
      ...state.identities.map((identity) =>
        h('label', { class: 'choice' },
          h('input', { type: 'radio', name: 'identity', value: identity.id, checked: identity.id === preselected, testid: 'join-identity' }),
          h('span', {}, h('span', { class: 'name' }, identity.displayName), h('br'), h('span', { class: 'key' }, shortKey(identity.publicKey))),
        ),
      ),
      error,
      h('div', { class: 'buttons' }, join),
    ),
  );
}

// ---- community lists (docs/moderation.md): what the list is, then subscribe on confirm -----

let listPreview: ListPreview | null = null;
let listError: string | null = null;
let listLoading = false;
let listSubscribed = false;

/** What the list view showed last: a state event that changes none of it does not redraw (a click in flight still lands). */
let listShown = '';

function drawList(id: string): void {
  if (!state) return;
  const view = JSON.stringify([state.vault, listPreview, listError, listSubscribed]);
  if (view === listShown && state.vault === 'unlocked') return;
  listShown = view;
  if (state.vault === 'uninitialized') return render(app, listIntro(id), setupForm(ui));
  if (state.vault === 'locked') return render(app, listIntro(id), unlockForm(ui));
  if (!listPreview && !listError && !listLoading) {
    listLoading = true;
    // Fetched from the person's networks (nothing is subscribed until they confirm).
    ui.request('moderation.preview', { list: id }).then(
      (preview) => ((listPreview = preview), (listLoading = false), draw()),
      (err: unknown) => ((listError = errorText(err)), (listLoading = false), draw()),
    );
  }
  if (listError) return render(app, listIntro(id), h('section', { class: 'card' }, h('p', { class: 'error', testid: 'list-error' }, listError)));
  if (!listPreview) return render(app, listIntro(id), h('p', { class: 'empty', testid: 'list-loading' }, 'Looking for this list in your networks…'));
  const p = listPreview;
  const error = h('p', { class: 'error', role: 'alert', testid: 'list-subscribe-error' });
  const subscribeButton = h('button', { class: 'primary', testid: 'list-subscribe' }, 'Subscribe');
  subscribeButton.addEventListener('click', () => {
    subscribeButton.disabled = true;
    ui.request('moderation.subscribe', { list: id }).then(
      () => ((listSubscribed = true), draw()),
      (err: unknown) => ((subscribeButton.disabled = false), (error.textContent = errorText(err))),
    );
  });
  render(
    app,
    listIntro(id),
    h('section', { class: 'card stack', testid: 'list-preview' },
      h('p', { class: 'muted', testid: 'list-size' }, `${p.blocks} key${p.blocks === 1 ? '' : 's'} blocked · ${p.trusts} trusted${p.skipped ? ` · ${p.skipped} unreadable entries skipped` : ''}`),
      p.refused ? h('p', { class: 'error' }, `This list cannot be used: ${p.refused}`) : null,
      h('p', { class: 'muted' }, 'Posts and data of the keys it blocks will be hidden from every app, in every network, and your browser will stop passing them on. Your own entries and “show anyway” always win; you can unsubscribe at any time.'),
      listSubscribed || p.subscribed
        ? h('p', { testid: 'list-subscribed' }, 'You subscribe to this list.')
        : h('div', { class: 'stack' }, error, h('div', { class: 'buttons' }, subscribeButton)),
    ),
  );
}

function listIntro(id: string): HTMLElement {
  const slash = id.indexOf('/');
  const curator = slash > 0 ? id.slice(0, slash) : id;
  const feed = slash > 0 ? id.slice(slash + 1) : '';
  return h(
    'section',
    { class: 'card', testid: 'list' },
    h('p', { class: 'muted' }, 'A community moderation list'),
    h('h2', { testid: 'list-name' }, feed.replace(/^moderation\/lists\//, '') || id),
    h('p', { class: 'muted' }, 'Curated and signed by ', h('span', { class: 'key', testid: 'list-curator', title: curator }, shortKey(curator))),
  );
}

function describe(invite: NetworkInvite): HTMLElement {
  return h(
    'section',
    { class: 'card', testid: 'invite' },
    h('p', { class: 'muted' }, 'You were invited to a network'),
    h('h2', { testid: 'invite-name' }, invite.name),
    h('p', { class: 'muted' }, invite.secret ? 'Closed network: only people with this link can join.' : 'Open network: anyone with its id can join.'),
    h('p', { class: 'muted' }, 'Bootstrap node', invite.bootstrap.length === 1 ? '' : 's', ': ', h('span', { class: 'key', testid: 'invite-bootstrap' }, invite.bootstrap.map(hostOf).join(', '))),
  );
}

ui.request('state.get').then(
  (s) => {
    state = s;
    draw();
  },
  (err: unknown) => render(app, h('p', { class: 'error' }, errorText(err))),
);
