/**
 * The background → window half shared by the page bridge (entrypoints/bridge.content.ts) and the
 * app host (lib/apps/host.ts): answers and events arriving on a runtime port are relayed to the
 * window as ToPageMessages; when the port drops, every request in flight is answered with
 * DISCONNECTED rather than left hanging.
 */
import { PAGE_CHANNEL, PROTOCOL_VERSION } from './constants.ts';
import { ProviderErrorCode } from './errors.ts';
import { isPortEvent, isPortResponse, type PageRequestMessage, type PortRequest, type ToPageMessage } from './messages.ts';
import type { Logger } from '../util/log.ts';

export interface RelayPort {
  onMessage: { addListener(cb: (message: unknown) => void): void };
  onDisconnect: { addListener(cb: () => void): void };
}

export function relayPortToWindow(
  port: RelayPort,
  inFlight: Set<string>,
  send: (message: ToPageMessage) => void,
  options: { log: Logger; onGone: () => void },
): void {
  port.onMessage.addListener((message: unknown) => {
    if (isPortResponse(message)) {
      if (!inFlight.delete(message.id)) return;
      send({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: message.id, ...('error' in message ? { error: message.error } : { result: message.result }) });
    } else if (isPortEvent(message)) {
      send({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', event: message.event as never, data: message.data });
    } else {
      options.log.warn('dropped an unknown message from the background');
    }
  });
  port.onDisconnect.addListener(() => {
    options.onGone();
    // Whatever was in flight is lost with the old connection: say so rather than hang.
    for (const id of inFlight) {
      send({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id, error: { code: ProviderErrorCode.DISCONNECTED, message: 'The extension restarted; please retry' } });
    }
    inFlight.clear();
  });
}

/**
 * Forwards a checked page request to the background as a PortRequest, marking it in flight.
 * `port()` connects lazily; if the port died between connect and post (a service worker
 * stopping), `reset()` drops it and one fresh port is tried.
 */
export function forwardRequest(
  data: PageRequestMessage,
  inFlight: Set<string>,
  port: () => { postMessage(message: unknown): void },
  reset: () => void,
): void {
  const request: PortRequest = { v: PROTOCOL_VERSION, type: 'request', id: data.id, method: data.method };
  if (data.params !== undefined) request.params = data.params;
  inFlight.add(data.id);
  try {
    port().postMessage(request);
  } catch {
    reset();
    port().postMessage(request);
  }
}
