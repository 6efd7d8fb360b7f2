/**
 * The bytes of a WebAssembly module that runs MD5 on four messages at once, one per 32-bit lane of
 * WebAssembly SIMD (multi-buffer MD5): MD5 is one long chain per message, so four messages in four
 * lanes cost about what one costs in plain code. Built here, instruction by instruction, rather than
 * shipped as a compiled file: the module is small and its source stays readable and reviewed.
 *
 * Exports `memory` and `md5x4(p0, p1, p2, p3, blocks)`: lane i hashes `blocks` 64-byte blocks starting
 * at address pi, into the state at address 0 (A, B, C, D as four i32x4 vectors, lane i in each).
 * Padding and reading the digest out are the caller's (see md5x4.ts).
 */

/** Where the four lanes' state lives: A at 0, B at 16, C at 32, D at 48. */
export const STATE_BYTES = 64;

const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
/** RFC 1321's table: floor(|sin(i + 1)| × 2³²). */
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
};
const name = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

// The instructions used, as the WebAssembly spec encodes them (SIMD ones after the 0xfd prefix).
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32add: [0x6a],
  i32sub: [0x6b],
  i32eqz: [0x45],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
  v128load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128store: (offset: number) => [0xfd, 0x0b, 4, ...uleb(offset)],
  load32splat: (offset: number) => [0xfd, 0x09, 2, ...uleb(offset)],
  load32lane: (offset: number, lane: number) => [0xfd, 0x56, 2, ...uleb(offset), lane],
  splat: (n: number) => [0xfd, 0x0c, ...[0, 1, 2, 3].flatMap(() => [0, 8, 16, 24].map((shift) => (n >>> shift) & 0xff))], // v128.const, n in each lane
  not: [0xfd, 0x4d],
  and: [0xfd, 0x4e],
  andnot: [0xfd, 0x4f],
  or: [0xfd, 0x50],
  xor: [0xfd, 0x51],
  bitselect: [0xfd, 0x52],
  shl: [0xfd, 0xab, 0x01],
  shrU: [0xfd, 0xad, 0x01],
  add: [0xfd, 0xae, 0x01],
};

// Locals: the five parameters, then v128s: the state, the state at the block's start, the block's
// 16 words (lane i's word j in lane i of M[j]), and a scratch vector.
const [P0, BLOCKS] = [0, 4];
const STATE = [5, 6, 7, 8];
const SAVED = [9, 10, 11, 12];
const M = Array.from({ length: 16 }, (_, j) => 13 + j);
const TMP = 29;
const V128_LOCALS = TMP - STATE[0]! + 1;

/**
 * a + f(b, c, d) of round `round`, left on the stack, with `a` already holding M[g] + K[i]. Each step
 * waits for the one before (b is its result), so whatever does not need b is done first.
 */
function plusRoundFunction(round: number, a: number, b: number, c: number, d: number): number[] {
  switch (round) {
    case 0: // (b & c) | (~b & d)
      return [...op.get(a), ...op.get(c), ...op.get(d), ...op.get(b), ...op.bitselect, ...op.add];
    case 1: // (b & d) | (c & ~d), the two halves added apart: c & ~d does not wait for b
      return [...op.get(a), ...op.get(c), ...op.get(d), ...op.andnot, ...op.add, ...op.get(b), ...op.get(d), ...op.and, ...op.add];
    case 2: // b ^ c ^ d
      return [...op.get(a), ...op.get(c), ...op.get(d), ...op.xor, ...op.get(b), ...op.xor, ...op.add];
    default: // c ^ (b | ~d)
      return [...op.get(a), ...op.get(c), ...op.get(b), ...op.get(d), ...op.not, ...op.or, ...op.xor, ...op.add];
  }
}

const wordOf = (i: number) => [i, (5 * i + 1) % 16, (3 * i + 5) % 16, (7 * i) % 16][i >> 4]!;

/** The 64 steps of one block: a = b + ((a + f(b, c, d) + M[g] + K[i]) <<< s), the roles turning each step. */
function steps(): number[] {
  const code: number[] = [];
  let [a, b, c, d] = STATE as [number, number, number, number];
  for (let i = 0; i < 64; i++) {
    const s = SHIFTS[(i >> 4) * 4 + (i % 4)]!;
    code.push(...op.get(a), ...op.get(M[wordOf(i)]!), ...op.add, ...op.splat(K[i]!), ...op.add, ...op.set(a));
    code.push(...plusRoundFunction(i >> 4, a, b, c, d));
    code.push(...op.tee(TMP), ...op.i32(s), ...op.shl, ...op.get(TMP), ...op.i32(32 - s), ...op.shrU, ...op.or);
    code.push(...op.get(b), ...op.add, ...op.set(a));
    [a, b, c, d] = [d, a, b, c];
  }
  return code;
}

function body(): number[] {
  const code: number[] = [];
  STATE.forEach((local, i) => code.push(...op.i32(0), ...op.v128load(16 * i), ...op.set(local)));
  code.push(...op.block, ...op.loop, ...op.get(BLOCKS), ...op.i32eqz, ...op.brIf(1));
  for (let j = 0; j < 16; j++) {
    code.push(...op.get(P0), ...op.load32splat(4 * j), ...op.set(M[j]!));
    for (let lane = 1; lane < 4; lane++) {
      code.push(...op.get(P0 + lane), ...op.get(M[j]!), ...op.load32lane(4 * j, lane), ...op.set(M[j]!));
    }
  }
  STATE.forEach((local, i) => code.push(...op.get(local), ...op.set(SAVED[i]!)));
  code.push(...steps());
  STATE.forEach((local, i) => code.push(...op.get(local), ...op.get(SAVED[i]!), ...op.add, ...op.set(local)));
  for (let lane = 0; lane < 4; lane++) code.push(...op.get(P0 + lane), ...op.i32(64), ...op.i32add, ...op.set(P0 + lane));
  code.push(...op.get(BLOCKS), ...op.i32(1), ...op.i32sub, ...op.set(BLOCKS), ...op.br(0), ...op.end, ...op.end);
  STATE.forEach((local, i) => code.push(...op.i32(0), ...op.get(local), ...op.v128store(16 * i)));
  code.push(...op.end);
  const locals = vec([[...uleb(V128_LOCALS), 0x7b]]);
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

/** The module, for a memory of `pages` 64 KiB pages. */
export function md5x4Module(pages: number): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00]])), // (i32 × 5) → ()
    ...section(3, vec([[0x00]])),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(
      7,
      vec([
        [...name('md5x4'), 0x00, 0x00],
        [...name('memory'), 0x02, 0x00],
      ]),
    ),
    ...section(10, vec([body()])),
  ]);
}
