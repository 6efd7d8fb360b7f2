import { md5 } from 'hash-wasm';
import { MiB, MULTIPART_SIGN_BATCH, partCountOf, partLengthOf, type CompleteRequest, type MultipartRef, type UploadedPart } from '../../contract/api.ts';
import { ApiError, isRetryable } from './errors.ts';
import { postboxApi } from './postbox.ts';

/**
 * Big files: S3 multipart upload straight from the browser. The server creates the upload, signs
 * part URLs in batches and completes it; the parts go from here to storage, several at once, each
 * with a Content-MD5 storage verifies. A failed part is sent again with backoff; an expired URL is
 * signed again. A record in localStorage (file fingerprint → key and upload id) lets the same file,
 * chosen again after a reload or a lost connection, continue from the parts storage already has.
 *
 * Abort the signal with reason `'pause'` to stop and keep what was sent; any other abort cancels:
 * the upload is aborted on storage and forgotten.
 */

export interface MultipartProgress {
  /** Bytes storage has (finished parts) plus bytes of parts in flight. */
  loaded: number;
  total: number;
  /** While a part that failed waits to be or is being sent again: its attempt (2 to MAX_ATTEMPTS). */
  retryAttempt?: number;
}

export interface MultipartOptions {
  concurrency: number;
  signal: AbortSignal;
  onProgress: (progress: MultipartProgress) => void;
  /** Once storage's parts are known: how many bytes were already there (resumed), 0 for a new upload. */
  onStart?: (resumedBytes: number) => void;
}

interface ResumeRecord extends MultipartRef {
  partSize: number;
  /** The server's binding of key, upload id, size and part size: signing and completing send it. */
  uploadToken: string;
  createdAt: number;
}

const RECORD_PREFIX = 'postbox:multipart:';
/** Records older than this are dropped: the stale-upload cleanup has removed such uploads by then. */
const RECORD_MAX_AGE_MS = 7 * 24 * 3600_000;
export const MAX_ATTEMPTS = 6;
/** Each Complete may wait minutes for storage to join the parts; retries cover a join of about an hour. */
const MAX_COMPLETE_ATTEMPTS = 12;
/** Ask for fresh part URLs when they have less than this left. */
const URL_MARGIN_MS = 60_000;


const base64OfHex = (hex: string) => btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));

/** Name, size, last change, and the MD5 of the first and last MiB: the same file, chosen again, finds its upload. */
export async function fileFingerprint(file: File): Promise<string> {
  const head = new Uint8Array(await file.slice(0, MiB).arrayBuffer());
  const tail = new Uint8Array(await file.slice(Math.max(0, file.size - MiB)).arrayBuffer());
  const sample = new Uint8Array(head.length + tail.length);
  sample.set(head);
  sample.set(tail, head.length);
  return `${file.size}:${file.lastModified}:${await md5(sample)}:${file.name}`;
}

/** A big upload this browser started and did not finish: choosing the same file again continues it. */
export interface ResumableUpload extends MultipartRef {
  fingerprint: string;
  name: string;
  size: number;
  startedAt: number;
}

/** This browser's unfinished big uploads (a week at most), newest first. */
export function resumableUploads(): ResumableUpload[] {
  let ids: string[];
  try {
    ids = Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i) ?? '').filter((id) => id.startsWith(RECORD_PREFIX));
  } catch {
    return [];
  }
  return ids
    .flatMap((id) => {
      const fingerprint = id.slice(RECORD_PREFIX.length);
      const fields = /^(\d+):\d+:[0-9a-f]{32}:(.*)$/s.exec(fingerprint);
      const record = fields ? loadRecord(fingerprint) : undefined;
      if (!fields || !record) return [];
      return [{ fingerprint, name: fields[2]!, size: Number(fields[1]), key: record.key, uploadId: record.uploadId, startedAt: record.createdAt }];
    })
    .sort((a, b) => b.startedAt - a.startedAt);
}

/** Fired on window when this page forgets an upload's record (another tab hears `storage`). */
export const RESUMABLE_CHANGED = 'postbox:resumable-changed';

/** Forgets this browser's record of an upload, once it is discarded on storage. */
export function forgetResumable(ref: MultipartRef): void {
  for (const upload of resumableUploads()) {
    if (upload.key === ref.key && upload.uploadId === ref.uploadId) forgetRecord(upload.fingerprint);
  }
  window.dispatchEvent(new Event(RESUMABLE_CHANGED));
}

