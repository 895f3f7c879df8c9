/**
 * Moderation: filtering a timeline against a combined list, and what that list costs in memory.
 *
 * The combined list (P2PB_BENCH_MODERATION_KEYS, default 100,000 distinct keys) is two
 * subscribed community lists written to Yjs documents as their curators' feeds would hold them
 * and read back with readList: list 1 blocks 60% of the keys, list 2 blocks 30% (a third of them
 * also in list 1) and trusts the last 20%; so 80% blocked, 20% trusted. On top: 100 own blocks,
 * 100 own trusts, 100 punch-throughs for keys list 1 blocks. Keys are random 48-character
 * "z6Mk…" texts like real ones (seeded).
 *
 * Timelines (P2PB_BENCH_MODERATION_ITEMS, default 10,000 lib/data Items):
 * - typical: 2,000 authors, 10% of them blocked by a list, 5% trusted, the rest unknown;
 * - hostile: every item by a different author, half of them blocked, so filterItems works out a
 *   reason (explain) for 5,000 authors.
 *
 * Contenders, interleaved round by round, median of ROUNDS (one thread: ms here are one core):
 * - baseline: a plain Set of the blocked keys, one has() per item into shown/hidden arrays;
 * - view.isBlocked loop: the same loop over the compiled EffectiveView (one Map lookup);
 * - filterItems: the real thing, with a Verdict (every reason) per hidden author.
 * Goal: filterItems under 5 ms per 1,000 items.
 *
 * Memory (a child `node --expose-gc` running this file, heap after full GCs): the lists as
 * ModerationLists plus the compiled view, alone (their Yjs documents dropped), against a plain
 * Set of the same number of fresh key strings; and the Yjs documents themselves, for scale (the
 * feeds of subscribed lists keep them in memory while open).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import type { Item } from '../lib/data/items.ts';
import {
  createEffectiveView,
  filterItems,
  listFromEntries,
  OWN_LIST_FEED,
  putEntry,
  readList,
  writeListChanges,
  type EffectiveView,
  type ListChange,
  type ListEntry,
  type ModerationList,
  type PunchThrough,
} from '../lib/moderation/index.ts';
import { rng } from './lib/feeds-trace.ts';
import { MB, envNumber, median } from './lib/stats.ts';

const KEYS = Math.round(envNumber('P2PB_BENCH_MODERATION_KEYS', 100_000));
const ITEMS = Math.round(envNumber('P2PB_BENCH_MODERATION_ITEMS', 10_000));
const AUTHORS = 2_000;
const BLOCKED_AUTHORS = 0.1;
const TRUSTED_AUTHORS = 0.05;
const OWN_EACH = 100;
const WEB_ROOTS = 100;
const WEB_FANOUT = 1_000;
const ROUNDS = 9;
/** Each sample repeats the operation for at least this long. */
const SAMPLE_MS = 150;
const WARMUP_MS = 300;
const GOAL_MS_PER_1000 = 5;
const SEED = 6;
const CURATOR_1 = 'z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH';
const CURATOR_2 = 'z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG';
const MEMORY_CHILD_FLAG = '--moderation-memory-child';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

const PREFIX = [...'z6Mk'].map((c) => c.charCodeAt(0));

/**
 * The i-th key of the run: a fresh flat string each call (so each structure owns its strings,
 * as strings decoded from a feed are; `+=` would build a rope of 45 pieces, ~10× the memory).
 */
function keyAt(i: number): string {
  const random = rng(SEED * 1_000_003 + i);
  const codes = [...PREFIX];
  for (let c = 0; c < 44; c++) codes.push(BASE58.charCodeAt(Math.floor(random() * 58)));
  return String.fromCharCode(...codes);
}

/** Key ranges of the combined list (see the top of the file). */
const L1_BLOCKS = [0, Math.round(KEYS * 0.6)] as const;
const L2_BLOCKS = [Math.round(KEYS * 0.5), Math.round(KEYS * 0.8)] as const;
const L2_TRUSTS = [Math.round(KEYS * 0.8), KEYS] as const;

