/** A tiny DOM builder: the popup stays framework-free so it opens instantly on a phone. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    else if (key === 'testid') el.dataset.testid = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function render(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
}

/**
 * render(), keeping what the person typed: the value (and checkbox state) of every form field
 * with a unique data-testid carries over to the field with the same testid in the new content,
 * and so do the focus and the caret. The popup redraws on every state event (a peer connecting);
 * without this, a name or passphrase half typed would vanish under the person's fingers.
 *
 * The content is built by `build`, after the fields are read: building it may already move a
 * kept element (a form built once and reused) out of the page, which takes its focus away — and
 * the keys typed next went to the page's body (the popup lost "ce at work" of "Alice at work").
 */
export function renderKeepingInputs(root: HTMLElement, build: () => Child[]): void {
  type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  const fields = (el: ParentNode) => {
    const byId = new Map<string, Field>();
    const seen = new Set<string>();
    for (const field of el.querySelectorAll<Field>('input[data-testid], textarea[data-testid], select[data-testid]')) {
      const id = field.dataset.testid!;
      if (seen.has(id)) byId.delete(id);
      else byId.set(id, field);
      seen.add(id);
    }
    return byId;
  };
  const before = new Map([...fields(root)].map(([id, field]) => [id, { type: field.type, value: field.value, checked: (field as HTMLInputElement).checked }]));
  const active = document.activeElement as Field | null;
  const focused = active && root.contains(active) ? active.dataset?.testid : undefined;
  const caret = focused ? selectionOf(active!) : null;
  render(root, ...build());
  for (const [id, field] of fields(root)) {
    const old = before.get(id);
    if (!old || old.type !== field.type || field.type === 'file') continue;
    if (field instanceof HTMLInputElement && (field.type === 'checkbox' || field.type === 'radio')) field.checked = old.checked;
    else if (field instanceof HTMLSelectElement) {
      if ([...field.options].some((o) => o.value === old.value)) field.value = old.value;
    } else if (old.value !== '' && field.value === field.defaultValue) field.value = old.value;
    if (id === focused && document.activeElement !== field) {
      field.focus();
      if (caret) restoreSelection(field, caret);
    }
  }
}

/** The caret (selection) of a text field; null for fields without one (checkboxes, selects…). */
function selectionOf(field: Element): [number, number] | null {
  try {
    const { selectionStart, selectionEnd } = field as HTMLInputElement;
    return selectionStart === null || selectionEnd === null ? null : [selectionStart, selectionEnd];
  } catch {
    return null; // input types without a selection throw
  }
}

function restoreSelection(field: Element, [start, end]: [number, number]): void {
  try {
    (field as HTMLInputElement).setSelectionRange(start, end);
  } catch {
    // not a text field
  }
}

/** Short form of a public key for lists: z6Mk…abcd. */
export const shortKey = (key: string): string => (key.length > 16 ? `${key.slice(0, 8)}…${key.slice(-6)}` : key);

/** Human text for an error that came over the wire (codes come from each module's errors.ts). */
export function errorText(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const messages: Record<string, string> = {
    WRONG_PASSPHRASE: 'Wrong passphrase. Nothing was changed; try again.',
    WEAK_PASSPHRASE: 'Use a passphrase of at least 8 characters.',
    VAULT_LOCKED: 'The vault is locked. Unlock it first.',
    DISPLAY_NAME_INVALID: 'Names are 1 to 64 characters, without control characters.',
  };
  if (typeof code === 'string' && messages[code]) return messages[code]!;
  return err instanceof Error ? err.message : String(err);
}

const BYTE_UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** Bytes for people, in steps of 1024 (as the docs count MiB): 512 bytes, 1.5 KB, 256 MB. */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1024)) {
    const n = Math.max(0, Math.round(bytes) || 0);
    return `${n} byte${n === 1 ? '' : 's'}`;
  }
  let value = bytes;
  let unit = -1;
  // 1023.5 and up rounds to 1024 of the smaller unit: say 1 of the next one instead.
  while (value >= 1023.5 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)} ${BYTE_UNITS[unit]}`;
}
