import { CRC32_HEADER } from '../../contract/api.ts';
import { ApiError } from './errors.ts';

/** What storage answered to one request sent straight to it. `status` 0: the connection failed. */
export interface StorageAnswer {
  status: number;
  etag: string | null;
  /** The CRC32 storage answered for what it received (x-amz-checksum-crc32), if it did. */
  crc32?: string | null;
  /** S3's own error code from its XML body, e.g. EntityTooLarge, NoSuchUpload. */
  storageCode?: string;
  /** Whether any byte of the body left before the connection failed. */
  sentAnything: boolean;
}

export const ok = (answer: StorageAnswer) => answer.status >= 200 && answer.status < 300;

/** S3 answers a refused request with XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
const storageCodeOf = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

export const cancelled = () => new ApiError('cancelled', 'Upload cancelled.');

/**
 * Sends one body straight to storage and reports upload progress. XHR rather than fetch: only XHR
 * reports upload progress in every browser. Resolves with any answer (errors included) so that
 * callers decide what a status means; rejects only when `signal` aborts it.
 */
export function sendToStorage(
  method: 'POST' | 'PUT',
  url: string,
  body: Blob | FormData,
  options: { signal: AbortSignal; headers?: Record<string, string>; onProgress: (loaded: number, total: number) => void },
): Promise<StorageAnswer> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(cancelled());
    const xhr = new XMLHttpRequest();
    let sentAnything = false;
    xhr.open(method, url);
    for (const [name, value] of Object.entries(options.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      sentAnything ||= event.loaded > 0;
      if (event.lengthComputable) options.onProgress(event.loaded, event.total);
    };
    xhr.onload = () =>
      resolve({
        status: xhr.status,
        etag: xhr.getResponseHeader('ETag'),
        crc32: xhr.getResponseHeader(CRC32_HEADER),
        storageCode: storageCodeOf(xhr.responseText),
        sentAnything: true,
      });
    xhr.onerror = () => resolve({ status: 0, etag: null, sentAnything });
    xhr.onabort = () => reject(cancelled());
    options.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
