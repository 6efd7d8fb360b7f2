// MD5s of up to four messages at once, each lane of the SIMD module fed from its own byte source:
// the parts of an upload are hashed four at a time for about the CPU of one (see md5x4-wasm.ts).
import { md5x4Module, STATE_BYTES } from './md5x4-wasm.ts';

/** Messages hashed at once: the 32-bit lanes of a WebAssembly SIMD vector. */
export const LANES = 4;
/** Bytes each lane reads before the four are hashed together (the reads run side by side); a whole number of 64-byte blocks. */
const CHUNK = 1024 * 1024;
/** A lane's memory: a chunk, and room for the padding (at most 72 bytes) after its last bytes. */
const REGION = CHUNK + 128;
const PAGES = Math.ceil((STATE_BYTES + LANES * REGION) / 65_536);
const INITIAL = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/** Fills `into` from the start with the message's next bytes; 0 once it has none left. */
export type ReadInto = (into: Uint8Array) => Promise<number>;

let compiled: Promise<WebAssembly.Module | undefined> | undefined;

/** The compiled module, or undefined where this engine has no WebAssembly SIMD. */
function md5x4Wasm(): Promise<WebAssembly.Module | undefined> {
  compiled ??= (async () => {
    const bytes = md5x4Module(PAGES);
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? WebAssembly.compile(bytes) : undefined;
  })();
  return compiled;
}

interface Kernel {
  memory: WebAssembly.Memory;
  md5x4: (p0: number, p1: number, p2: number, p3: number, blocks: number) => void;
}
const spareKernels: Kernel[] = [];

async function kernel(): Promise<Kernel | undefined> {
  const spare = spareKernels.pop();
  if (spare) return spare;
  const module = await md5x4Wasm();
  return module && ((await WebAssembly.instantiate(module)).exports as unknown as Kernel);
}

/** Whether this engine runs the four-lane MD5 (else each message is hashed on its own). */
export const hasMd5x4 = async () => (await md5x4Wasm()) !== undefined;

/** One message in one lane: where its unhashed bytes are, and how far it has got. */
class Lane {
  start: number; // first unhashed byte, an address in the kernel's memory
  pending = 0; // unhashed bytes from `start`: always a whole number of blocks
  length = 0; // message bytes read so far
  ended = false; // padded: the message is whole
  digest: string | undefined;

  constructor(
    readonly base: number,
    private readonly read: ReadInto,
  ) {
    this.start = base;
  }

  /** Reads the lane's next chunk (or the rest of the message, padded), once the last one is hashed. */
  async fill(memory: Uint8Array) {
    this.start = this.base;
    while (this.pending < CHUNK) {
      const got = await this.read(memory.subarray(this.base + this.pending, this.base + CHUNK));
      if (!got) return this.pad(memory);
      this.pending += got;
      this.length += got;
    }
  }

  /** RFC 1321's padding: 0x80, zeros up to 56 mod 64, the length in bits (64-bit little-endian). */
  private pad(memory: Uint8Array) {
    const at = this.base + this.pending;
    const zeros = (55 - (this.pending % 64) + 64) % 64;
    memory.fill(0, at, at + 1 + zeros + 8);
    memory[at] = 0x80;
    const view = new DataView(memory.buffer, at + 1 + zeros, 8);
    view.setUint32(0, (this.length * 8) >>> 0, true);
    view.setUint32(4, Math.floor(this.length / 2 ** 29), true);
    this.pending += 1 + zeros + 8;
    this.ended = true;
  }
}

function digestOf(memory: Uint8Array, lane: number): string {
  const words = new DataView(memory.buffer);
  let hex = '';
  for (let w = 0; w < 4; w++) {
    const le = words.getUint32(16 * w + 4 * lane, true);
    hex += [0, 8, 16, 24].map((shift) => ((le >>> shift) & 0xff).toString(16).padStart(2, '0')).join('');
  }
  return hex;
}

/**
 * The hex MD5 of each message (at most four), read chunk by chunk, the lanes side by side; undefined
 * where the engine has no WebAssembly SIMD.
 */
export async function md5x4(messages: readonly ReadInto[]): Promise<string[] | undefined> {
  if (messages.length > LANES) throw new RangeError(`At most ${LANES} messages at once`);
  const k = await kernel();
  if (!k) return undefined;
  const memory = new Uint8Array(k.memory.buffer);
  const state = new Uint32Array(k.memory.buffer, 0, 16);
  INITIAL.forEach((word, w) => state.fill(word, 4 * w, 4 * w + 4));
  const lanes = messages.map((read, i) => new Lane(STATE_BYTES + i * REGION, read));
  for (;;) {
    const open = lanes.filter((lane) => lane.digest === undefined);
    if (!open.length) break;
    // On a failed read the other lanes may still be writing into this memory: the kernel is then
    // dropped, never handed to the next call.
    await Promise.all(open.filter((lane) => !lane.ended && !lane.pending).map((lane) => lane.fill(memory)));
    const blocks = Math.min(...open.map((lane) => lane.pending / 64));
    // A lane with no message (or one already done) hashes whatever its own memory holds, unread.
    const at = Array.from({ length: LANES }, (_, i) => (open.includes(lanes[i]!) ? lanes[i]!.start : STATE_BYTES + i * REGION));
    k.md5x4(at[0]!, at[1]!, at[2]!, at[3]!, blocks);
    for (const lane of open) {
      lane.start += blocks * 64;
      lane.pending -= blocks * 64;
      if (lane.ended && !lane.pending) lane.digest = digestOf(memory, lanes.indexOf(lane));
    }
  }
  spareKernels.push(k);
  return lanes.map((lane) => lane.digest!);
}
