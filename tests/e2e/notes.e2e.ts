/**
 * Collaborative notes in the sandboxed app runtime (app.html?app=notes), end to end inside a
 * private network namespace: A (Chromium) and B (Firefox) edit one note, each through their own
 * signed feed; both end with one merged text, also after editing at the same moment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { click, clickClosing, uiRequest, withPrompt } from './flows.ts';
import { appDriver, openApp, type AppDriver } from './frames.ts';
import { screenshot, type BrowserHandle } from './harness.ts';
import { twoPeopleInANetwork } from './node-cli.ts';

/** Types `text` at `at` ('start' or 'end') as one edit (one input event). */
const edit = (app: AppDriver, text: string, at: 'start' | 'end') =>
  app.run(({ text, at }) => {
    const area = document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement;
    area.value = at === 'start' ? text + area.value : area.value + text;
    area.dispatchEvent(new Event('input'));
    return true;
  }, { text, at });
const value = (app: AppDriver) => app.run<string>(() => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value);
const valueIs = (expected: string) => (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value === expected;
const hasBoth = () => {
  const v = (document.querySelector('[data-testid="notes-editor"]') as HTMLTextAreaElement).value;
  return v.includes('[A]') && v.includes('[B]');
};

async function firstEdit(handle: BrowserHandle, app: AppDriver, text: string): Promise<void> {
  await withPrompt(handle, () => edit(app, text, 'end').then(() => undefined), { kind: 'write', origin: 'app:notes' }, async (prompt) => {
    await click(prompt, 'prompt-remember');
    await clickClosing(prompt, 'prompt-approve');
  });
  await app.until(() => /Saved/.test(document.querySelector('[data-testid="notes-status"]')?.textContent ?? ''));
}

describe('notes', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('A (chromium) and B (firefox) edit one note, each through their own feed, and see one merged text', async () => {
    const { a, alice, b, popupB, bob } = await twoPeopleInANetwork('Notes', ['chromium', 'firefox'], cleanup);

    // A opens the note with B as collaborator and writes the first line.
    const appA = appDriver(a, await openApp(a, 'notes', 'prompt-approve'), 'notes');
    await appA.ready();
    await appA.fill('notes-with', bob);
    await appA.click('notes-open');
    await appA.until(() => document.body.dataset.note === 'notes.shared');
    await firstEdit(a, appA, 'Plan: ');

    // B opens it with A, sees A's text, and adds to it.
    const appB = appDriver(b, await openApp(b, 'notes', 'prompt-approve'), 'notes');
    await appB.ready();
    await appB.fill('notes-with', alice);
    await appB.click('notes-open');
    await appB.until(valueIs, 'Plan: ');
    await firstEdit(b, appB, 'picnic.');
    await appA.host.bringToFront();
    await appA.until(valueIs, 'Plan: picnic.');

    // Both edit at once, at opposite ends: both end with the same merged text.
    await Promise.all([edit(appA, '[A] ', 'start'), edit(appB, ' [B]', 'end')]);
    await appA.until(hasBoth);
    await appB.host.bringToFront();
    await appB.until(hasBoth);
    expect(await value(appA)).toBe('[A] Plan: picnic. [B]');
    expect(await value(appB)).toBe(await value(appA));
    await screenshot(appB.host, 'notes-b');
    await appA.host.bringToFront();
    await screenshot(appA.host, 'notes-a');

    // Each edit is in its author's own feed: A's feed holds A's text and what it built on.
    const feedA = await uiRequest(popupB, 'feed.read', { identity: bob, author: alice, name: 'notes.shared' });
    expect(feedA.seq).toBeGreaterThanOrEqual(2);
  });
});
