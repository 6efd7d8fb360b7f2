import { md5 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { md5OfBlob } from './blob-md5.ts';

/** hash-wasm's one-shot MD5 of the whole buffer: the reference for the chunked one. */
const oneShotMd5 = (bytes: Uint8Array) => md5(bytes);

describe('md5OfBlob', () => {
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
});
