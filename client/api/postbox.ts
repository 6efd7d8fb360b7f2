import {
  api,
  DownloadLink,
  FilePage,
  Health,
  SessionState,
  ShareLink,
  ShareList,
  UploadPolicy,
  UploadSettings,
  type LinkRequest,
  type ShareRequest,
  type UploadRequest,
} from '../../server/http/contract.ts';
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
  listFiles: (cursor?: string) =>
    requestJson(FilePage, cursor ? `${api.files}?${new URLSearchParams({ cursor })}` : api.files),
  createLink: (key: string, request: LinkRequest) =>
    requestJson(DownloadLink, api.fileLink(key), { method: 'POST', body: request }),
  deleteFile: (key: string) => requestNoContent(api.file(key), { method: 'DELETE' }),
  createShare: (key: string, request: ShareRequest) =>
    requestJson(ShareLink, api.fileShares(key), { method: 'POST', body: request }),
  listShares: (key: string) => requestJson(ShareList, api.fileShares(key)),
  revokeShare: (id: string) => requestNoContent(api.share(id), { method: 'DELETE' }),
};
