/**
 * The approval prompt: one at a time, opened by the background for a site's request. Closing
 * the window is a refusal (the background sees this page's port drop).
 */
import type { PromptDecision, PromptView, UiState } from '@/lib/protocol/index.ts';
import { connectUi } from '@/ui/client.ts';
import { errorText, h, render, shortKey } from '@/ui/dom.ts';
import { setupForm, unlockForm } from '@/ui/forms.ts';
import { consentKey, getBundledApp, parseAppOrigin, type AppConsent } from '@/lib/apps/index.ts';

const app = document.getElementById('app')!;
const id = new URLSearchParams(location.search).get('id') ?? '';
const ui = connectUi();
let state: UiState | null = null;
let prompt: PromptView | null = null;
let deciding = false;
/** For an app (`app:<id>` or `app:<author>/<id>`): what its manifest says it reads and writes. */
let appFeeds: { reads: string[]; writes: string[]; author: string | null } | null = null;
const subject = () => (appFeeds ? 'app' : 'site');

ui.on('state', (next) => {
  state = next;
  draw();
});

async function decide(decision: PromptDecision): Promise<void> {
  if (deciding) return;
  deciding = true;
  try {
    await ui.request('prompt.resolve', { id, decision });
  } finally {
    window.close();
  }
}

function draw(): void {
  if (!state || !prompt) return;
  if (state.vault === 'uninitialized') return render(app, intro(), setupForm(ui), refuseButton());
  if (state.vault === 'locked') return render(app, intro(), unlockForm(ui), refuseButton());
  if (prompt.kind === 'unlock') {
    void decide({ approved: true });
    return render(app, h('p', { class: 'empty' }, 'Unlocked.'));
  }
  render(
    app,
    prompt.kind === 'identity' ? identityPrompt(state, prompt)
      : prompt.kind === 'write' ? writePrompt(state, prompt)
      : prompt.kind === 'punch-through' ? punchThroughPrompt(prompt)
      : signPrompt(state, prompt),
  );
}

function intro(): HTMLElement {
  const what =
    prompt!.kind === 'sign' ? 'asks you to sign a message'
      : prompt!.kind === 'write' ? 'asks to write to one of your feeds'
      : prompt!.kind === 'punch-through' ? 'asks to show a key your moderation hides'
      : 'asks which identity you want it to see';
  return h('section', { class: 'card' }, h('p', { class: 'origin', testid: 'prompt-origin' }, prompt!.origin), h('p', { class: 'muted' }, what));
}

const refuseButton = () =>
  h('div', { class: 'buttons' }, h('button', { testid: 'prompt-reject', onclick: () => void decide({ approved: false }) }, 'Refuse'));

function identityPrompt(s: UiState, p: PromptView): HTMLElement {
  const preselected = s.activeIdentity ?? s.identities[0]?.id;
  const choices = s.identities.map((identity) =>
    h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'identity', value: identity.id, checked: identity.id === preselected, testid: 'prompt-identity' }),
      h('span', {}, h('span', { class: 'name' }, identity.displayName), h('br'), h('span', { class: 'key' }, shortKey(identity.publicKey))),
    ),
  );
  const approve = () => {
    const chosen = app.querySelector<HTMLInputElement>('input[name="identity"]:checked');
    if (chosen) void decide({ approved: true, identity: chosen.value });
  };
  return h(
    'section',
    { class: 'card stack', testid: 'prompt', 'data-kind': p.kind },
    h('h2', {}, `A${subject() === 'app' ? 'n app' : ' site'} wants to know who you are`),
    h('p', { class: 'origin', testid: 'prompt-origin' }, p.origin),
    appSection(),
    h('p', { class: 'muted' }, 'It will see the public key and name of the identity you choose, and nothing else. You can switch or revoke this later in the popup.'),
    ...choices,
    h('div', { class: 'buttons' },
      h('button', { testid: 'prompt-reject', onclick: () => void decide({ approved: false }) }, 'Refuse'),
      h('button', { class: 'primary', testid: 'prompt-approve', onclick: approve }, 'Share identity'),
    ),
  );
}

/** The feeds an app's manifest declares: what a grant to it lets it read and write. */
function appSection(): HTMLElement | null {
  if (!appFeeds) return null;
  const list = (testid: string, feeds: string[]) => h('strong', { testid, 'data-feeds': feeds.join(' ') }, feeds.length ? feeds.join(', ') : 'nothing');
  return h(
    'div',
    { class: 'app-feeds muted', testid: 'prompt-app' },
    appFeeds.author ? h('p', {}, 'Published by ', h('span', { class: 'key', testid: 'prompt-app-author' }, shortKey(appFeeds.author))) : null,
    h('p', {}, 'Its manifest reads ', list('prompt-app-reads', appFeeds.reads), '; writes ', list('prompt-app-writes', appFeeds.writes), '.'),
  );
}