function loadRecord(fingerprint: string): ResumeRecord | undefined {
  try {
    const record = JSON.parse(localStorage.getItem(RECORD_PREFIX + fingerprint) ?? 'null') as ResumeRecord | null;
    if (record && typeof record.uploadToken === 'string' && Date.now() - record.createdAt < RECORD_MAX_AGE_MS) return record;
  } catch {
    // unreadable: start over
  }
  forgetRecord(fingerprint);
  return undefined;
}

function saveRecord(fingerprint: string, record: ResumeRecord) {
  try {
    localStorage.setItem(RECORD_PREFIX + fingerprint, JSON.stringify(record));
  } catch {
    // storage full or disabled: the upload still works, it just cannot resume after a reload
  }
}

function forgetRecord(fingerprint: string) {
  try {
    localStorage.removeItem(RECORD_PREFIX + fingerprint);
  } catch {
    // nothing to do
  }
}

const storageCode = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

interface PartAnswer {
  status: number;
  etag: string | null;
  code?: string;
}

/** PUTs one part with XHR (upload progress), its Content-MD5 in a header. */
function putPart(url: string, body: Blob, contentMd5: string, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<PartAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-MD5', contentMd5);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag'), code: storageCode(xhr.responseText) });
    xhr.onerror = () => resolve({ status: 0, etag: null });
    xhr.onabort = () => reject(new ApiError('cancelled', 'Upload cancelled.'));
    if (signal.aborted) {
      reject(new ApiError('cancelled', 'Upload cancelled.'));
      return;
    }
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ApiError('cancelled', 'Upload cancelled.'));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new ApiError('cancelled', 'Upload cancelled.'));
      },
      { once: true },
    );
  });
}

/** Backoff before attempt `attempt` (1-based): 0.5 s, 1 s, 2 s, … up to 15 s, with jitter. */
export const backoffMs = (attempt: number) => Math.min(15_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);

