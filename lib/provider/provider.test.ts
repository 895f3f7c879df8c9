import { describe, expect, it } from 'vitest';
import { ANNOUNCE_EVENT, PAGE_CHANNEL, PROTOCOL_VERSION, REQUEST_ANNOUNCE_EVENT, isPageRequestMessage } from '../protocol/index.ts';
import { installProvider, type P2pProvider } from './index.ts';

/** A message event as a window delivers it (Node's MessageEvent only takes ports as source). */
function messageEvent(data: unknown, source: unknown, origin: string): Event {
  const event = new Event('message');
  Object.defineProperties(event, { data: { value: data }, source: { value: source }, origin: { value: origin } });
  return event;
}

/** Just enough of a window: an EventTarget whose postMessage delivers MessageEvents to itself. */
class FakeWindow extends EventTarget {
  readonly location = { origin: 'http://127.0.0.1:8080' };
  readonly posted: unknown[] = [];
  postMessage(data: unknown, targetOrigin: string): void {
    expect(targetOrigin).toBe(this.location.origin);
    this.posted.push(data);
    queueMicrotask(() => this.dispatchEvent(messageEvent(data, this, this.location.origin)));
  }
  /** What the bridge would answer. */
  answer(data: unknown): void {
    this.dispatchEvent(messageEvent(data, this, this.location.origin));
  }
}

function setup() {
  const win = new FakeWindow();
  const announced: unknown[] = [];
  win.addEventListener(ANNOUNCE_EVENT, (e) => announced.push((e as CustomEvent).detail));
  const provider = installProvider(win as unknown as Window);
  return { win, provider, announced, p2p: (win as unknown as { p2p: P2pProvider }).p2p };
}

describe('window.p2p', () => {
  it('is defined once, cannot be replaced, and announces itself on load and on request', () => {
    const { win, provider, announced, p2p } = setup();
    expect(p2p).toBe(provider);
    expect(() => {
      (win as unknown as { p2p: unknown }).p2p = {};
    }).toThrow(TypeError);
    expect(announced).toHaveLength(1);
    win.dispatchEvent(new Event(REQUEST_ANNOUNCE_EVENT));
    expect(announced).toHaveLength(2);
    expect(announced[1]).toMatchObject({ info: { name: 'P2P Browser', rdns: 'dev.p2pb' }, provider });
  });

  it('posts exactly the request shape the bridge accepts, and resolves with the answer', async () => {
    const { win, p2p } = setup();
    const pending = p2p.request({ method: 'p2p_getIdentity' });
    await Promise.resolve();
    const sent = win.posted[0] as { id: string };
    expect(isPageRequestMessage(sent)).toBe(true);
    win.answer({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: sent.id, result: null });
    await expect(pending).resolves.toBeNull();
  });

  it('rejects with the error code the extension sent', async () => {
    const { win, p2p } = setup();
    const pending = p2p.request({ method: 'p2p_requestIdentity' });
    const sent = win.posted[0] as { id: string };
    win.answer({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: sent.id, error: { code: 4001, message: 'refused' } });
    await expect(pending).rejects.toMatchObject({ code: 4001, name: 'ProviderRpcError' });
  });

  it('delivers events to listeners until they are removed, and refuses unknown events', () => {
    const { win, p2p } = setup();
    const heard: unknown[] = [];
    const listener = (data: unknown) => heard.push(data);
    p2p.on('identityChanged', listener);
    win.answer({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', event: 'identityChanged', data: null });
    p2p.off('identityChanged', listener);
    win.answer({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', event: 'identityChanged', data: { publicKey: 'z' } });
    expect(heard).toEqual([null]);
    expect(() => p2p.on('accountsChanged' as never, listener)).toThrow(TypeError);
  });

  it('ignores answers from other windows and malformed answers', async () => {
    const { win, p2p } = setup();
    const pending = p2p.request({ method: 'p2p_getIdentity' });
    const sent = win.posted[0] as { id: string };
    win.dispatchEvent(messageEvent({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: sent.id, result: 'forged' }, {}, 'http://evil.example'));
    win.answer({ channel: PAGE_CHANNEL, v: 99, to: 'page', id: sent.id, result: 'other version' });
    win.answer({ channel: PAGE_CHANNEL, v: PROTOCOL_VERSION, to: 'page', id: sent.id, result: 'real' });
    await expect(pending).resolves.toBe('real');
  });

  it('rejects a request without a method before posting anything', async () => {
    const { win, p2p } = setup();
    await expect(p2p.request({} as never)).rejects.toMatchObject({ code: -32600 });
    expect(win.posted).toEqual([]);
  });
});