async function loadAppFeeds(origin: string): Promise<void> {
  const named = parseAppOrigin(origin);
  if (!named) return;
  if (named.author === null) {
    const bundled = getBundledApp(named.id);
    if (bundled) appFeeds = { reads: bundled.manifest.reads, writes: bundled.manifest.writes, author: null };
    return;
  }
  const key = consentKey(named.author, named.id);
  const consent = ((await browser.storage.local.get(key)) as Record<string, AppConsent | undefined>)[key];
  if (consent) appFeeds = { reads: consent.reads, writes: consent.writes, author: named.author };
}

function signPrompt(_s: UiState, p: PromptView): HTMLElement {
  const remember = h('input', { type: 'checkbox', testid: 'prompt-remember' });
  const message = p.message!;
  return h(
    'section',
    { class: 'card stack', testid: 'prompt', 'data-kind': p.kind },
    h('h2', {}, 'Sign a message?'),
    h('p', { class: 'origin', testid: 'prompt-origin' }, p.origin),
    p.identity ? h('p', { class: 'muted' }, 'As ', h('strong', {}, p.identity.displayName), ` (${shortKey(p.identity.publicKey)})`) : null,
    h('p', { class: 'muted' }, message.text !== null ? 'Message:' : `${message.bytes} bytes (hex):`),
    h('pre', { class: 'message', testid: 'prompt-message' }, message.text ?? message.hex),
    h('p', { class: 'muted' }, 'The signature names this site and is only valid as a page signature: it cannot be reused as any other kind of record.'),
    h('label', { class: 'check' }, remember, `Let this ${subject()} sign without asking me each time`),
    h('div', { class: 'buttons' },
      h('button', { testid: 'prompt-reject', onclick: () => void decide({ approved: false }) }, 'Refuse'),
      h('button', { class: 'primary', testid: 'prompt-approve', onclick: () => void decide({ approved: true, remember: remember.checked }) }, 'Sign'),
    ),
  );
}

function writePrompt(_s: UiState, p: PromptView): HTMLElement {
  const remember = h('input', { type: 'checkbox', testid: 'prompt-remember' });
  return h(
    'section',
    { class: 'card stack', testid: 'prompt', 'data-kind': p.kind },
    h('h2', {}, 'Publish to your feed?'),
    h('p', { class: 'origin', testid: 'prompt-origin' }, p.origin),
    appSection(),
    p.identity ? h('p', { class: 'muted' }, 'As ', h('strong', {}, p.identity.displayName), ` (${shortKey(p.identity.publicKey)})`) : null,
    h('p', { class: 'muted' }, 'Feed: ', h('strong', { testid: 'prompt-feed' }, p.feed ?? '')),
    h('p', { class: 'muted' }, `${p.message?.bytes ?? 0} bytes of data, signed by this identity and shared with the people who follow it in your networks.`),
    h('label', { class: 'check' }, remember, `Let this ${subject()} write to my feeds without asking me each time`),
    h('div', { class: 'buttons' },
      h('button', { testid: 'prompt-reject', onclick: () => void decide({ approved: false }) }, 'Refuse'),
      h('button', { class: 'primary', testid: 'prompt-approve', onclick: () => void decide({ approved: true, remember: remember.checked }) }, 'Publish'),
    ),
  );
}

/** "Show anyway": only the person lets a hidden key through, in every app and network. */
function punchThroughPrompt(p: PromptView): HTMLElement {
  const subject = p.subject!;
  return h(
    'section',
    { class: 'card stack', testid: 'prompt', 'data-kind': p.kind },
    h('h2', {}, 'Show this key anyway?'),
    h('p', { class: 'origin', testid: 'prompt-origin' }, p.origin),
    h('p', { class: 'muted' }, 'Key: ', h('span', { class: 'key', testid: 'prompt-key', title: subject.key }, shortKey(subject.key))),
    h('p', { class: 'muted' }, 'Hidden because: ', h('strong', { testid: 'prompt-because' }, subject.because ?? 'your moderation')),
    h('p', { class: 'muted' }, 'Its posts and data will show in every app and network again, whatever your lists say, until you stop this in Moderation.'),
    h('div', { class: 'buttons' },
      h('button', { testid: 'prompt-reject', onclick: () => void decide({ approved: false }) }, 'Keep hidden'),
      h('button', { class: 'primary', testid: 'prompt-approve', onclick: () => void decide({ approved: true }) }, 'Show anyway'),
    ),
  );
}

Promise.all([ui.request('state.get'), ui.request('prompt.get', { id })]).then(
  async ([s, p]) => {
    state = s;
    prompt = p;
    await loadAppFeeds(p.origin).catch(() => {});
    draw();
  },
  (err: unknown) => render(app, h('p', { class: 'error', testid: 'prompt-error' }, errorText(err))),
);