export async function uploadMultipart(file: File, options: MultipartOptions): Promise<{ key: string }> {
  const { signal } = options;
  const type = file.type || 'application/octet-stream';
  const fingerprint = await fileFingerprint(file);

  // Resume when storage still has this file's upload.
  let stored: UploadedPart[] = [];
  let record = loadRecord(fingerprint);
  if (record) {
    try {
      stored = (await postboxApi.listParts({ key: record.key, uploadId: record.uploadId }, signal)).parts;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'not_found')) throw err;
      forgetRecord(fingerprint);
      record = undefined;
    }
  }
  if (!record) {
    const created = await postboxApi.createMultipart({ name: file.name, size: file.size, type }, signal);
    record = { key: created.key, uploadId: created.uploadId, partSize: created.partSize, uploadToken: created.uploadToken, createdAt: Date.now() };
    saveRecord(fingerprint, record);
  }
  const ref: MultipartRef = { key: record.key, uploadId: record.uploadId };
  // The upload keeps the part size it was created with, whatever the setting says now; part URLs
  // are asked for with it.
  const { partSize } = record;
  const partCount = partCountOf(file.size, partSize);
  const sizeOf = (n: number) => partLengthOf(file.size, partSize, n);
  const done = new Map<number, string>();
  // Parts storage has are kept only once their ETag is found to be the MD5 of this file's bytes
  // (each is hashed in turn, as a part to send would be): anyone who can sign parts could have put
  // other bytes of the same length there.
  const kept = new Map<number, string>();
  for (const part of stored) if (part.partNumber <= partCount && part.size === sizeOf(part.partNumber)) kept.set(part.partNumber, part.etag);

  const cancel = async () => {
    if (signal.reason === 'pause') throw new ApiError('paused', 'Upload paused.');
    forgetRecord(fingerprint);
    await postboxApi.abortMultipart(ref).catch(() => {});
    throw new ApiError('cancelled', 'Upload cancelled.');
  };

  // One failed part stops the others: they all listen to `stop`, which follows `signal` too.
  const stop = new AbortController();
  const follow = () => stop.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  try {
    let doneBytes = 0;
    for (const n of kept.keys()) doneBytes += sizeOf(n);
    options.onStart?.(doneBytes);
    const inFlight = new Map<number, number>();
    /** Parts sent again after a failure, by their attempt. */
    const retrying = new Map<number, number>();
    const report = () => {
      let loaded = doneBytes;
      for (const bytes of inFlight.values()) loaded += bytes;
      options.onProgress({ loaded, total: file.size, ...(retrying.size && { retryAttempt: Math.max(...retrying.values()) }) });
    };
    report();

    const queue: number[] = [];
    for (let n = 1; n <= partCount; n++) queue.push(n);

    // Part URLs, signed in batches of up to 100 (one rate-limited request per batch), one batch at a time.
    const urls = new Map<number, { url: string; expiresAt: number }>();
    let signing: Promise<void> | undefined;
    const urlFor = async (n: number): Promise<string> => {
      for (;;) {
        const cached = urls.get(n);
        if (cached && cached.expiresAt - Date.now() > URL_MARGIN_MS) return cached.url;
        if (!signing) {
          // This part and the next ones still to send (queued or in flight) without a fresh URL.
          const batch = [n];
          for (let m = 1; m <= partCount && batch.length < MULTIPART_SIGN_BATCH; m++) {
            const url = urls.get(m);
            if (m !== n && !done.has(m) && !kept.has(m) && (!url || url.expiresAt - Date.now() <= URL_MARGIN_MS)) batch.push(m);
          }
          signing = postboxApi
            .signParts({ uploadToken: record.uploadToken, partNumbers: batch.sort((a, b) => a - b) }, stop.signal)
            .then((answer) => {
              const expiresAt = Date.parse(answer.expiresAt);
              for (const { partNumber, url } of answer.urls) urls.set(partNumber, { url, expiresAt });
            })
            .finally(() => {
              signing = undefined;
            });
        }
        await signing;
      }
    };

    const sendPart = async (n: number) => {
      const start = (n - 1) * partSize;
      const body = file.slice(start, start + sizeOf(n));
      const md5Hex = await md5(new Uint8Array(await body.arrayBuffer()));
      const keptEtag = kept.get(n);
      if (keptEtag !== undefined) {
        kept.delete(n);
        if (keptEtag.replace(/"/g, '').toLowerCase() === md5Hex) {
          done.set(n, keptEtag);
          return;
        }
        doneBytes -= sizeOf(n); // storage has other bytes there: send this part again
        report();
      }
      const contentMd5 = base64OfHex(md5Hex);
      for (let attempt = 1; ; attempt++) {
        const url = await urlFor(n);
        inFlight.set(n, 0);
        let answer: PartAnswer;
        try {
          answer = await putPart(url, body, contentMd5, stop.signal, (loaded) => {
            inFlight.set(n, loaded);
            report();
          });
        } finally {
          // A part in flight counts only once storage has it: a stopped or failed part starts again from 0.
          inFlight.delete(n);
          report();
        }
        if (answer.status >= 200 && answer.status < 300) {
          if (!answer.etag) throw new ApiError('etag_hidden', 'Storage did not expose the ETag of a part.');
          done.set(n, answer.etag);
          doneBytes += sizeOf(n);
          retrying.delete(n);
          report();
          return;
        }
        if (answer.code === 'NoSuchUpload') {
          forgetRecord(fingerprint);
          throw new ApiError('upload_rejected', `Storage answered ${answer.status} NoSuchUpload`, 'NoSuchUpload');
        }
        // An expired or refused URL: sign this part again (and do not count it as a failure, once).
        if (answer.status === 403) urls.delete(n);
        if (attempt >= MAX_ATTEMPTS) {
          throw answer.status === 0
            ? new ApiError('upload_failed', 'The connection to storage broke during the upload.')
            : new ApiError('upload_rejected', `Storage answered ${answer.status}${answer.code ? ` ${answer.code}` : ''}`, answer.code);
        }
        if (!(answer.status === 403 && attempt === 1)) {
          retrying.set(n, attempt + 1);
          report();
          await sleep(backoffMs(attempt), stop.signal);
        }
      }
    };

    const worker = async () => {
      try {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) await sendPart(n);
      } catch (err) {
        stop.abort('failed');
        throw err;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));

    const parts = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
    await completeWithRetries({ uploadToken: record.uploadToken, parts }, signal);
    forgetRecord(fingerprint);
    return { key: ref.key };
  } catch (err) {
    if (signal.aborted) await cancel();
    throw err;
  } finally {
    signal.removeEventListener('abort', follow);
  }
}

/**
 * Completing can outlast a request (storage joins the parts before it answers) or lose its answer.
 * Asking again is safe: the server answers a Complete of an upload that has become its object with
 * success, and one whose join is still running with that join's outcome.
 */
async function completeWithRetries(request: CompleteRequest, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await postboxApi.completeMultipart(request, signal);
      return;
    } catch (err) {
      if (signal.aborted || !isRetryable(err) || attempt >= MAX_COMPLETE_ATTEMPTS) throw err;
      await sleep(backoffMs(attempt), signal);
    }
  }
}

/** Cancels a paused upload of this file: aborts it on storage (if it still exists) and forgets it. */
export async function abandonMultipart(file: File): Promise<void> {
  const fingerprint = await fileFingerprint(file);
  const record = loadRecord(fingerprint);
  forgetRecord(fingerprint);
  if (record) await postboxApi.abortMultipart({ key: record.key, uploadId: record.uploadId }).catch(() => {});
}
