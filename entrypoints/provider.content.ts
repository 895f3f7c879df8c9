// window.p2p in the page's own JavaScript world (MAIN). It can only talk to the bridge.
import { installProvider } from '@/lib/provider/index.ts';

export default defineContentScript({
  matches: ['http://*/*', 'https://*/*'],
  world: 'MAIN',
  runAt: 'document_start',
  main() {
    installProvider(window);
  },
});
