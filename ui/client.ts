/** The privileged connection every extension page (popup, prompt) uses to reach the background. */
import { PORT_UI, createPortClient, wrapRuntimePort, type PortClient, type UiEvents, type UiMethods } from '@/lib/protocol/index.ts';
import { createLogger } from '@/lib/util/log.ts';

export type UiClient = PortClient<UiMethods, UiEvents & Record<string, unknown>>;

const log = createLogger('ui');

export function connectUi(onDisconnect?: () => void): UiClient {
  const port = browser.runtime.connect({ name: PORT_UI });
  if (onDisconnect) port.onDisconnect.addListener(() => onDisconnect());
  return createPortClient<UiMethods, UiEvents & Record<string, unknown>>(wrapRuntimePort(port), log);
}

/**
 * A client for long-lived pages (the popup as a tab): when the Chrome service worker is stopped
 * the port drops; this reconnects at once and fetches the state again, so the page never shows
 * stale state or fails its next request.
 */
export function reconnectingUi(onState: (state: UiEvents['state']) => void): UiClient {
  let client: UiClient;
  const open = () => {
    client = connectUi(() => {
      open();
      client.request('state.get').then(onState, (err: unknown) => log.warn('could not refresh state', err));
    });
    client.on('state', onState);
  };
  open();
  return {
    get closed() {
      return false;
    },
    request: ((...args: Parameters<UiClient['request']>) => client.request(...args)) as UiClient['request'],
    on: (event, listener) => client.on(event, listener),
    close: () => client.close(),
  };
}
