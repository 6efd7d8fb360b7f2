import { createCRC32, createMD5 } from 'hash-wasm';
import { hashBlobs } from './blob-hash.ts';
import { hasMd5x4 } from './md5x4.ts';
import type { HashAnswer, HashRequest } from './hash-workers.ts';

/**
 * A hashing worker: it gets parts' Blobs (slices of the file, not their bytes), reads and hashes
 * them here, and answers the hashes, so the page's main thread never reads or hashes a part.
 */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage: (answer: HashAnswer) => void;
};

// Compiled once the worker starts (see HashWorkers.warm), not when the first part arrives.
void Promise.all([createMD5(), createCRC32(), hasMd5x4()]).catch(() => {});

scope.onmessage = ({ data: { id, blobs, kind } }) => {
  hashBlobs(blobs, kind).then(
    (hexes) => scope.postMessage({ id, hexes }),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
