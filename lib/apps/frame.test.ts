import { describe, expect, it } from 'vitest';
import { ANNOUNCE_EVENT, PAGE_CHANNEL, PROTOCOL_VERSION, isPageRequestMessage } from '../protocol/index.ts';
import type { P2pProvider } from '../provider/index.ts';
import { installFrameProvider } from './frame.ts';

const HOST = 'chrome-extension://abc';

function messageEvent(data: unknown, source: unknown, origin: string): Event {
  const event = new Event('message');
  Object.defineProperties(event, { data: { value: data }, source: { value: source }, origin: { value: origin } });
  return event;
}

/** The frame's window: opaque origin, a parent, the document URL on the extension origin. */
class FakeFrameWindow extends EventTarget {
  origin = 'null';
  readonly location = { origin: HOST };
  readonly posted: { message: unknown; target: string }[] = [];
  parent: unknown = { postMessage: (message: unknown, target: string) => this.posted.push({ message, target }) };
  stopped = false;
  RTCPeerConnection: unknown = class {};
  readonly document = { documentElement: { replaceChildren() {}, append() {} }, createTextNode: (t: string) => t };
  stop() {
    this.stopped = true;
  }
}

function setup(change: Partial<FakeFrameWindow> = {}) {
  const win = Object.assign(new FakeFrameWindow(), change);
  const announced: unknown[] = [];
  win.addEventListener(ANNOUNCE_EVENT, (e) => announced.push((e as CustomEvent).detail));
  const provider = installFrameProvider(win as unknown as Window);
  return { win, provider, announced };
}

describe('window.p2p in the app frame', () => {
  it('posts requests only to the parent, addressed to the extension origin', async () => {
    const { win, provider, announced } = setup();
    expect(announced).toHaveLength(1);
    expect((win as unknown as { p2p: P2pProvider }).p2p).toBe(provider);
    const pending = provider!.request({ method: 'p2p_getIdentity' });
    expect(win.posted).toHaveLength(1);
    expect(win.posted[0]!.target).toBe(HOST);
    expect(isPageRequestMessage(win.posted[0]!.message)).toBe(true);
    const id = (win.posted[0]!.message as { id: string }).id;
    win.dispatchEvent(messageEvent({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id, result: null }, win.parent, HOST));
    await expect(pending).resolves.toBeNull();
  });

  it('hears answers only from the parent on the extension origin', async () => {
    const { win, provider } = setup();
    const pending = provider!.request({ method: 'p2p_getIdentity' });
    const id = (win.posted[0]!.message as { id: string }).id;
    const answer = (result: unknown) => ({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id, result });
    win.dispatchEvent(messageEvent(answer('from itself'), win, 'null'));
    win.dispatchEvent(messageEvent(answer('from a web page'), win.parent, 'https://evil.example'));
    win.dispatchEvent(messageEvent(answer('from elsewhere'), {}, HOST));
    win.dispatchEvent(messageEvent(answer('real'), win.parent, HOST));
    await expect(pending).resolves.toBe('real');
  });

  it('removes WebRTC, the one way out no CSP directive closes', () => {
    const { win } = setup();
    expect('RTCPeerConnection' in win).toBe(false);
  });

  it('stops a document that is not in a sandboxed frame, before any app script', () => {
    const outside = setup({ origin: HOST });
    expect(outside.provider).toBeNull();
    expect(outside.win.stopped).toBe(true);
    expect('p2p' in outside.win).toBe(false);
    const top = new FakeFrameWindow();
    top.parent = top;
    const alone = installFrameProvider(top as unknown as Window);
    expect(alone).toBeNull();
    expect(top.stopped).toBe(true);
  });
});
