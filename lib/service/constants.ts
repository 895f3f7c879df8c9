/** Storage keys in the extension's local storage area (the vault owns its own keys). */
export const GRANTS_KEY = 'grants';
export const PREFS_KEY = 'prefs';
/** Current versions of the stored grant and preference schemas (see migrate in grants.ts). */
export const GRANTS_VERSION = 1;
export const PREFS_VERSION = 1;
