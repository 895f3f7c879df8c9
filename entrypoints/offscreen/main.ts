/**
 * Chrome only: the offscreen document that hosts the network engine (it has RTCPeerConnection
 * and IndexedDB; the service worker does not). It answers engine requests from the background
 * and asks the background for signatures: no private key ever reaches this document.
 */
import { ENGINE_DB, FEEDS_DB, createEngine, feedEventToWire, type Signer } from '@/lib/engine/index.ts';
import {
  BACKGROUND_TARGET,
  ENGINE_TARGET,
  PROTOCOL_VERSION,
  RemoteError,
  describe,
  isTargetedRequest,
  toWireError,
  type BackgroundMethods,
  type TargetedRequest,
  type TargetedResponse,
} from '@/lib/protocol/index.ts';
import { fromBase64url, toBase64url } from '@/lib/util/bytes.ts';
import { createLogger } from '@/lib/util/log.ts';
import { IdbKeyValueStore } from '@/lib/kv/idb.ts';

const log = createLogger('offscreen');
import { IdbFeedStore } from '@/lib/store/idb.ts';
const CHANGE_COALESCE = 100;
let changeQueued = false;
let nextId = 1;

async function askBackground<M extends keyof BackgroundMethods>(method: M, params: BackgroundMethods[M]['params']): Promise<BackgroundMethods[M]['result']> {
  const message: TargetedRequest<typeof BACKGROUND_TARGET> = { target: BACKGROUND_TARGET, v: PROTOCOL_VERSION, id: `os-${nextId++}`, method };
  if (params !== undefined) message.params = params;
  const response = (await browser.runtime.sendMessage(message)) as TargetedResponse | undefined;
  if (!response) throw new RemoteError({ code: 'BACKGROUND_UNAVAILABLE', message: 'The background did not answer' });
  if (!response.ok) throw new RemoteError(response.error);
  return response.result as BackgroundMethods[M]['result'];
}

const signer: Signer = {
  async sign(identity, context, message) {
    const { signature } = await askBackground('signer.sign', { identity, context, message: toBase64url(message) });
    return fromBase64url(signature);
  },
  identities: () => askBackground('signer.identities', undefined),
};

const engine = createEngine({ host: 'offscreen' })({
  signer,
  log,
  kv: new IdbKeyValueStore(ENGINE_DB),
  store: new IdbFeedStore(FEEDS_DB),
  onFeed: (event) => {
    askBackground('engine.feed', feedEventToWire(event)).catch((err: unknown) => log.debug('background not listening', err));
  },
  // Coalesced: a burst of connection events becomes one refresh of the popup.
  onChange: () => {
    if (changeQueued) return;
    changeQueued = true;
    setTimeout(() => {
      changeQueued = false;
      askBackground('engine.changed', undefined).catch((err: unknown) => log.debug('background not listening', err));
    }, CHANGE_COALESCE);
  },
});

browser.runtime.onMessage.addListener((message: unknown, sender, sendResponse: (r: TargetedResponse) => void) => {
  if (!isTargetedRequest(message, ENGINE_TARGET)) {
    if ((message as { target?: unknown } | null)?.target !== BACKGROUND_TARGET) log.warn('dropped unknown message', describe(message));
    return undefined;
  }
  if (sender.id !== browser.runtime.id || sender.tab) {
    log.warn('dropped an engine request from outside the background', sender.url);
    return undefined;
  }
  engine.handle(message.method, message.params).then(
    (result) => sendResponse({ ok: true, result }),
    (err: unknown) => sendResponse({ ok: false, error: toWireError(err) }),
  );
  return true;
});

await engine.start();
await askBackground('engine.ready', undefined);
