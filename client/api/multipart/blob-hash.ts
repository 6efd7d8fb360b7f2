import { createCRC32, createMD5 } from 'hash-wasm';
import { md5x4, type ReadInto } from './md5x4.ts';

/**
 * What a part is hashed with: MD5 where storage checks a Content-MD5 (every S3), CRC32 where storage
 * answers the CRC32 of what it received (the embedded store), which costs about a third of MD5's CPU.
 */
export type PartHash = 'md5' | 'crc32';

/** Bytes read at a time: one buffer per hashing thread, reused for every read (see `hashBlob`). */
const READ_BYTES = 1024 * 1024;
let spare: ArrayBuffer | undefined;

/** A reader that fills `buffer` (BYOB) where the Blob's stream is a byte stream, else undefined. */
function byobReader(blob: Blob): ReadableStreamBYOBReader | undefined {
  try {
    return blob.stream().getReader({ mode: 'byob' });
  } catch {
    return undefined; // not a byte stream in this browser
  }
}

/** Feeds the Blob's bytes to `update`, a chunk at a time (the part never sits whole in memory). */
async function readInto(blob: Blob, update: (bytes: Uint8Array) => void): Promise<void> {
  const reader = byobReader(blob);
  if (!reader) {
    const plain = blob.stream().getReader();
    for (let chunk = await plain.read(); !chunk.done; chunk = await plain.read()) update(chunk.value);
    return;
  }
  // Reading into one reused buffer instead of a fresh chunk per read: Chromium then spends about
  // half the CPU per byte read (no new memory to map and collect; docs/performance.md, issue 24).
  let buffer = spare ?? new ArrayBuffer(READ_BYTES);
  spare = undefined; // this read owns it: another hash running meanwhile (in the page) takes a new one
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer, 0, READ_BYTES));
    if (!value) throw new Error('The part could not be read to its end.'); // cancelled: never hash part of it
    buffer = value.buffer; // the same memory, handed back
    if (value.byteLength) update(value);
    if (done) break;
  }
  spare = buffer;
}

/** The hash (hex) of a Blob, wherever this runs (a hashing worker, see hash.worker.ts). */
export async function hashBlob(blob: Blob, kind: PartHash): Promise<string> {
  const hasher = kind === 'md5' ? await createMD5() : await createCRC32();
  await readInto(blob, (bytes) => hasher.update(bytes));
  return hasher.digest('hex');
}

/** A Blob's bytes as md5x4 takes them: each call fills the start of `into`, and answers 0 at the end. */
function blobReader(blob: Blob): ReadInto {
  const reader = byobReader(blob);
  if (!reader) {
    const plain = blob.stream().getReader();
    let rest = new Uint8Array(0);
    return async (into) => {
      while (!rest.length) {
        const { value, done } = await plain.read();
        if (done) return 0;
        rest = value;
      }
      const n = Math.min(into.length, rest.length);
      into.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return n;
    };
  }
  // The kernel's memory cannot be handed to a BYOB read (it cannot be detached): read, then copy.
  let buffer = new ArrayBuffer(READ_BYTES);
  return async (into) => {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer, 0, Math.min(into.length, READ_BYTES)));
      if (!value) throw new Error('The part could not be read to its end.'); // cancelled: never hash part of it
      buffer = value.buffer;
      into.set(value);
      if (value.byteLength || done) return value.byteLength;
    }
  };
}

/**
 * The hashes of several Blobs. MD5s go four at a time through one SIMD pass (md5x4.ts), which costs
 * about what one MD5 costs; a single part, CRC32, or an engine without SIMD hash each on its own.
 */
export async function hashBlobs(blobs: readonly Blob[], kind: PartHash): Promise<string[]> {
  const hexes: string[] = [];
  for (let at = 0; at < blobs.length; at += 4) {
    const four = blobs.slice(at, at + 4);
    const together = kind === 'md5' && four.length > 1 ? await md5x4(four.map(blobReader)) : undefined;
    hexes.push(...(together ?? (await Promise.all(four.map((blob) => hashBlob(blob, kind))))));
  }
  return hexes;
}
