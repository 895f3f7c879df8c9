/**
 * The options page: the person's moderation in full (ui/moderation.ts) — the popup's Moderation
 * tab is the same screen. Set up or unlock first when needed.
 */
import { reconnectingUi } from '@/ui/client.ts';
import { h, render } from '@/ui/dom.ts';
import { setupForm, unlockForm } from '@/ui/forms.ts';
import { moderationScreen } from '@/ui/moderation.ts';

const app = document.getElementById('app')!;
const ui = reconnectingUi((state) => {
  if (state.vault === 'uninitialized') return render(app, setupForm(ui));
  if (state.vault === 'locked') return render(app, unlockForm(ui));
  if (!app.contains(screen.element)) render(app, screen.element);
  screen.refresh(state);
});
const screen = moderationScreen(ui);
ui.request('state.get').then(
  (state) => {
    if (state.vault === 'unlocked') {
      render(app, screen.element);
      screen.refresh(state);
    } else {
      render(app, state.vault === 'locked' ? unlockForm(ui) : setupForm(ui));
    }
  },
  (err: unknown) => render(app, h('p', { class: 'error' }, String(err))),
);
