/** UI flows shared by the e2e suites: the popup, the vault, prompts. */
import type { Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { openExtensionPage, screenshot, waitForExtensionPage, type BrowserHandle } from './harness.ts';

export const PASSPHRASE = 'correct horse battery';

/**
 * waitForFunction re-checks on DOM mutations: the default (animation frames) never fires in a
 * headless window that is not in front.
 */
export const MUTATION = { polling: 'mutation' } as const;

export async function openPopup(handle: BrowserHandle): Promise<Page> {
  const popup = await openExtensionPage(handle, 'popup.html?view=tab');
  await popup.setViewport({ width: 420, height: 640 });
  // Headless Chromium runs no animation frames in a tab that is not in front (the onboarding
  // tab may be), and puppeteer's locators wait for frames.
  await popup.bringToFront();
  return popup;
}

export async function fill(page: Page, testid: string, value: string): Promise<void> {
  const selector = `[data-testid="${testid}"]`;
  await page.waitForSelector(selector);
  await page.$eval(selector, (el) => ((el as HTMLInputElement).value = ''));
  await page.type(selector, value);
}
/**
 * Clicks through the DOM. Puppeteer's locator and mouse clicks need the tab in front and
 * animation frames, which headless browsers do not give a window that lost focus to another.
 */
export async function clickSelector(page: Page, selector: string): Promise<void> {
  const el = await page.waitForSelector(selector);
  await el!.evaluate((node) => (node as HTMLElement).click());
}
export const click = (page: Page, testid: string) => clickSelector(page, `[data-testid="${testid}"]`);

/** A click that closes its own window (prompt answers): clicked after evaluate has returned. */
export async function clickClosing(page: Page, testid: string): Promise<void> {
  const el = await page.waitForSelector(`[data-testid="${testid}"]`);
  await el!.evaluate((node) => void setTimeout(() => (node as HTMLElement).click(), 0));
}

export async function createFirstIdentity(popup: Page, name: string): Promise<string> {
  await fill(popup, 'setup-name', name);
  await fill(popup, 'setup-passphrase', PASSPHRASE);
  await fill(popup, 'setup-confirm', PASSPHRASE);
  await click(popup, 'setup-submit');
  const item = await popup.waitForSelector(`[data-testid="identity"]`);
  return item!.evaluate((el) => (el as HTMLElement).dataset.id!);
}

export async function createIdentity(popup: Page, name: string): Promise<string> {
  const before = await popup.$$eval('[data-testid="identity"]', (els) => els.length);
  await fill(popup, 'new-identity-name', name);
  await click(popup, 'new-identity-submit');
  await popup.waitForFunction((n) => document.querySelectorAll('[data-testid="identity"]').length === n, MUTATION, before + 1);
  return popup.$$eval('[data-testid="identity"]', (els, n) => (els.find((e) => e.querySelector('[data-testid="identity-name"]')!.textContent === n) as HTMLElement).dataset.id!, name);
}

/**
 * Starts waiting for the prompt window, runs `trigger` (the page's request), checks what the
 * prompt asks, and answers it.
 */
export async function withPrompt(
  handle: BrowserHandle,
  trigger: () => Promise<void>,
  expected: { kind: string; origin: string },
  answer: (prompt: Page) => Promise<void>,
  shot?: string,
): Promise<void> {
  const opened = waitForExtensionPage(handle, 'prompt.html', { newOnly: true });
  await trigger();
  const prompt = await opened;
  await prompt.bringToFront();
  const card = await prompt.waitForSelector('[data-testid="prompt"]');
  expect(await card!.evaluate((el) => (el as HTMLElement).dataset.kind)).toBe(expected.kind);
  expect(await prompt.$eval('[data-testid="prompt-origin"]', (el) => el.textContent)).toBe(expected.origin);
  if (shot) await screenshot(prompt, shot);
  await answer(prompt);
}


/**
 * Sends one request over the privileged UI port from an extension page (what the popup does),
 * for steps that have no button yet or need a result the UI only summarises.
 */
export async function uiRequest<T = any>(page: Page, method: string, params?: unknown): Promise<T> {
  const answer = await page.evaluate(
    (m, p) =>
      new Promise<{ result?: unknown; error?: { code: unknown; message: string } }>((resolve) => {
        const api = (globalThis as any).browser ?? (globalThis as any).chrome;
        const port = api.runtime.connect({ name: 'p2pb-ui' });
        port.onMessage.addListener((message: any) => {
          if (message.type !== 'response' || message.id !== 'e2e') return;
          port.disconnect();
          resolve(message);
        });
        port.postMessage({ v: 1, type: 'request', id: 'e2e', method: m, ...(p === undefined ? {} : { params: p }) });
      }),
    method,
    params as never,
  );
  if (answer.error) throw Object.assign(new Error(`${method}: ${answer.error.message}`), { code: answer.error.code });
  return answer.result as T;
}
