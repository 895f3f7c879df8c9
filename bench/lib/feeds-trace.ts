/**
 * A synthetic editing trace shaped like crdt-benchmarks B4 (the "real-world editing dataset":
 * one text document, ~260k single-character edits, ~70% inserts / ~30% deletes, typed at a
 * cursor that mostly moves by one and now and then jumps elsewhere in the document).
 *
 * Generator (seeded, deterministic):
 * - the cursor does a random walk: after each op it stays where typing left it with p = 0.92,
 *   moves by a small step (±1..20 chars) with p = 0.06, or jumps to a uniform position with p = 0.02;
 * - each op is an insert of one character at the cursor (p = 0.7) or a backspace that deletes
 *   the character before the cursor (p = 0.3; an insert when the cursor is at 0).
 * The real B4 trace ends at ~105k characters from 182k inserts + 77k deletes; this one lands
 * at about the same shape (0.7·n − 0.3·n ≈ 0.4·n characters).
 */

export type TraceOp = { kind: 'ins'; pos: number; char: string } | { kind: 'del'; pos: number };

/** mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'etaoin shrdlu cmfwyp vbgkqjxz ETAOIN\n.,';

export function generateTrace(ops: number, seed = 4): TraceOp[] {
  const random = rng(seed);
  const trace: TraceOp[] = new Array(ops);
  let length = 0;
  let cursor = 0;
  for (let i = 0; i < ops; i++) {
    const move = random();
    if (move >= 0.98) cursor = Math.floor(random() * (length + 1));
    else if (move >= 0.92) {
      const step = 1 + Math.floor(random() * 20);
      cursor = Math.max(0, Math.min(length, cursor + (random() < 0.5 ? -step : step)));
    }
    if (random() < 0.3 && cursor > 0) {
      trace[i] = { kind: 'del', pos: cursor - 1 };
      cursor--;
      length--;
    } else {
      trace[i] = { kind: 'ins', pos: cursor, char: ALPHABET[Math.floor(random() * ALPHABET.length)]! };
      cursor++;
      length++;
    }
  }
  return trace;
}

/** Applies ops[from, to) to a Y.Text (call inside a transaction to get one update). */
export function applyOps(text: { insert(i: number, s: string): void; delete(i: number, n: number): void }, ops: readonly TraceOp[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    if (op.kind === 'ins') text.insert(op.pos, op.char);
    else text.delete(op.pos, 1);
  }
}
