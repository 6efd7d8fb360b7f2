import { crc32, md5 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { hashBlob, hashBlobs } from './blob-hash.ts';

const md5OfBlob = (blob: Blob) => hashBlob(blob, 'md5');

/** hash-wasm's one-shot MD5 of the whole buffer: the reference for the chunked one. */
const oneShotMd5 = (bytes: Uint8Array) => md5(bytes);

describe('hashBlob, MD5', () => {
  const bytes = crypto.getRandomValues(new Uint8Array(10_000));

  it.each([0, 1, 4095, 4096, 4097, 10_000])('hashes %i bytes read as a stream as one MD5', async (length) => {
    const part = bytes.subarray(0, length);
    expect(await md5OfBlob(new Blob([part]))).toBe(await oneShotMd5(part));
  });

  it('hashes a Blob made of several pieces, streamed in more than one chunk', async () => {
    const big = crypto.getRandomValues(new Uint8Array(65_536)); // getRandomValues' limit
    const pieces = [big, bytes, big];
    const whole = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    pieces.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
    expect(await md5OfBlob(new Blob(pieces))).toBe(await oneShotMd5(whole));
  });

  it('hashes a slice of a file, not the whole file', async () => {
    const file = new Blob([bytes]);
    expect(await md5OfBlob(file.slice(1000, 7000))).toBe(await oneShotMd5(bytes.subarray(1000, 7000)));
  });

  it('gives the MD5 of RFC 1321', async () => {
    expect(await md5OfBlob(new Blob(['message digest']))).toBe('f96b697d7cb7938d525a2f31aaf161d0');
  });

  it('gives the empty MD5 for an empty part', async () => {
    expect(await md5OfBlob(new Blob([]))).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('hashes a Blob longer than its read buffer, twice in a row, alike', async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7 + (i >> 12)) & 0xff);
    const blob = new Blob([big]);
    expect(await md5OfBlob(blob)).toBe(await oneShotMd5(big));
    expect(await md5OfBlob(blob)).toBe(await oneShotMd5(big)); // the reused buffer holds nothing over
  });
});

describe('hashBlob, CRC32', () => {
  it('gives the CRC32 check value of "123456789" (as S3 answers it, big-endian)', async () => {
    expect(await hashBlob(new Blob(['123456789']), 'crc32')).toBe('cbf43926');
  });

  it('hashes a streamed slice as one CRC32', async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(50_000));
    expect(await hashBlob(new Blob([bytes]).slice(3, 40_003), 'crc32')).toBe(await crc32(bytes.subarray(3, 40_003)));
  });

  it('lets two hashes run at once (the page fallback), each reading into its own buffer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const halves = [new Uint8Array(1024 * 1024).fill(1), new Uint8Array(1024 * 1024).fill(2)];
    let pulls = 0;
    // A Blob whose stream pauses between its two chunks until released.
    const slow = {
      stream: () =>
        new ReadableStream({
          type: 'bytes',
          async pull(controller) {
            if (pulls === 1) await gate;
            const half = halves[pulls++];
            if (half) return controller.enqueue(half.slice());
            controller.close();
            controller.byobRequest?.respond(0); // a BYOB read waiting at the end gets done
          },
        }),
    } as unknown as Blob;
    const first = hashBlob(slow, 'md5');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const other = crypto.getRandomValues(new Uint8Array(1000));
    expect(await hashBlob(new Blob([other]), 'md5')).toBe(await md5(other));
    release();
    const whole = new Uint8Array(2 * 1024 * 1024);
    whole.set(halves[0]!);
    whole.set(halves[1]!, 1024 * 1024);
    expect(await first).toBe(await md5(whole));
  });
});

describe('hashBlobs', () => {
  const parts = [0, 1, 64, 4097, 70_000, 1_048_577].map((length, i) => new Uint8Array(length).map((_, j) => (j + i) & 0xff));
  const blobs = parts.map((bytes) => new Blob([bytes]));

  it('gives each of several Blobs its own MD5, in order (four at a time through one SIMD pass)', async () => {
    const expected = await Promise.all(parts.map((bytes) => md5(bytes)));
    expect(await hashBlobs(blobs, 'md5')).toEqual(expected);
    expect(await hashBlobs(blobs.slice(2, 3), 'md5')).toEqual(expected.slice(2, 3));
  });

  it('gives each its CRC32 too', async () => {
    expect(await hashBlobs(blobs.slice(0, 4), 'crc32')).toEqual(await Promise.all(parts.slice(0, 4).map((bytes) => crc32(bytes))));
  });

  /**
   * A Blob whose stream answers these chunks, as a byte stream (BYOB reads; it cannot hold an empty
   * chunk, so those are left out) or not, failing after `failAfter` of them.
   */
  const streamed = (chunks: Uint8Array[], bytes: boolean, failAfter = Infinity) =>
    ({
      stream: () => {
        const queue = chunks.filter((chunk) => !bytes || chunk.length).map((chunk) => chunk.slice());
        let sent = 0;
        const pull = (controller: { enqueue(chunk: Uint8Array<ArrayBuffer>): void; close(): void; error(err: Error): void }) => {
          if (sent++ === failAfter) return controller.error(new Error('NotReadableError'));
          const chunk = queue.shift();
          if (chunk) return controller.enqueue(chunk);
          controller.close();
          return true; // closed
        };
        if (!bytes) return new ReadableStream<Uint8Array>({ pull: (controller) => void pull(controller) });
        return new ReadableStream({
          type: 'bytes',
          pull(controller) {
            if (pull(controller) === true) controller.byobRequest?.respond(0); // a BYOB read waiting at the end gets done
          },
        });
      },
    }) as unknown as Blob;
  const chunks = [new Uint8Array(100_000).fill(1), new Uint8Array(0), new Uint8Array(3).fill(2), new Uint8Array(2_000_000).fill(3)];
  const whole = new Uint8Array(2_100_003);
  whole.fill(1, 0, 100_000).fill(2, 100_000, 100_003).fill(3, 100_003);

  it.each([true, false])('reads a stream of uneven and empty chunks whole (byte stream: %s)', async (bytes) => {
    const expected = await md5(whole);
    expect(await hashBlobs([streamed(chunks, bytes), streamed(chunks, bytes)], 'md5')).toEqual([expected, expected]);
    expect(await hashBlob(streamed(chunks, bytes), 'md5')).toBe(expected);
  });

  it('fails when a read fails, never giving the hash of part of a part', async () => {
    await expect(hashBlobs([streamed(chunks, true), streamed(chunks, true, 1)], 'md5')).rejects.toThrow('NotReadableError');
    await expect(hashBlobs([streamed(chunks, false, 2), streamed(chunks, false)], 'md5')).rejects.toThrow('NotReadableError');
  });
});
