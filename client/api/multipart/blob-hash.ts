import { createCRC32, createMD5 } from 'hash-wasm';
import { hasMd5x4, LANES, md5x4, type ReadInto } from './md5x4.ts';

/**
 * What a part is hashed with: MD5 where storage checks a Content-MD5 or answers it as ETag (every S3),
 * CRC32 where storage answers the CRC32 of what it received (the embedded store), which costs less.
 */
export type PartHash = 'md5' | 'crc32';

/** Bytes read at a time, into a buffer reused for every read of a Blob. */
const READ_BYTES = 1024 * 1024;
/** Read buffers left by finished reads, for the next ones (a hashing worker reads one group at a time). */
const spareBuffers: ArrayBuffer[] = [];

/** The next bytes of a Blob, at most `max` of them, or undefined at its end. The view is valid until the next call. */
type NextChunk = (max: number) => Promise<Uint8Array | undefined>;

/**
 * A Blob's bytes, a chunk at a time (the part never sits whole in memory). Where its stream is a byte
 * stream, each read fills one reused buffer (BYOB) instead of a fresh chunk: Chromium then spends about
 * half the CPU per byte read (no new memory to map and collect; docs/performance.md, issue 24).
 * `release` hands the buffer on once the Blob is read.
 */
function chunksOf(blob: Blob): { next: NextChunk; release: () => void } {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {
    return plainChunksOf(blob); // not a byte stream in this browser
  }
  let buffer: ArrayBuffer | undefined = spareBuffers.pop() ?? new ArrayBuffer(READ_BYTES);
  const next: NextChunk = async (max) => {
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer!, 0, Math.min(max, READ_BYTES)));
      if (!value) throw new Error('The part could not be read to its end.'); // cancelled: never hash part of it
      buffer = value.buffer; // the same memory, handed back
      if (value.byteLength) return value;
      if (done) return undefined;
    }
  };
  const release = () => {
    if (buffer) spareBuffers.push(buffer);
    buffer = undefined;
  };
  return { next, release };
}

/** The same from a stream of fresh chunks, each handed out in pieces of at most `max` bytes. */
function plainChunksOf(blob: Blob): { next: NextChunk; release: () => void } {
  const reader = blob.stream().getReader();
  let rest = new Uint8Array(0);
  const next: NextChunk = async (max) => {
    while (!rest.length) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      rest = value;
    }
    const piece = rest.subarray(0, max);
    rest = rest.subarray(piece.length);
    return piece;
  };
  return { next, release: () => {} };
}

/** The hash (hex) of a Blob, wherever this runs (a hashing worker, see hash.worker.ts). */
export async function hashBlob(blob: Blob, kind: PartHash): Promise<string> {
  const hasher = kind === 'md5' ? await createMD5() : await createCRC32();
  const { next, release } = chunksOf(blob);
  for (let chunk = await next(READ_BYTES); chunk; chunk = await next(READ_BYTES)) hasher.update(chunk);
  release();
  return hasher.digest('hex');
}

/** A Blob's bytes as md5x4 takes them: copied into the kernel's memory, which a read cannot fill itself (it cannot be detached). */
function laneOf(blob: Blob): { read: ReadInto; release: () => void } {
  const { next, release } = chunksOf(blob);
  const read: ReadInto = async (into) => {
    const chunk = await next(into.length);
    if (!chunk) return 0;
    into.set(chunk);
    return chunk.length;
  };
  return { read, release };
}

/**
 * The hashes of several Blobs. MD5s go four at a time through one SIMD pass (md5x4.ts), which costs
 * about what one MD5 costs; a single part, CRC32, or an engine without SIMD hash each on its own.
 */
export async function hashBlobs(blobs: readonly Blob[], kind: PartHash): Promise<string[]> {
  const hexes: string[] = [];
  const together = kind === 'md5' && blobs.length > 1 && (await hasMd5x4());
  for (let at = 0; at < blobs.length; at += LANES) {
    const group = blobs.slice(at, at + LANES);
    if (together && group.length > 1) {
      const lanes = group.map(laneOf);
      hexes.push(...(await md5x4(lanes.map((lane) => lane.read)))!);
      lanes.forEach((lane) => lane.release());
    } else hexes.push(...(await Promise.all(group.map((blob) => hashBlob(blob, kind)))));
  }
  return hexes;
}
