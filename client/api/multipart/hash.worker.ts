import { createCRC32, createMD5 } from 'hash-wasm';
import { hashBlob } from './blob-hash.ts';
import type { HashAnswer, HashRequest } from './hash-workers.ts';

/**
 * A hashing worker: it gets a part's Blob (a slice of the file, not its bytes), reads and hashes
 * it here, and answers the hash, so the page's main thread never reads or hashes a part.
 */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage: (answer: HashAnswer) => void;
};

// Compiled once the worker starts (see HashWorkers.warm), not when the first part arrives.
void Promise.all([createMD5(), createCRC32()]).catch(() => {});

scope.onmessage = ({ data: { id, blob, kind } }) => {
  hashBlob(blob, kind).then(
    (hex) => scope.postMessage({ id, hex }),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
