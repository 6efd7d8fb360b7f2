import { ApiError } from './errors.ts';
import { ok, sendToStorage } from './xhr.ts';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * Posts a presigned-POST form straight to storage with the form's own FormData (hidden fields
 * first, the file last, as S3 requires), reporting upload progress.
 */
export async function postForm(
  form: HTMLFormElement,
  options: { signal: AbortSignal; onProgress: (progress: UploadProgress) => void },
): Promise<void> {
  const answer = await sendToStorage('POST', form.action, new FormData(form), {
    signal: options.signal,
    onProgress: (loaded, total) => options.onProgress({ loaded, total }),
  });
  if (ok(answer)) return;
  if (answer.status === 0) {
    throw answer.sentAnything
      ? new ApiError('upload_failed', 'The connection to storage broke during the upload.')
      : new ApiError('storage_unreachable', 'The browser could not connect to storage.');
  }
  const code = answer.storageCode;
  throw new ApiError('upload_rejected', `Storage answered ${answer.status}${code ? ` ${code}` : ''}`, code);
}
