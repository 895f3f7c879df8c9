/**
 * Yjs for apps (built to /vendor-yjs.js): apps that edit shared documents themselves (apps/notes)
 * load this file from the extension instead of remote code, and find Yjs on `globalThis.Y`.
 */
import * as Y from 'yjs';

export default defineUnlistedScript(() => {
  (globalThis as { Y?: typeof Y }).Y = Y;
});
