// The loader of /app-shell.html, the document a published app is written into (lib/apps/shell.ts).
import { installShell } from '@/lib/apps/shell.ts';

export default defineUnlistedScript(() => {
  installShell(window);
});
