/**
 * The HTTP API's request and response shapes, defined once: the server validates with these
 * schemas and the client types its calls (and checks responses) with the same ones.
 * Keep this module free of Node-only imports: the browser bundle includes it.
 */
import { z } from 'zod';

export const errorCodes = [
  'invalid_request',
  'invalid_json',
  'json_required',
  'body_too_large',
  'file_too_large',
  'unsupported_type',
  'not_found',
  'unauthorized',
  'invalid_credentials',
  'forbidden',
  'rate_limited',
  'storage_unavailable',
  'internal_error',
  'too_many_share_links',
] as const;
export const ErrorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** What the browser says about a file it wants to upload. */
export const UploadRequest = z.strictObject({
  name: z.string().min(1).max(1024),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  type: z.string().max(255),
});
export type UploadRequest = z.infer<typeof UploadRequest>;

/** A presigned POST: render a form posting `fields` then the file to `url`. */
export const UploadPolicy = z.object({
  url: z.string(),
  fields: z.record(z.string(), z.string()),
  key: z.string(),
  expiresAt: z.string(),
});
export type UploadPolicy = z.infer<typeof UploadPolicy>;

export const StoredFile = z.object({
  key: z.string(),
  name: z.string(),
  type: z.string(),
  size: z.number(),
  uploadedAt: z.string(),
});
export type StoredFile = z.infer<typeof StoredFile>;

export const FileListQuery = z.strictObject({
  cursor: z.string().min(1).max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});
export type FileListQuery = z.input<typeof FileListQuery>;

export const FilePage = z.object({
  files: z.array(StoredFile),
  nextCursor: z.string().nullable(),
});
export type FilePage = z.infer<typeof FilePage>;

export const LINK_EXPIRY_MIN_SECONDS = 60;
export const LINK_EXPIRY_MAX_SECONDS = 7 * 24 * 3600;

export const LinkRequest = z.strictObject({
  expiresIn: z.number().int().min(LINK_EXPIRY_MIN_SECONDS).max(LINK_EXPIRY_MAX_SECONDS),
});
export type LinkRequest = z.infer<typeof LinkRequest>;

export const DownloadLink = z.object({
  url: z.string(),
  expiresAt: z.string(),
});
export type DownloadLink = z.infer<typeof DownloadLink>;

/** Limits the browser checks before asking for a policy (the server and S3 enforce them anyway). */
export const UploadSettings = z.object({
  maxUploadBytes: z.number(),
  allowedTypes: z.array(z.string()),
  deniedTypes: z.array(z.string()),
});
export type UploadSettings = z.infer<typeof UploadSettings>;

export const Health = z.object({
  status: z.enum(['ok', 'unavailable']),
  storage: z.object({
    reachable: z.boolean(),
    mode: z.enum(['embedded', 'external']),
    latencyMs: z.number().optional(),
  }),
});
export type Health = z.infer<typeof Health>;

export const SignInRequest = z.strictObject({ password: z.string().min(1).max(1024) });
export type SignInRequest = z.infer<typeof SignInRequest>;

export const SessionState = z.object({
  /** Whether uploading, listing and deleting need sign-in. */
  authRequired: z.boolean(),
  /** Whether a password sign-in exists (API tokens alone are for scripts). */
  signInEnabled: z.boolean(),
  signedIn: z.boolean(),
});
export type SessionState = z.infer<typeof SessionState>;

/** Matches a content type against patterns such as `image/png`, `image/*` or `*\/*`. */
function matchesAny(type: string, patterns: readonly string[]): boolean {
  const [major, minor] = type.split('/');
  return patterns.some((pattern) => {
    const [pMajor, pMinor] = pattern.split('/');
    return (pMajor === '*' || pMajor === major) && (pMinor === '*' || pMinor === minor);
  });
}

/** Allowed by ALLOWED_TYPES and not refused by DENIED_TYPES. */
export function isTypeAccepted(type: string, rules: Pick<UploadSettings, 'allowedTypes' | 'deniedTypes'>): boolean {
  return matchesAny(type, rules.allowedTypes) && !matchesAny(type, rules.deniedTypes);
}

export const api = {
  settings: '/api/settings',
  session: '/api/session',
  health: '/api/health',
  uploads: '/api/uploads',
  files: '/api/files',
  file: (key: string) => `/api/files/${encodeURIComponent(key)}`,
  fileLink: (key: string) => `/api/files/${encodeURIComponent(key)}/link`,
  fileShares: (key: string) => `/api/files/${encodeURIComponent(key)}/shares`,
  share: (id: string) => `/api/shares/${encodeURIComponent(id)}`,
} as const;

/*
 * Share links (`/s/<id>`): Postbox URLs that live as long as their owner chooses and can be revoked.
 * Each download is a fresh presigned GET that lives seconds.
 */
export const SHARE_EXPIRY_MIN_SECONDS = 3600;
export const SHARE_EXPIRY_MAX_SECONDS = 365 * 24 * 3600;
export const SHARE_MAX_DOWNLOADS = 1_000_000;
export const SHARE_NOTE_MAX_CHARS = 500;
export const SHARE_PASSWORD_MIN_CHARS = 8;
export const SHARE_PASSWORD_MAX_CHARS = 200;
/** Live (not revoked) share links one file may have. */
export const SHARE_LINKS_PER_FILE = 100;

export const ShareRequest = z.strictObject({
  /** Seconds from now; null: never expires. */
  expiresIn: z.number().int().min(SHARE_EXPIRY_MIN_SECONDS).max(SHARE_EXPIRY_MAX_SECONDS).nullable(),
  password: z.string().min(SHARE_PASSWORD_MIN_CHARS).max(SHARE_PASSWORD_MAX_CHARS).optional(),
  /** Absent or null: no limit. */
  maxDownloads: z.number().int().min(1).max(SHARE_MAX_DOWNLOADS).nullable().optional(),
  note: z.string().max(SHARE_NOTE_MAX_CHARS).optional(),
});
export type ShareRequest = z.infer<typeof ShareRequest>;

export const ShareLink = z.object({
  id: z.string(),
  /** Absolute: the page anyone with the link opens. */
  url: z.string(),
  fileKey: z.string(),
  state: z.enum(['active', 'expired', 'exhausted']),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  maxDownloads: z.number().nullable(),
  downloads: z.number(),
  lastDownloadAt: z.string().nullable(),
  note: z.string().nullable(),
  hasPassword: z.boolean(),
});
export type ShareLink = z.infer<typeof ShareLink>;

export const ShareList = z.object({ shares: z.array(ShareLink) });
export type ShareList = z.infer<typeof ShareList>;