function range([from, to]: readonly [number, number], kind: 'block' | 'trust'): ListChange[] {
  const changes: ListChange[] = [];
  for (let i = from; i < to; i++) changes.push(putEntry(keyAt(i), kind, 1_767_225_600_000 + i));
  return changes;
}

/** Two curators' list documents, written as their feeds would be (transactions that fit in envelopes). */
async function listDocs(): Promise<Array<{ doc: Y.Doc; ref: { curator: string; feed: string } }>> {
  const write = async (changes: ListChange[]) => {
    const doc = new Y.Doc();
    await writeListChanges({ transact: async (fn) => doc.transact(() => fn(doc)) }, changes);
    return doc;
  };
  return [
    { doc: await write(range(L1_BLOCKS, 'block')), ref: { curator: CURATOR_1, feed: 'moderation/lists/spam' } },
    { doc: await write([...range(L2_BLOCKS, 'block'), ...range(L2_TRUSTS, 'trust')]), ref: { curator: CURATOR_2, feed: 'moderation/lists/community' } },
  ];
}

function personal(): { own: ListEntry[]; punchThroughs: PunchThrough[] } {
  const own: ListEntry[] = [];
  for (let i = 0; i < OWN_EACH; i++) own.push({ key: keyAt(KEYS + i), kind: 'block', ts: 1 }, { key: keyAt(KEYS + OWN_EACH + i), kind: 'trust', ts: 1 });
  const punchThroughs = Array.from({ length: OWN_EACH }, (_, i) => ({ key: keyAt(i * 7), ts: 1 }));
  return { own, punchThroughs };
}

function timeline(kind: 'typical' | 'hostile'): Item[] {
  const random = rng(SEED + (kind === 'typical' ? 1 : 2));
  const pick = ([from, to]: readonly [number, number]) => keyAt(from + Math.floor(random() * (to - from)));
  const blocked = [0, L2_BLOCKS[1]] as const;
  const authorOf = (n: number): string => {
    if (kind === 'hostile') return n % 2 === 0 ? keyAt(blocked[0] + ((n * 16_411) % blocked[1])) : keyAt(10 * KEYS + n);
    const r = random();
    return r < BLOCKED_AUTHORS ? pick(blocked) : r < BLOCKED_AUTHORS + TRUSTED_AUTHORS ? pick(L2_TRUSTS) : keyAt(20 * KEYS + n);
  };
  const authors = Array.from({ length: kind === 'typical' ? AUTHORS : ITEMS }, (_, n) => authorOf(n));
  return Array.from({ length: ITEMS }, (_, n) => {
    const author = kind === 'typical' ? authors[Math.floor(random() * authors.length)]! : authors[n]!;
    return { id: `p${n}`, author, feed: 'posts', ts: 1_767_225_600_000 + n, text: 'hello' };
  });
}

/** ms per call of `fn`, repeated for at least `ms`. */
function sample(fn: () => unknown, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (now - start) / calls;
}

function compare(title: string, contenders: Array<{ name: string; fn: () => unknown }>): Map<string, number> {
  for (const c of contenders) sample(c.fn, WARMUP_MS);
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) for (const c of contenders) samples.get(c.name)!.push(sample(c.fn, SAMPLE_MS));
  const result = new Map([...samples].map(([name, xs]) => [name, median(xs)]));
  const baseline = result.get(contenders[0]!.name)!;
  console.log(`\n${title}`);
  for (const c of contenders) {
    const ms = result.get(c.name)!;
    const ratio = c === contenders[0] ? '(baseline)' : `ratio ${(ms / baseline).toFixed(2)}`;
    console.log(`  ${c.name.padEnd(44)} ${ms.toFixed(3).padStart(8)} ms per ${ITEMS.toLocaleString('en-US')} items  ${(ms / (ITEMS / 1000)).toFixed(3).padStart(7)} ms per 1,000  ${ratio}`);
  }
  return result;
}

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

