// window.p2p inside an app's sandboxed frame (built to /app-frame.js; the build loads it first in
// every app document). All the logic is lib/apps/frame.ts.
import { installFrameProvider } from '@/lib/apps/frame.ts';

export default defineUnlistedScript(() => {
  installFrameProvider(window);
});
