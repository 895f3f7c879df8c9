/**
 * The moderation screens (docs/moderation.md), one component for the options page and the
 * popup's Moderation tab: check a key (which list blocks it, and why) and punch through; the
 * person's own block and trust entries; keys let through; community lists subscribed by link;
 * publishing one's own entries as a community list; the trust web's depth.
 */
import type { IdentityView, ListPreview, ModerationInfo, UiState, VerdictInfo } from '@/lib/protocol/index.ts';
import type { UiClient } from './client.ts';
import { errorText, h, render, shortKey } from './dom.ts';
import { field, form } from './forms.ts';

const LIST_LINK = /^\s*web\+p2p:list\/(.+?)\s*$/i;

/** The list id in a `web+p2p:list/<curator>/<feed>` link (or a bare list id). */
export function listIdOfLink(text: string): string {
  const match = LIST_LINK.exec(text);
  return (match ? match[1]! : text).trim();
}

export interface ModerationScreen {
  element: HTMLElement;
  /** Draw again with the latest settings (call on every UI state event). */
  refresh(state: UiState): void;
}

export function moderationScreen(ui: UiClient): ModerationScreen {
  const root = h('div', { class: 'stack', testid: 'moderation' });
  let info: ModerationInfo | null = null;
  let identities: IdentityView[] = [];
  let checked: VerdictInfo | null = null;
  let preview: ListPreview | null = null;
  let published: { list: string; link: string; entries: number } | null = null;
  const errorLine = h('p', { class: 'error', role: 'alert', testid: 'moderation-error' });

  const act = (action: () => Promise<unknown>) => {
    errorLine.textContent = '';
    action()
      .then(() => load())
      .catch((err: unknown) => (errorLine.textContent = errorText(err)));
  };

  /** What the screen showed last: a state event that changes nothing here does not redraw (typing survives). */
  let shown = '';
  async function load(force = true): Promise<void> {
    info = await ui.request('moderation.state');
    if (checked) checked = await ui.request('moderation.explain', { key: checked.key });
    const next = JSON.stringify([info, checked, identities.map((i) => i.id)]);
    if (!force && next === shown) return;
    shown = next;
    draw();
  }

  const kindBadge = (kind: string) => h('span', { class: `badge ${kind}` }, kind);

  function checkCard(): HTMLElement {
    const key = h('input', { type: 'text', placeholder: 'z6Mk… public key', testid: 'moderation-check-key', autocomplete: 'off', required: true });
    const verdict = checked
      ? h('div', { class: 'item', testid: 'moderation-verdict', 'data-decision': checked.decision },
          h('div', { class: 'row' }, h('span', { class: 'key' }, shortKey(checked.key)), kindBadge(checked.decision)),
          h('p', { class: 'muted', testid: 'moderation-because' }, checked.because ?? 'No list or entry of yours says anything about this key.'),
          checked.reasons.length > 1 ? h('ul', { class: 'reasons' }, ...checked.reasons.map((r) => h('li', { class: 'muted' }, r.text))) : null,
          h('div', { class: 'actions' },
            h('button', { testid: 'moderation-block', onclick: () => act(() => ui.request('moderation.set', { key: checked!.key, kind: 'block' })) }, 'Block'),
            h('button', { testid: 'moderation-trust', onclick: () => act(() => ui.request('moderation.set', { key: checked!.key, kind: 'trust' })) }, 'Trust'),
            checked.decision === 'blocked'
              ? h('button', { testid: 'moderation-punch', onclick: () => act(() => ui.request('moderation.punch', { key: checked!.key, allow: true })) }, 'Show anyway')
              : null,
          ),
        )
      : null;
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Check a key'),
      h('p', { class: 'muted' }, 'See what your moderation decides about a key, which list says so, and override it.'),
      form('moderation-check', [key], 'Check', async () => {
        checked = await ui.request('moderation.explain', { key: key.value.trim() });
        draw();
      }),
      verdict,
    );
  }

  function ownCard(s: ModerationInfo): HTMLElement {
    const key = h('input', { type: 'text', placeholder: 'z6Mk… public key', testid: 'moderation-add-key', autocomplete: 'off', required: true });
    const kind = h('select', { testid: 'moderation-add-kind' }, h('option', { value: 'block' }, 'Block'), h('option', { value: 'trust' }, 'Trust'));
    const reason = h('input', { type: 'text', placeholder: 'why (optional, published with the entry)', maxlength: 500, testid: 'moderation-add-reason' });
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Your entries'),
      h('p', { class: 'muted' }, 'Your own blocks and trusts beat any list you subscribe to. They stay on this device unless you publish them.'),
      s.own.length === 0
        ? h('p', { class: 'empty' }, 'No entries yet.')
        : h('ul', { class: 'list', testid: 'moderation-own' }, ...s.own.map((e) =>
            h('li', { class: 'item', testid: 'moderation-own-entry', 'data-key': e.key, 'data-kind': e.kind },
              h('div', { class: 'row' }, h('span', { class: 'key' }, shortKey(e.key)), kindBadge(e.kind)),
              e.reason ? h('p', { class: 'muted' }, e.reason) : null,
              h('div', { class: 'actions' }, h('button', { class: 'danger', testid: 'moderation-own-remove', onclick: () => act(() => ui.request('moderation.set', { key: e.key, kind: 'none' })) }, 'Remove')),
            ))),
      form('moderation-add', [field('Key', key), h('label', { class: 'field' }, h('span', {}, 'Entry'), kind), field('Reason', reason)], 'Add entry', async () => {
        await ui.request('moderation.set', { key: key.value.trim(), kind: kind.value as 'block' | 'trust', ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) });
        await load();
      }),
    );
  }

  function punchCard(s: ModerationInfo): HTMLElement | null {
    if (s.punchThroughs.length === 0) return null;
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Shown anyway'),
      h('p', { class: 'muted' }, 'Keys you let through whatever your lists say.'),
      h('ul', { class: 'list', testid: 'moderation-punches' }, ...s.punchThroughs.map((p) =>
        h('li', { class: 'item', testid: 'moderation-punch-entry', 'data-key': p.key },
          h('div', { class: 'row' }, h('span', { class: 'key' }, shortKey(p.key)),
            h('button', { testid: 'moderation-punch-remove', onclick: () => act(() => ui.request('moderation.punch', { key: p.key, allow: false })) }, 'Stop')),
          p.reason ? h('p', { class: 'muted' }, p.reason) : null,
        ))),
    );
  }

  function listsCard(s: ModerationInfo): HTMLElement {
    const link = h('input', { type: 'text', placeholder: 'web+p2p:list/…', testid: 'moderation-list-link', autocomplete: 'off', required: true });
    const previewEl = preview
      ? h('div', { class: 'item', testid: 'moderation-preview' },
          h('div', { class: 'row' }, h('span', { class: 'name' }, preview.feed), h('span', { class: 'key' }, `by ${shortKey(preview.curator)}`)),
          h('p', { class: 'muted' }, `${preview.blocks} blocked · ${preview.trusts} trusted${preview.skipped ? ` · ${preview.skipped} unreadable entries skipped` : ''}`),
          preview.subscribed
            ? h('p', { class: 'muted' }, 'You subscribe to this list.')
            : h('div', { class: 'buttons' }, h('button', { class: 'primary', testid: 'moderation-subscribe', onclick: () => act(async () => { await ui.request('moderation.subscribe', { list: preview!.list }); preview = null; }) }, 'Subscribe')),
        )
      : null;
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Community lists'),
      h('p', { class: 'muted' }, 'Block lists and trust webs curated by people you choose. A block in any list hides a key; your own entries and “show anyway” still win.'),
      s.subscriptions.length === 0
        ? h('p', { class: 'empty' }, 'You subscribe to no list.')
        : h('ul', { class: 'list', testid: 'moderation-subscriptions' }, ...s.subscriptions.map((sub) =>
            h('li', { class: 'item', testid: 'moderation-subscription', 'data-list': sub.list, 'data-status': sub.status },
              h('div', { class: 'row' }, h('span', { class: 'name' }, sub.feed), h('span', { class: 'key' }, `by ${shortKey(sub.curator)}`)),
              h('p', { class: 'muted' }, sub.status === 'pending' ? 'Not fetched yet: it applies as soon as one of your networks has it.'
                : sub.status === 'refused' ? `Refused: ${sub.error}` : `${sub.blocks} blocked · ${sub.trusts} trusted`),
              h('div', { class: 'actions' }, h('button', { class: 'danger', testid: 'moderation-unsubscribe', onclick: () => act(() => ui.request('moderation.unsubscribe', { list: sub.list })) }, 'Unsubscribe')),
            ))),
      form('moderation-list', [field('List link', link)], 'Look up', async () => {
        preview = await ui.request('moderation.preview', { list: listIdOfLink(link.value) });
        draw();
      }),
      previewEl,
    );
  }

  function publishCard(s: ModerationInfo): HTMLElement {
    const name = h('input', { type: 'text', placeholder: 'e.g. spam-watch', pattern: '[a-z0-9][a-z0-9-]{0,63}', testid: 'moderation-publish-name', required: true });
    const who = h('select', { testid: 'moderation-publish-identity' }, ...identities.map((i) => h('option', { value: i.id }, `${i.displayName} (${shortKey(i.publicKey)})`)));
    const links = [...s.published, ...(published && !s.published.some((p) => p.list === published!.list) ? [published] : [])];
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Publish your entries'),
      h('p', { class: 'muted' }, 'Share your blocks and trusts as a community list, signed by one of your identities. It stays in step as you change your entries; “show anyway” is never published.'),
      links.length > 0
        ? h('ul', { class: 'list', testid: 'moderation-published' }, ...links.map((p) =>
            h('li', { class: 'item' }, h('span', { class: 'name' }, p.list.slice(p.list.indexOf('/') + 1)), h('code', { class: 'key', testid: 'moderation-published-link' }, p.link))))
        : null,
      form('moderation-publish', [field('List name', name), h('label', { class: 'field' }, h('span', {}, 'Signed by'), who)], 'Publish', async () => {
        published = await ui.request('moderation.publish', { identity: who.value, name: name.value.trim() });
        await load();
      }),
    );
  }

  function depthCard(s: ModerationInfo): HTMLElement {
    const depth = h('select', { testid: 'moderation-depth', onchange: () => act(() => ui.request('moderation.trustDepth', { depth: Number(depth.value) })) },
      ...[1, 2, 3, 4].map((d) => h('option', { value: String(d), selected: d === s.trustDepth }, d === 1 ? '1: only keys you and your lists trust' : `${d}: and keys they trust, ${d - 1} step${d > 2 ? 's' : ''} on`)));
    return h('section', { class: 'card stack' },
      h('h2', {}, 'Trust web'),
      h('p', { class: 'muted' }, `${s.stats.blocked} keys blocked · ${s.stats.trusted} trusted (${s.stats.webKeys} through the web) · ${s.stats.allowed} shown anyway`),
      h('label', { class: 'field' }, h('span', {}, 'Trust counts'), depth),
    );
  }

  function draw(): void {
    if (!info) return render(root, h('p', { class: 'empty' }, 'Loading…'));
    render(root, errorLine, checkCard(), listsCard(info), ownCard(info), punchCard(info), publishCard(info), depthCard(info));
  }

  return {
    element: root,
    refresh(state) {
      identities = state.identities;
      if (state.vault !== 'unlocked') return render(root, h('p', { class: 'empty' }, 'Unlock to see your moderation.'));
      load(false).catch((err: unknown) => render(root, h('p', { class: 'error', testid: 'moderation-error' }, errorText(err))));
    },
  };
}
