import { pageHashWorkers } from './multipart/hash-workers.ts';
import { postboxMultipartApi } from './multipart/multipart-api.ts';
import { sleep, uploadMultipart as orchestrate, type MultipartDeps, type MultipartOptions } from './multipart/orchestrator.ts';
import { fileFingerprint, resumableIn, webStorageRecords, type ResumableUpload } from './multipart/resume-record.ts';
import { sendToStorage } from './xhr.ts';

/**
 * The page's multipart upload: the orchestrator (./multipart/orchestrator.ts) wired to the Postbox
 * API, XHR and localStorage. Tests wire it to fakes instead.
 */

export { MAX_ATTEMPTS, type MultipartOptions, type MultipartProgress } from './multipart/orchestrator.ts';
export type { ResumableUpload } from './multipart/resume-record.ts';

const records = webStorageRecords(() => localStorage);
/** Parts are read and hashed in Web Workers: the page's main thread stays free while a big file goes up. */
const hashWorkers = pageHashWorkers();

export const pageDeps: MultipartDeps = {
  api: postboxMultipartApi,
  transport: (url, body, headers, signal, onProgress) =>
    sendToStorage('PUT', url, body, { signal, headers, onProgress: (loaded) => onProgress(loaded) }),
  records,
  fingerprint: fileFingerprint,
  hash: (parts, kind, priority, signal) => hashWorkers.hash(parts, kind, priority, signal),
  wait: sleep,
  now: Date.now,
};

export function uploadMultipart(file: File, options: MultipartOptions) {
  hashWorkers.warm(); // while the upload is created and its first URLs signed
  return orchestrate(file, options, pageDeps);
}

/** This browser's unfinished big uploads (a week at most), newest first. */
export const resumableUploads = (): ResumableUpload[] => resumableIn(records);

/** Fired on window when this page forgets an upload's record (another tab hears `storage`). */
export const RESUMABLE_CHANGED = 'postbox:resumable-changed';

/** Forgets this browser's record of an upload, once it is discarded on storage. */
export function forgetResumable(ref: { key: string; uploadId: string }): void {
  for (const upload of resumableUploads()) {
    if (upload.key === ref.key && upload.uploadId === ref.uploadId) records.forget(upload.fingerprint);
  }
  window.dispatchEvent(new Event(RESUMABLE_CHANGED));
}

/** Cancels a paused upload of this file: aborts it on storage (if it still exists) and forgets it. */
export async function abandonMultipart(file: File): Promise<void> {
  const fingerprint = await fileFingerprint(file);
  const record = records.load(fingerprint);
  records.forget(fingerprint);
  window.dispatchEvent(new Event(RESUMABLE_CHANGED));
  if (record) await postboxMultipartApi.abort(record).catch(() => {});
}
