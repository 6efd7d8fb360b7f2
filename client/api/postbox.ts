import {
  api,
  CompletedUpload,
  DownloadLink,
  FilePage,
  Health,
  PreviewLink,
  ThumbnailUrls,
  type ThumbnailRequest,
  MultipartUpload,
  PartUrls,
  SessionState,
  ShareLink,
  ShareList,
  StaleUploads,
  UploadedParts,
  UploadPolicy,
  UploadSettings,
  Usage,
  TokenList,
  CreatedToken,
  type CompleteRequest,
  type LinkRequest,
  type MultipartRef,
  type PartUrlsRequest,
  type BundleRequest,
  type ShareRequest,
  PART_CHECKS_HEADER,
  type PartCheck,
  type UploadRequest,
} from '../../contract/api.ts';
import { requestJson, requestNoContent } from './http.ts';

/** The Postbox HTTP API, typed by the contract the server validates with. */
export const postboxApi = {
  settings: () => requestJson(UploadSettings, api.settings),
  session: () => requestJson(SessionState, api.session),
  signIn: (password: string) => requestNoContent(api.session, { method: 'POST', body: { password } }),
  signOut: () => requestNoContent(api.session, { method: 'DELETE' }),
  /** 503 still carries a Health body: it says which part is down. */
  health: () => requestJson(Health, api.health, { alsoAccept: [503] }),
  signUpload: (request: UploadRequest, signal?: AbortSignal) =>
    requestJson(UploadPolicy, api.uploads, { method: 'POST', body: request, signal }),
  /** `partChecks`: the part checks the caller can do (see PART_CHECKS_HEADER). */
  createMultipart: (request: UploadRequest, partChecks: readonly PartCheck[], signal?: AbortSignal) =>
    requestJson(MultipartUpload, api.multipartUploads, {
      method: 'POST',
      body: request,
      headers: { [PART_CHECKS_HEADER]: partChecks.join(', ') },
      signal,
    }),
  signParts: (request: PartUrlsRequest, signal?: AbortSignal) =>
    requestJson(PartUrls, api.multipartSign, { method: 'POST', body: request, signal }),
  listParts: (ref: MultipartRef, signal?: AbortSignal) =>
    requestJson(UploadedParts, `${api.multipartParts}?${new URLSearchParams(ref)}`, { signal }),
  completeMultipart: (request: CompleteRequest, signal?: AbortSignal) =>
    requestJson(CompletedUpload, api.multipartComplete, { method: 'POST', body: request, signal }),
  abortMultipart: (ref: MultipartRef) => requestNoContent(api.multipartUpload(ref.key, ref.uploadId), { method: 'DELETE' }),
  staleMultipartUploads: (olderThanSeconds: number) =>
    requestJson(StaleUploads, `${api.multipartUploads}?${new URLSearchParams({ olderThanSeconds: String(olderThanSeconds) })}`),
  listFiles: (cursor?: string) => requestJson(FilePage, cursor ? `${api.files}?${new URLSearchParams({ cursor })}` : api.files),
  createLink: (key: string, request: LinkRequest) => requestJson(DownloadLink, api.fileLink(key), { method: 'POST', body: request }),
  previewFile: (key: string) => requestJson(PreviewLink, api.filePreview(key), { method: 'POST' }),
  signThumbnail: (key: string, request: ThumbnailRequest) =>
    requestJson(UploadPolicy, api.fileThumbnail(key), { method: 'POST', body: request }),
  thumbnails: (keys: string[]) => requestJson(ThumbnailUrls, api.thumbnails, { method: 'POST', body: { keys } }),
  deleteFile: (key: string) => requestNoContent(api.file(key), { method: 'DELETE' }),
  createShare: (key: string, request: ShareRequest) => requestJson(ShareLink, api.fileShares(key), { method: 'POST', body: request }),
  listShares: (key: string) => requestJson(ShareList, api.fileShares(key)),
  createBundle: (request: BundleRequest) => requestJson(ShareLink, api.shares, { method: 'POST', body: request }),
  revokeShare: (id: string) => requestNoContent(api.share(id), { method: 'DELETE' }),
  usage: () => requestJson(Usage, api.usage),
  listTokens: () => requestJson(TokenList, api.tokens),
  createToken: (name: string) => requestJson(CreatedToken, api.tokens, { method: 'POST', body: { name } }),
  revokeToken: (id: string) => requestNoContent(api.token(id), { method: 'DELETE' }),
};
