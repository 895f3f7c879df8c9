/**
 * Prompts, one at a time. A page that already has a prompt waiting gets REQUEST_PENDING, the
 * queue behind the prompt on screen is bounded, and closing the prompt window is a refusal.
 */
import { MAX_QUEUED_PROMPTS, ProviderError, ProviderErrorCode, type PromptDecision, type PromptView } from '../protocol/index.ts';
import type { Logger } from '../util/log.ts';
import { UnknownPromptError } from './errors.ts';

/** Opens and closes the window that shows a prompt (windows.create in the extension). */
export interface PromptWindows {
  open(promptId: string): Promise<void>;
  close(promptId: string): Promise<void>;
}

export type PromptRequest = Omit<PromptView, 'id' | 'createdAt'>;

interface Pending {
  view: PromptView;
  settle(decision: PromptDecision): void;
  fail(err: unknown): void;
  opened: boolean;
}

export class PromptQueue {
  readonly #windows: PromptWindows;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #queue: Pending[] = [];
  #nextId = 1;

  constructor(windows: PromptWindows, log: Logger, now: () => number) {
    this.#windows = windows;
    this.#log = log;
    this.#now = now;
  }

  /** Resolves with the person's decision; rejects when the prompt could not be shown. */
  ask(request: PromptRequest): Promise<PromptDecision> {
    if (this.#queue.some((p) => p.view.origin === request.origin)) {
      return Promise.reject(new ProviderError(ProviderErrorCode.REQUEST_PENDING, 'A request from this site is already waiting for the person'));
    }
    if (this.#queue.length > MAX_QUEUED_PROMPTS) {
      return Promise.reject(new ProviderError(ProviderErrorCode.LIMIT_EXCEEDED, 'Too many prompts are waiting'));
    }
    const id = `${this.#now().toString(36)}-${(this.#nextId++).toString(36)}`;
    return new Promise<PromptDecision>((resolve, reject) => {
      this.#queue.push({
        view: { ...request, id, createdAt: this.#now() },
        settle: resolve,
        fail: reject,
        opened: false,
      });
      this.#showHead();
    });
  }

  get(id: string): PromptView {
    const pending = this.#queue.find((p) => p.view.id === id);
    if (!pending) throw new UnknownPromptError(id);
    return pending.view;
  }

  get size(): number {
    return this.#queue.length;
  }

  resolve(id: string, decision: PromptDecision): void {
    const index = this.#queue.findIndex((p) => p.view.id === id);
    if (index < 0) throw new UnknownPromptError(id);
    const [pending] = this.#queue.splice(index, 1);
    pending!.settle(decision);
    if (pending!.opened) {
      this.#windows.close(id).catch((err: unknown) => this.#log.debug('prompt window already closed', err));
    }
    this.#showHead();
  }

  /** The window showing `id` went away without an answer: that is a refusal. */
  dismissed(id: string): void {
    if (this.#queue.some((p) => p.view.id === id)) this.resolve(id, { approved: false });
  }

  /** Refuses every prompt of an origin (its page went away) or all of them. */
  cancel(predicate: (view: PromptView) => boolean = () => true): void {
    for (const pending of [...this.#queue]) if (predicate(pending.view)) this.resolve(pending.view.id, { approved: false });
  }

  #showHead(): void {
    const head = this.#queue[0];
    if (!head || head.opened) return;
    head.opened = true;
    this.#windows.open(head.view.id).catch((err: unknown) => {
      this.#log.error('could not open the prompt window', err);
      const index = this.#queue.indexOf(head);
      if (index >= 0) this.#queue.splice(index, 1);
      head.fail(new ProviderError(ProviderErrorCode.INTERNAL, 'Could not show the prompt'));
      this.#showHead();
    });
  }
}
