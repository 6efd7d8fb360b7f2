import { createMD5 } from 'hash-wasm';

/** How much of a part is in memory at once while it is hashed. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The MD5 (hex) of a Blob, read a chunk at a time: a 32 MiB part never sits whole in memory, and
 * the reading happens wherever this runs (a hashing worker, see md5.worker.ts).
 */
export async function md5OfBlob(blob: Blob, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  const md5 = await createMD5();
  for (let start = 0; start < blob.size; start += chunkBytes) {
    md5.update(new Uint8Array(await blob.slice(start, start + chunkBytes).arrayBuffer()));
  }
  return md5.digest('hex');
}
