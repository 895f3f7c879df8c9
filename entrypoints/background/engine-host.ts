/**
 * Where the engine runs. Chrome: an offscreen document (service workers have no
 * RTCPeerConnection), created once, checked for readiness before use and recreated if it is
 * gone. Firefox: right here in the background page, held awake while a network is joined (an
 * idle event page is suspended, and every connection with it: lib/engine/keep-alive.ts).
 */
import { ENGINE_DB, FEEDS_DB, createEngine, feedEventToWire, type Engine, type Signer } from '@/lib/engine/index.ts';
import { IdbFeedStore } from '@/lib/store/idb.ts';
import {
  ENGINE_TARGET,
  PROTOCOL_VERSION,
  RemoteError,
  type BackgroundMethods,
  type EngineMethods,
  type EngineStatus,
  type TargetedRequest,
  type TargetedResponse,
} from '@/lib/protocol/index.ts';
import type { EngineClient } from '@/lib/service/index.ts';
import { SECOND } from '@/lib/util/time.ts';
import type { Logger } from '@/lib/util/log.ts';
import { IdbKeyValueStore } from '@/lib/kv/idb.ts';
import { KeepAlive } from '@/lib/engine/keep-alive.ts';



const OFFSCREEN_PATH = '/offscreen.html';
/** How long a new offscreen document may take to announce that its engine started. */
const ENGINE_READY_TIMEOUT = 15 * SECOND;

export interface EngineHost extends EngineClient {
  /** The offscreen document said it is ready (BackgroundMethods 'engine.ready'). */
  markReady(): void;
}

/** Firefox: the engine lives in this page, keeping its state in this page's IndexedDB. */
export function inProcessEngineHost(
  signer: Signer,
  log: Logger,
  onChange: () => void,
  onFeed: (event: BackgroundMethods['engine.feed']['params']) => void,
): EngineHost {
  // While the person is in a network, peers must be able to reach them: a runtime API call
  // (answered by Firefox's parent process) every few seconds keeps this page from idling out.
  const keepAlive = new KeepAlive(
    {},
    { active: () => engine.networks.members().length > 0, ping: () => browser.runtime.getPlatformInfo(), log },
  );
  const engine: Engine = createEngine({ host: 'background' })({
    signer,
    log,
    kv: new IdbKeyValueStore(ENGINE_DB),
    store: new IdbFeedStore(FEEDS_DB),
    onChange: () => {
      // Joins, leaves and restarts of networks all end in a change.
      keepAlive.update();
      onChange();
    },
    onFeed: (event) => onFeed(feedEventToWire(event)),
  });
  const started = engine.start();
  // Woken after a suspension (or a browser restart): networks rejoin from IndexedDB, and the
  // first change they report holds the page again; this covers a start with networks already up.
  void started.then(() => keepAlive.update(), () => {});
  return {
    async status() {
      await started;
      return engine.status();
    },
    async call(method, params) {
      await started;
      return engine.handle(method, params) as never;
    },
    markReady() {},
  };
}

/**
 * Whether a message to the offscreen document reached no engine: Chrome rejects it when no page
 * listens ("Receiving end does not exist"), and it comes back unanswered when only other pages
 * (the popup, an app) listened. Either way no engine ran it.
 */
function notDelivered(error: unknown): boolean {
  if (error instanceof RemoteError) return error.code === 'ENGINE_UNAVAILABLE';
  return /Receiving end does not exist|Could not establish connection/i.test(String((error as Error)?.message ?? error));
}

/** Chrome: the engine lives in the offscreen document. */
export function offscreenEngineHost(log: Logger): EngineHost {
  let creating: Promise<void> | null = null;
  let readyWaiters: (() => void)[] = [];
  let nextId = 1;
  /** The engine answered the last call: the next one need not check for the document first. */
  let answering = false;

  async function send<M extends keyof EngineMethods>(method: M, params?: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    const message: TargetedRequest<typeof ENGINE_TARGET> = { target: ENGINE_TARGET, v: PROTOCOL_VERSION, id: `bg-${nextId++}`, method };
    if (params !== undefined) message.params = params;
    const response = (await browser.runtime.sendMessage(message)) as TargetedResponse | undefined;
    if (!response) throw new RemoteError({ code: 'ENGINE_UNAVAILABLE', message: 'The engine did not answer' });
    if (!response.ok) throw new RemoteError(response.error);
    return response.result as EngineMethods[M]['result'];
  }

  async function documentExists(): Promise<boolean> {
    const contexts = await browser.runtime.getContexts({
      contextTypes: ['OFFSCREEN_DOCUMENT' as Browser.runtime.ContextType],
      documentUrls: [browser.runtime.getURL(OFFSCREEN_PATH)],
    });
    return contexts.length > 0;
  }

  function waitForReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new RemoteError({ code: 'ENGINE_UNAVAILABLE', message: 'The engine did not start' })), ENGINE_READY_TIMEOUT);
      readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async function create(): Promise<void> {
    const ready = waitForReady();
    log.info('creating the offscreen document for the engine');
    await browser.offscreen.createDocument({
      url: OFFSCREEN_PATH,
      reasons: ['WEB_RTC' as Browser.offscreen.Reason],
      justification: 'The P2P network engine needs WebRTC, which service workers do not have.',
    });
    await ready;
  }

  /** The document exists and its engine answers; created (once, even if asked concurrently) if not. */
  async function ensure(): Promise<void> {
    if (creating) return creating;
    if (await documentExists()) {
      try {
        await send('engine.ping');
        return;
      } catch (err) {
        // The document exists but its engine has not started yet: wait for its ready message.
        log.debug('engine not ready yet', err);
        return waitForReady();
      }
    }
    creating ??= create().finally(() => {
      creating = null;
    });
    return creating;
  }

  return {
    status(): Promise<EngineStatus> {
      return this.call('engine.status', undefined);
    },
    async call(method, params) {
      // Once the document answered, calls go straight to it: checking that it exists and pinging
      // it before every call cost two more trips through the browser (8–20 ms of each write). A
      // call that reached no engine — the document was closed, or is starting again — was not
      // run by anyone, so it is sent again once the document is back.
      if (answering) {
        try {
          return await send(method, params);
        } catch (error) {
          if (!notDelivered(error)) throw error;
          answering = false;
          log.debug('the engine did not get a call; checking the offscreen document', error);
        }
      }
      await ensure();
      const result = await send(method, params);
      answering = true;
      return result;
    },
    markReady() {
      const waiters = readyWaiters;
      readyWaiters = [];
      for (const resolve of waiters) resolve();
    },
  };
}
