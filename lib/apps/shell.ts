/**
 * The shell a published app runs in (`/app-shell.html`, built with /app-shell.js). It is a
 * packaged document like a built-in app's (a sandbox page on Chrome, the app CSP in a <meta>),
 * so the frame that holds it is exactly as sandboxed as a built-in app's. It waits for one
 * message from its parent, the app host page (app.html), carrying the document the host made
 * from the verified package (lib/apps/published.ts renderPublishedDocument), and writes it over
 * itself. That document's first element is its own CSP: the app CSP with the SHA-256 of each of
 * the package's scripts, so only those scripts (and the extension's own files) ever run.
 */
import { isSandboxedFrame } from './frame.ts';

export const SHELL_DOCUMENT_MESSAGE = 'p2pb-app-document';

export interface ShellDocumentMessage {
  type: typeof SHELL_DOCUMENT_MESSAGE;
  html: string;
}

export function isShellDocumentMessage(x: unknown): x is ShellDocumentMessage {
  return (
    typeof x === 'object' && x !== null && Object.keys(x).length === 2 &&
    (x as ShellDocumentMessage).type === SHELL_DOCUMENT_MESSAGE && typeof (x as ShellDocumentMessage).html === 'string'
  );
}

/** Waits for the document from the parent (the extension's host page), once, and writes it. */
export function installShell(win: Window): boolean {
  if (!isSandboxedFrame(win)) {
    win.stop();
    win.document.documentElement.replaceChildren(win.document.createTextNode("This page runs only inside P2P Browser's app page."));
    return false;
  }
  const parent = win.parent;
  const hostOrigin = win.location.origin;
  const onMessage = (event: MessageEvent) => {
    if (event.source !== parent || event.origin !== hostOrigin || !isShellDocumentMessage(event.data)) return;
    win.removeEventListener('message', onMessage);
    const doc = win.document;
    doc.open();
    doc.write(event.data.html);
    doc.close();
  };
  win.addEventListener('message', onMessage);
  return true;
}
