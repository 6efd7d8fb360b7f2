import { createCRC32, createMD5 } from 'hash-wasm';

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
