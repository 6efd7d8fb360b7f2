import { createMD5, md5 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { hasMd5x4, md5x4, type ReadInto } from './md5x4.ts';

const MiB = 1024 * 1024;

/** Bytes that differ from message to message and from place to place. */
const bytesOf = (length: number, seed: number) => new Uint8Array(length).map((_, i) => (i * 31 + seed * 7 + (i >> 9)) & 0xff);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A message read at most `step` bytes at a time, as a stream of a file may answer, each read `delayMs` late. */
function readerOf(bytes: Uint8Array, step = MiB, delayMs = 0): ReadInto {
  let at = 0;
  return async (into) => {
    if (delayMs) await sleep(delayMs);
    const n = Math.min(into.length, step, bytes.length - at);
    into.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
}

describe('md5x4', () => {
  it('runs here (Node has WebAssembly SIMD, as every browser Postbox supports)', async () => {
    expect(await hasMd5x4()).toBe(true);
  });

  it("gives RFC 1321's test values", async () => {
    const texts = ['', 'a', 'abc', 'message digest'];
    const hexes = await md5x4(texts.map((t) => readerOf(new TextEncoder().encode(t))));
    expect(hexes).toEqual([
      'd41d8cd98f00b204e9800998ecf8427e',
      '0cc175b9c0f1b6a831c399e269772661',
      '900150983cd24fb0d6963f7d28e17f72',
      'f96b697d7cb7938d525a2f31aaf161d0',
    ]);
  });

  it.each([
    [[0, 1, 55, 56]],
    [[57, 63, 64, 65]],
    [[119, 120, 127, 128]],
    [[MiB - 1, MiB, MiB + 1, 2 * MiB + 70]],
    [[5, 3 * MiB + 9]],
    [[MiB + 63]],
    [[100, 200, 300]],
  ])('hashes messages of lengths %j, each as its own MD5', async (lengths) => {
    const messages = lengths.map((length, i) => bytesOf(length, i));
    const expected = await Promise.all(messages.map((bytes) => md5(bytes)));
    expect(await md5x4(messages.map((bytes) => readerOf(bytes)))).toEqual(expected);
    // Read in uneven pieces (each lane's chunk then takes another number of reads): the same.
    expect(await md5x4(messages.map((bytes, i) => readerOf(bytes, 1000 + 77_777 * i)))).toEqual(expected);
  });

  it('counts the length of a message over 512 MiB in full (its length in bits needs more than 32)', async () => {
    const chunk = bytesOf(MiB, 3);
    const chunks = 513;
    let left = chunks;
    const big: ReadInto = async (into) => {
      if (!left) return 0;
      left--;
      into.set(chunk); // `into` has room for a chunk: md5x4 asks for up to 1 MiB
      return chunk.length;
    };
    const reference = await createMD5();
    for (let i = 0; i < chunks; i++) reference.update(chunk);
    const [hex] = (await md5x4([big]))!;
    expect(hex).toBe(reference.digest('hex'));
  }, 30_000);

  it('fails when a message cannot be read, and the next messages are hashed right: no lane still reading writes into their memory', async () => {
    const broken: ReadInto = async () => Promise.reject(new Error('NotReadableError'));
    // Lane 0's read is still on its way when lane 1 fails; it lands while the next call runs.
    await expect(md5x4([readerOf(new Uint8Array(2 * MiB).fill(0xee), 2 * MiB, 30), broken])).rejects.toThrow('NotReadableError');
    const bytes = bytesOf(2 * MiB, 2);
    expect(await md5x4([readerOf(bytes, 64 * 1024, 2), readerOf(bytes, 64 * 1024, 2)])).toEqual([await md5(bytes), await md5(bytes)]);
  });

  it('hashes two groups at once, each in its own memory', async () => {
    const a = [bytesOf(3 * MiB, 1), bytesOf(MiB, 2)];
    const b = [bytesOf(2 * MiB + 1, 3), bytesOf(7, 4), bytesOf(64, 5)];
    const [ha, hb] = await Promise.all([md5x4(a.map((x) => readerOf(x, 4096))), md5x4(b.map((x) => readerOf(x, 5000)))]);
    expect(ha).toEqual(await Promise.all(a.map((x) => md5(x))));
    expect(hb).toEqual(await Promise.all(b.map((x) => md5(x))));
  });
});