function buildView(lists: ModerationList[]): EffectiveView {
  return createEffectiveView({ subscriptions: lists, ...personal() });
}

function plainFilter(items: readonly Item[], blocked: ReadonlySet<string>): { shown: Item[]; hidden: Item[] } {
  const shown: Item[] = [];
  const hidden: Item[] = [];
  for (const item of items) (blocked.has(item.author) ? hidden : shown).push(item);
  return { shown, hidden };
}

// --- memory, in a child with --expose-gc -------------------------------------------------------

interface MemoryFigures {
  keys: number;
  set: number;
  docs: number;
  listsAndView: number;
  lists: number;
}

async function memoryChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const heap = async () => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return process.memoryUsage().heapUsed;
  };
  const hold: { set?: Set<string>; docs?: Y.Doc[]; lists?: ModerationList[]; view?: EffectiveView } = {};
  const base = await heap();
  hold.set = new Set(Array.from({ length: KEYS }, (_, i) => keyAt(i)));
  const set = (await heap()) - base;
  delete hold.set;
  const base2 = await heap();
  const docs = await listDocs();
  hold.docs = docs.map((d) => d.doc);
  const withDocs = (await heap()) - base2;
  hold.lists = docs.map((d) => readList(d.doc, d.ref).list);
  hold.view = buildView(hold.lists);
  delete hold.docs;
  docs.length = 0;
  const listsAndView = (await heap()) - base2;
  delete hold.view;
  const lists = (await heap()) - base2;
  const figures: MemoryFigures = { keys: KEYS, set, docs: withDocs, listsAndView, lists };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function runMemoryChild(): Promise<MemoryFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), MEMORY_CHILD_FLAG], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(stdout.trim()) as MemoryFigures);
      else reject(new Error(`memory child exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

// --- the bench -------------------------------------------------------------------------------

export async function run(): Promise<void> {
  console.log(`combined list of ${KEYS.toLocaleString('en-US')} keys (2 subscribed lists), timelines of ${ITEMS.toLocaleString('en-US')} items; ${ROUNDS} rounds, median`);

  const [docs, writeMs] = await (async () => {
    const start = performance.now();
    const value = await listDocs();
    return [value, performance.now() - start] as const;
  })();
  const [reads, readMs] = timed(() => docs.map((d) => readList(d.doc, d.ref)));
  const lists = reads.map((r) => r.list);
  const [view, compileMs] = timed(() => buildView(lists));
  const blockedKeys: string[] = [];
  for (const [key, decision] of view.decisions()) if (decision === 'blocked') blockedKeys.push(key);
  const [blockedSet, setMs] = timed(() => new Set(blockedKeys));
  console.log(
    `\nbuilding (once per change of a list): write the list documents ${writeMs.toFixed(0)} ms; ` +
      `readList ${readMs.toFixed(0)} ms (${((readMs * 1000) / KEYS).toFixed(2)} µs per entry, ${reads.reduce((n, r) => n + r.skipped, 0)} skipped); ` +
      `createEffectiveView ${compileMs.toFixed(0)} ms; baseline new Set(blocked keys) ${setMs.toFixed(0)} ms`,
  );
  console.log(`  view: ${JSON.stringify(view.stats)}`);
  // The trust web at its widest here: you trust WEB_ROOTS keys, each of which published a list
  // trusting WEB_FANOUT others (depth 2: WEB_ROOTS × WEB_FANOUT keys reached).
  const published = new Map<string, ModerationList>();
  const roots: ListEntry[] = [];
  for (let r = 0; r < WEB_ROOTS; r++) {
    const root = keyAt(30 * KEYS + r);
    roots.push({ key: root, kind: 'trust', ts: 1 });
    const entries: ListEntry[] = [];
    for (let f = 0; f < WEB_FANOUT; f++) entries.push({ key: keyAt(31 * KEYS + r * WEB_FANOUT + f), kind: 'trust', ts: 1 });
    published.set(root, listFromEntries({ curator: root, feed: OWN_LIST_FEED }, entries));
  }
  const [webView, webMs] = timed(() => createEffectiveView({ subscriptions: lists, own: roots, published }));
  console.log(
    `  with a trust web (you trust ${WEB_ROOTS}, each trusts ${WEB_FANOUT.toLocaleString('en-US')}): createEffectiveView ${webMs.toFixed(0)} ms, ` +
      `${webView.stats.webKeys.toLocaleString('en-US')} keys reached; explain() of a web key ${sample(() => webView.explain(keyAt(31 * KEYS + 5)), 100).toFixed(4)} ms`,
  );

  let goalMet = true;
  for (const kind of ['typical', 'hostile'] as const) {
    const items = timeline(kind);
    const reference = plainFilter(items, blockedSet);
    const real = filterItems(items, view);
    if (real.shown.length !== reference.shown.length || real.hidden.length !== reference.hidden.length) {
      throw new Error(`filterItems disagrees with the baseline: ${real.hidden.length} hidden, baseline ${reference.hidden.length}`);
    }
    const authors = new Set(items.map((i) => i.author)).size;
    const hiddenAuthors = new Set(real.hidden.map((h) => h.item.author)).size;
    const result = compare(
      `${kind} timeline: ${authors.toLocaleString('en-US')} authors, ${real.hidden.length.toLocaleString('en-US')} items hidden (${hiddenAuthors.toLocaleString('en-US')} blocked authors, one verdict each)`,
      [
        { name: 'baseline: Set.has loop', fn: () => plainFilter(items, blockedSet) },
        {
          name: 'view.isBlocked loop (no reasons)',
          fn: () => {
            const shown: Item[] = [];
            const hidden: Item[] = [];
            for (const item of items) (view.isBlocked(item.author) ? hidden : shown).push(item);
            return shown.length + hidden.length;
          },
        },
        { name: 'filterItems (reasons for hidden)', fn: () => filterItems(items, view) },
      ],
    );
    const perThousand = result.get('filterItems (reasons for hidden)')! / (ITEMS / 1000);
    const met = perThousand < GOAL_MS_PER_1000;
    goalMet &&= met;
    console.log(`  filterItems: ${perThousand.toFixed(3)} ms per 1,000 items, goal < ${GOAL_MS_PER_1000} ms ${met ? 'met' : 'NOT met'}`);
  }

  const memory = await runMemoryChild();
  const per = (bytes: number) => `${(bytes / MB).toFixed(1)} MB (${Math.round(bytes / memory.keys)} bytes per key)`;
  console.log(`\nmemory (child with --expose-gc, heap after full GCs), ${memory.keys.toLocaleString('en-US')} keys:`);
  console.log(`  baseline: Set of the key strings          ${per(memory.set)}`);
  console.log(`  ModerationLists + compiled view            ${per(memory.listsAndView)}  ratio ${(memory.listsAndView / memory.set).toFixed(2)}`);
  console.log(`    of which the lists (entries, strings)    ${per(memory.lists)}; the view (its Map of codes) ${per(memory.listsAndView - memory.lists)}`);
  console.log(`  for scale: the lists' Yjs documents        ${per(memory.docs)}  ratio ${(memory.docs / memory.set).toFixed(2)}`);
  console.log(`\nsummary: filterItems goal (< ${GOAL_MS_PER_1000} ms per 1,000 items) ${goalMet ? 'met' : 'NOT met'} on both timelines`);
}

if (process.argv.includes(MEMORY_CHILD_FLAG) && process.argv[1] === fileURLToPath(import.meta.url)) await memoryChild();
