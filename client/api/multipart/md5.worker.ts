import { md5OfBlob } from './blob-md5.ts';
import type { HashAnswer, HashRequest } from './hash-workers.ts';

/**
 * A hashing worker: it gets a part's Blob (a slice of the file, not its bytes), reads and hashes
 * it here, and answers the MD5, so the page's main thread never reads or hashes a part.
 */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage: (answer: HashAnswer) => void;
};

scope.onmessage = ({ data: { id, blob } }) => {
  md5OfBlob(blob).then(
    (md5Hex) => scope.postMessage({ id, md5Hex }),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
