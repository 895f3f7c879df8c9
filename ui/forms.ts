/** Forms shared by the popup and the prompt window: first-run setup and unlock. */
import { h, errorText } from './dom.ts';
import type { UiClient } from './client.ts';

/** A form whose submit shows a busy state and an error line instead of throwing. */
function form(testid: string, fields: HTMLElement[], submitLabel: string, onSubmit: () => Promise<void>): HTMLFormElement {
  const error = h('p', { class: 'error', role: 'alert', testid: `${testid}-error` });
  const button = h('button', { type: 'submit', class: 'primary', testid: `${testid}-submit` }, submitLabel);
  const el = h('form', { class: 'stack', testid }, ...fields, error, button);
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    button.disabled = true;
    button.classList.add('busy');
    onSubmit()
      .catch((err: unknown) => {
        error.textContent = errorText(err);
      })
      .finally(() => {
        button.disabled = false;
        button.classList.remove('busy');
      });
  });
  return el;
}

const field = (label: string, input: HTMLInputElement) => h('label', { class: 'field' }, h('span', {}, label), input);

export function setupForm(ui: UiClient): HTMLElement {
  const name = h('input', { type: 'text', required: true, maxlength: 64, placeholder: 'e.g. Alice', testid: 'setup-name', autocomplete: 'off' });
  const pass = h('input', { type: 'password', required: true, minlength: 8, testid: 'setup-passphrase', autocomplete: 'new-password' });
  const confirm = h('input', { type: 'password', required: true, minlength: 8, testid: 'setup-confirm', autocomplete: 'new-password' });
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Create your first identity'),
    h('p', { class: 'muted' }, 'An identity is a key pair made here, in your browser. Your passphrase encrypts the keys on this device; nobody can recover it for you.'),
    form('setup', [field('Name others will see', name), field('Passphrase (8+ characters)', pass), field('Repeat passphrase', confirm)], 'Create identity', async () => {
      if (pass.value !== confirm.value) throw new Error('The two passphrases differ.');
      await ui.request('vault.initialize', { passphrase: pass.value, displayName: name.value.trim() });
    }),
  );
}

export function unlockForm(ui: UiClient, onUnlocked?: () => void): HTMLElement {
  const pass = h('input', { type: 'password', required: true, testid: 'unlock-passphrase', autocomplete: 'current-password', autofocus: true });
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Unlock'),
    h('p', { class: 'muted' }, 'Your identities are encrypted on this device.'),
    form('unlock', [field('Passphrase', pass)], 'Unlock', async () => {
      try {
        await ui.request('vault.unlock', { passphrase: pass.value });
      } finally {
        pass.value = '';
      }
      onUnlocked?.();
    }),
  );
}

export { form, field };
