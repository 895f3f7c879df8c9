/**
 * The page every web+p2p: link opens (Firefox's protocol handler, the links content script in
 * both browsers, or a link pasted in the popup). It says what the link is and does nothing
 * until the person confirms.
 */
import { decodeInvite, parseLink, type NetworkInvite } from '@/lib/net/invite.ts';
import { parseAppLink } from '@/lib/apps/published.ts';
import { decodePublicKey, encodePublicKey } from '@/lib/identity/index.ts';
import type { UiState } from '@/lib/protocol/index.ts';
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
