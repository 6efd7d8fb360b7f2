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

scope.onmessage = ({ data: { id, blob, kind } }) => {
  hashBlob(blob, kind).then(
    (hex) => scope.postMessage({ id, hex }),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
