import type { ErrorCode } from '../../contract/api.ts';

const statusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  json_required: 415,
  body_too_large: 413,
  file_too_large: 413,
  unsupported_type: 415,
  not_found: 404,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  rate_limited: 429,
  storage_unavailable: 503,
  internal_error: 500,
  too_many_share_links: 409,
  unknown_host: 421,
  request_closed: 410,
  request_full: 409,
  limits_unavailable: 503,
  quota_exceeded: 413,
  not_previewable: 400,
};

/** The one error type the HTTP layer turns into `{ error: { code, message } }`. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = statusByCode[code];
  }
}
