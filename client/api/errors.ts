import type { ErrorCode } from '../../contract/api.ts';

/** The server's codes plus the failures only the browser sees. */
export type ClientErrorCode =
  | ErrorCode
  | 'network_error'
  | 'unexpected_response'
  | 'storage_unreachable'
  | 'upload_rejected'
  | 'upload_failed'
  | 'etag_hidden'
  | 'paused'
  | 'cancelled';

export class ApiError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** For upload_rejected: the storage's own error code, e.g. EntityTooLarge. */
    readonly storageCode?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const sentences: Record<ClientErrorCode, string> = {
  invalid_request: 'Postbox could not accept that request.',
  invalid_json: 'The page sent something the server could not read. Reload the page and try again.',
  json_required: 'The page sent something the server could not read. Reload the page and try again.',
  body_too_large: 'The page sent something the server could not read. Reload the page and try again.',
  file_too_large: 'This file is too large to upload here.',
  unsupported_type: 'Files of this type are not accepted here.',
  not_found: 'That file no longer exists. Someone may have deleted it.',
  unauthorized: 'Your session has ended. Sign in again.',
  invalid_credentials: 'That password is not right.',
  forbidden: 'This request was refused because it did not come from the Postbox page.',
  rate_limited: 'Too many requests in a short time. Wait a moment and try again.',
  storage_unavailable: 'Storage is unreachable right now. Nothing was lost; try again in a moment.',
  internal_error: 'Something went wrong on the server. Try again in a moment.',
  too_many_share_links: 'This file has as many share links as it can have. Revoke one you no longer need, then try again.',
  unknown_host: 'Postbox does not answer under this address. Open it at the address you were given.',
  request_closed: 'This request link no longer takes files.',
  request_full: 'This request link has received all the files it takes.',
  limits_unavailable: 'Postbox is briefly unable to check sign-ins and limits. Nothing was lost; try again in a moment.',
  quota_exceeded: 'This upload does not fit in your storage quota. Delete files you no longer need, then try again.',
  not_previewable: 'Files of this type are never shown in the page. Download it instead.',
  network_error: 'Postbox cannot be reached. Check your connection and try again.',
  unexpected_response: 'The server answered in a way this page does not understand. Reload the page.',
  storage_unreachable: 'Storage could not be reached from this browser, so nothing was sent. Try again in a moment.',
  upload_rejected: 'Storage refused the upload. Retry to ask for a fresh permission.',
  upload_failed: 'The upload was interrupted before it finished. Retry to send it again.',
  etag_hidden: "Storage accepted a part but did not let this page read its ETag: the bucket's CORS rule must expose the ETag header.",
  paused: 'Paused. Resume to continue from where it stopped.',
  cancelled: 'Upload cancelled.',
};

const storageSentences: Record<string, string> = {
  EntityTooLarge: 'Storage refused the file: it is larger than this upload allows.',
  EntityTooSmall: 'Storage refused the file: it is smaller than this upload expects.',
  AccessDenied: 'Storage refused the upload: its permission expired or did not match. Retry to get a fresh one.',
  BadDigest: 'A part of the file arrived damaged, several times in a row. Retry: the parts already sent are kept.',
  NoSuchUpload: 'Storage no longer has this upload (it was cancelled or cleaned up). Retry to start it again.',
};

/** Codes whose messages from the server already read as sentences worth showing as they are. */
const detailedCodes = new Set<ClientErrorCode>(['file_too_large', 'unsupported_type', 'rate_limited', 'quota_exceeded']);

/** One human sentence for any error the page can meet. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return sentences.internal_error;
  if (error.storageCode && storageSentences[error.storageCode]) return storageSentences[error.storageCode]!;
  if (detailedCodes.has(error.code) && error.message) return error.message;
  // A code newer than this page (a server updated under it) reads like any answer it does not understand.
  return sentences[error.code] ?? sentences.unexpected_response;
}

export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    ['network_error', 'storage_unavailable', 'storage_unreachable', 'internal_error', 'rate_limited'].includes(error.code)
  );
}
