import { readAndHash } from './blob-md5.ts';
import type { HashAnswer, HashRequest } from './hash-workers.ts';

/**
 * A hashing worker: it gets a part's Blob (a slice of the file, not its bytes), reads it once and
 * hashes it here, and hands the bytes back with the MD5 (transferred, not copied), so the page's
 * main thread neither reads nor hashes a part, and the part is read only once.
 */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage: (answer: HashAnswer, transfer?: Transferable[]) => void;
};

scope.onmessage = ({ data: { id, blob } }) => {
  readAndHash(blob).then(
    ({ md5Hex, bytes }) => scope.postMessage({ id, md5Hex, bytes }, [bytes]),
    (err: unknown) => scope.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
};
