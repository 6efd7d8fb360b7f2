import {
  api,
  FileRequestLink,
  FileRequestList,
  FileRequestPublic,
  RequestVisitResult,
  UploadPolicy,
  type CreateFileRequest,
  type RequestUploadRequest,
  type RequestVisit,
} from '../../contract/api.ts';
import { ApiError } from './errors.ts';
import { requestJson, requestNoContent } from './http.ts';
import { ok, sendToStorage } from './xhr.ts';

/** Request links: the requester's calls (signed in) and the visitor's (the link is the permission). */
export const requestsApi = {
  create: (request: CreateFileRequest) => requestJson(FileRequestLink, api.requests, { method: 'POST', body: request }),
  list: () => requestJson(FileRequestList, api.requests),
  close: (id: string) => requestNoContent(api.request(id), { method: 'DELETE' }),
  open: (id: string) => requestJson(FileRequestPublic, api.requestPublic(id)),
  sign: (id: string, request: RequestUploadRequest, signal?: AbortSignal) =>
    requestJson(UploadPolicy, api.requestUploads(id), { method: 'POST', body: request, signal }),
  visitDone: (id: string, visit: RequestVisit) => requestJson(RequestVisitResult, api.requestVisits(id), { method: 'POST', body: visit }),
};

/**
 * Posts a file under a presigned POST: the policy's fields first, the file last (S3 ignores fields
 * after the file), as the main page's form does, with progress.
 */
export async function postFile(
  policy: UploadPolicy,
  file: File,
  options: { signal: AbortSignal; onProgress: (loaded: number, total: number) => void },
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
  form.append('file', file);
  const answer = await sendToStorage('POST', policy.url, form, options);
  if (ok(answer)) return;
  if (answer.status === 0)
    throw new ApiError(answer.sentAnything ? 'upload_failed' : 'storage_unreachable', 'The upload did not reach storage.');
  throw new ApiError('upload_rejected', `Storage answered ${answer.status}`, answer.storageCode);
}
