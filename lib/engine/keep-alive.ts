/**
 * Keeps the context the engine runs in awake while the person is in at least one network.
 *
 * Firefox runs the engine in its MV3 event page, and suspends that page after
 * `extensions.background.idle.timeout` (30 s by default) without an extension event or API call,
 * taking every libp2p connection with it: peers could no longer reach the person. Network traffic
 * and an open runtime.Port do not count as activity; an extension API call from the background
 * page that reaches the parent process does (Firefox 153, ExtensionParent.sys.mjs emits
 * `background-script-reset-idle` with reason "parentapicall" for it). So while `active()` says a
 * network is joined, `ping` (a cheap parent-process call such as runtime.getPlatformInfo) runs
 * every `interval`; with no network joined it stops and the page idles out as usual.
 *
 * Chrome needs none of this: its engine lives in an offscreen document, which is not suspended.
 */
import type { Logger } from '../util/log.ts';
import { SECOND } from '../util/time.ts';

/**
 * How often a held context pings. Well under Firefox's 30 s default idle timeout, and under the
 * 5 s the end-to-end test sets; one IPC round trip each time, no network traffic.
 */
export const KEEP_ALIVE_INTERVAL = 2 * SECOND;

export interface KeepAliveInit {
  /** ms between pings (default KEEP_ALIVE_INTERVAL). */
  interval?: number;
}

export interface KeepAliveComponents {
  /** True while something needs the context awake (a joined network). Checked on every update and tick. */
  active: () => boolean;
  /** One call that counts as activity for the browser (Firefox: an extension API call). */
  ping: () => Promise<unknown>;
  log: Logger;
}

export class KeepAlive {
  readonly #interval: number;
  readonly #c: KeepAliveComponents;
  #timer: ReturnType<typeof setInterval> | undefined;
  #failing = false;

  constructor(init: KeepAliveInit, components: KeepAliveComponents) {
    this.#interval = init.interval ?? KEEP_ALIVE_INTERVAL;
    this.#c = components;
  }

  /** Whether it is holding the context awake right now. */
  get holding(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts or stops holding to match `active()`; call after anything that may change it. */
  update(): void {
    const active = this.#c.active();
    if (active && this.#timer === undefined) {
      this.#c.log.debug('keeping the engine awake: a network is joined');
      this.#ping();
      this.#timer = setInterval(() => this.#tick(), this.#interval);
    } else if (!active && this.#timer !== undefined) {
      this.#c.log.debug('letting the engine idle: no network is joined');
      this.stop();
    }
  }

  /** Stops holding (the context may then be suspended); update() may start again. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (!this.#c.active()) return this.update();
    this.#ping();
  }

  #ping(): void {
    this.#c.ping().then(
      () => {
        this.#failing = false;
      },
      (err: unknown) => {
        // Once per run of failures: a ping every few seconds must not flood the console.
        if (!this.#failing) this.#c.log.warn('keep-alive ping failed; the browser may suspend the engine', err);
        this.#failing = true;
      },
    );
  }
}
