/** types/p2p.d.ts (for app authors) names exactly the methods and events window.p2p has. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_METHODS, PROVIDER_EVENTS } from '../../lib/protocol/index.ts';

const dts = readFileSync(path.join(import.meta.dirname, '../../types/p2p.d.ts'), 'utf8');
const block = (name: string) => {
  const start = dts.indexOf(`interface ${name} {`);
  const end = dts.indexOf('\n  }', start);
  return dts.slice(start, end);
};
const keys = (text: string) => [...text.matchAll(/^ {4}(\w+):/gm)].map((m) => m[1]).sort();

describe('types/p2p.d.ts', () => {
  it('declares every page method, and no other', () => {
    expect(keys(block('P2pMethods'))).toEqual([...PAGE_METHODS].sort());
  });
  it('declares every provider event, and no other', () => {
    expect(keys(block('P2pEvents'))).toEqual([...PROVIDER_EVENTS].sort());
  });
});
