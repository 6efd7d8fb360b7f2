import { createMD5, md5 } from 'hash-wasm';

/** How much of a part is in memory at once while it is only hashed (the page's fallback, tests). */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/** The MD5 (hex) of a Blob, read a chunk at a time: the part never sits whole in memory. */
export async function md5OfBlob(blob: Blob, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  const md5 = await createMD5();
  for (let start = 0; start < blob.size; start += chunkBytes) {
    md5.update(new Uint8Array(await blob.slice(start, start + chunkBytes).arrayBuffer()));
  }
  return md5.digest('hex');
}

/** A part read once: its bytes, to be sent as they are, and their MD5. */
export interface ReadPart {
  md5Hex: string;
  bytes: ArrayBuffer;
}

/**
 * Reads a part once, whole, and hashes it. Reading a Blob costs the browser about as much CPU as
 * sending it, so the bytes read for the hash are the bytes sent (not the Blob, read again).
 */
export async function readAndHash(blob: Blob): Promise<ReadPart> {
  const bytes = await blob.arrayBuffer();
  return { md5Hex: await md5(new Uint8Array(bytes)), bytes };
}
