import { createMD5 } from 'hash-wasm';

/**
 * The MD5 (hex) of a Blob, read as a stream (a chunk at a time: the part never sits whole in memory)
 * wherever this runs (a hashing worker, see md5.worker.ts). One stream, not a `slice().arrayBuffer()`
 * per 4 MiB: each of those is a round trip to the browser process, and Chromium spent about as much
 * CPU on them as on the MD5 itself.
 */
export async function md5OfBlob(blob: Blob): Promise<string> {
  const md5 = await createMD5();
  const reader = blob.stream().getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) md5.update(chunk.value);
  return md5.digest('hex');
}
