import { ApiError } from './errors.ts';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** S3 answers a refused POST with XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
function storageErrorCode(xml: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
}

/**
 * Posts a presigned-POST form straight to storage with the form's own FormData (hidden fields
 * first, the file last, as S3 requires), reporting upload progress. XHR rather than fetch: only
 * XHR reports upload progress in every browser.
 */
export function postForm(
  form: HTMLFormElement,
  options: { signal: AbortSignal; onProgress: (progress: UploadProgress) => void },
): Promise<void> {
  const body = new FormData(form);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let sentAnything = false;
    xhr.open('POST', form.action);
    xhr.upload.onprogress = (event) => {
      sentAnything ||= event.loaded > 0;
      if (event.lengthComputable) options.onProgress({ loaded: event.loaded, total: event.total });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve();
        return;
      }
      const code = storageErrorCode(xhr.responseText);
      reject(new ApiError('upload_rejected', `Storage answered ${xhr.status}${code ? ` ${code}` : ''}`, code));
    };
    xhr.onerror = () =>
      reject(
        sentAnything
          ? new ApiError('upload_failed', 'The connection to storage broke during the upload.')
          : new ApiError('storage_unreachable', 'The browser could not connect to storage.'),
      );
    xhr.onabort = () => reject(new ApiError('cancelled', 'Upload cancelled.'));
    if (options.signal.aborted) {
      reject(new ApiError('cancelled', 'Upload cancelled.'));
      return;
    }
    options.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
