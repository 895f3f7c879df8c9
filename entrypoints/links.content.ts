/**
 * Catches clicks on `web+p2p:` links in every page and hands the link to the extension, which
 * opens its own page to say what the link is and ask before doing anything. Chromium ignores
 * protocol_handlers in extension manifests and refuses registerProtocolHandler for web+p2p, so
 * this is how links work there (Firefox also has the manifest handler).
 * Only clicks the person made count (event.isTrusted): a page cannot open tabs by script.
 */
import { BACKGROUND_TARGET, PROTOCOL_VERSION, type TargetedRequest } from '@/lib/protocol/index.ts';

const SCHEME = 'web+p2p:';
const MAX_LINK = 8192;

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  runAt: 'document_start',
  main() {
    let nextId = 1;
    document.addEventListener(
      'click',
      (event) => {
        if (!event.isTrusted || event.defaultPrevented || event.button !== 0) return;
        const anchor = (event.target as Element | null)?.closest?.('a[href]');
        const href = anchor?.getAttribute('href')?.trim() ?? '';
        if (!href.toLowerCase().startsWith(SCHEME) || href.length > MAX_LINK) return;
        event.preventDefault();
        const message: TargetedRequest<typeof BACKGROUND_TARGET> = {
          target: BACKGROUND_TARGET,
          v: PROTOCOL_VERSION,
          id: `link-${nextId++}`,
          method: 'link.open',
          params: { link: href },
        };
        void browser.runtime.sendMessage(message);
      },
      true,
    );
  },
});
