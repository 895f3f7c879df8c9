import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as moderation from './index.ts';

const page = readFileSync(new URL('../../docs/moderation.md', import.meta.url), 'utf8');
const fmt = (n: number) => n.toLocaleString('en-US');

describe('docs/moderation.md', () => {
  it('names every error code', () => {
    for (const code of moderation.MODERATION_ERROR_CODES) expect(page, code).toContain(`\`${code}\``);
  });

  it('gives the limits this code enforces', () => {
    expect(page).toContain(`\`MAX_LIST_ENTRIES\` | ${fmt(moderation.MAX_LIST_ENTRIES)} entries`);
    expect(page).toContain(`\`MAX_REASON_LENGTH\` | ${moderation.MAX_REASON_LENGTH} UTF-16 units`);
    expect(page).toContain(`\`LIST_UPDATE_TARGET_BYTES\` | ${moderation.LIST_UPDATE_TARGET_BYTES / 1024} KiB`);
    expect(page).toContain(`\`MAX_REPORTED_ENTRY_ERRORS\` | ${moderation.MAX_REPORTED_ENTRY_ERRORS} errors`);
    expect(page).toContain(`\`DEFAULT_TRUST_DEPTH\` / \`MAX_TRUST_DEPTH\` | ${moderation.DEFAULT_TRUST_DEPTH} / ${moderation.MAX_TRUST_DEPTH} hops`);
    expect(page).toContain(`\`MAX_TRUST_WEB_KEYS\` | ${fmt(moderation.MAX_TRUST_WEB_KEYS)} keys`);
    expect(page).toContain(`\`MAX_SUBSCRIPTIONS\` | ${moderation.MAX_SUBSCRIPTIONS} lists`);
    expect(page).toContain(`\`MAX_PUNCH_THROUGHS\` | ${fmt(moderation.MAX_PUNCH_THROUGHS)} keys`);
    expect(page).toContain(`version: ${moderation.MODERATION_STATE_VERSION},`);
    expect(page).toContain(`\`${moderation.OWN_LIST_FEED}\``);
  });

  it('shows every reason kind with its sentence', () => {
    for (const text of ['blocked by list L of curator C', 'you blocked', 'you trust', 'you allowed it (punch-through)', 'trusted because X trusts Y', 'this is you']) {
      expect(page).toContain(text);
    }
  });
});
