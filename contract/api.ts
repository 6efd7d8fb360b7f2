/**
 * The HTTP API's request and response shapes, defined once: the server validates with these
 * schemas and the client types its calls (and checks responses) with the same ones.
 * Keep this module free of Node-only imports: the browser bundle includes it.
 */
import { z } from 'zod';

export const MiB = 1024 * 1024;
/** SigV4 presigned URLs and POST policies cannot live longer than 7 days. */
export const SIGV4_MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
/*
 * Amazon S3's limits (docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html and upload-objects.html,
 * checked 2026): a single PUT or POST carries at most 5 GiB; a multipart upload has parts 1 to 10,000 of
 * 5 MiB to 5 GiB (the last may be smaller), so an object is at most 10,000 × 5 GiB = 48.8 TiB ("50 TB";
 * 5 TiB until Dec 2025). Other S3 stores may hold less (R2: about 5 TiB): MAX_UPLOAD_BYTES is the operator's.
 */
/** The largest object a single POST (or PUT) may carry on S3. */
export const S3_SINGLE_UPLOAD_MAX_BYTES = 5 * 1024 * MiB;
/** S3's smallest part (but the last) and largest part. */
export const S3_MIN_PART_BYTES = 5 * MiB;
export const S3_MAX_PART_BYTES = 5 * 1024 * MiB;
/** The largest object S3 holds: 10,000 parts (MULTIPART_MAX_PARTS) of 5 GiB, 48.8 TiB. */
export const S3_OBJECT_MAX_BYTES = 10_000 * S3_MAX_PART_BYTES;

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". Shared by the server's messages and the browser's. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))} ${UNITS[unit]}`;
}

/**
 * The code of an S3 error answer (`<Error><Code>EntityTooLarge</Code><Message>…</Message></Error>`), for the
 * browser's POSTs and part uploads and for tests; undefined when the body is not one.
 */
export function storageErrorCode(xml: string): string | undefined {
  return /<Error>[\s\S]*?<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
}

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
  'unknown_host',
  // Request links (docs/requests.md)
  'request_closed',
  'request_full',
  'limits_unavailable',
  'quota_exceeded',
  // Previews in the person's own list (docs/previews.md)
  'not_previewable',
] as const;
export const ErrorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one sentence for a file over MAX_UPLOAD_BYTES, from the server and the browser alike. */
export const fileTooLargeMessage = (maxBytes: number) => `This file is too large: the limit is ${formatBytes(maxBytes)} per file.`;

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
export const LINK_EXPIRY_MAX_SECONDS = SIGV4_MAX_EXPIRES_SECONDS;

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
  /** Files larger than this go through multipart upload. */
  multipartThresholdBytes: z.number(),
  /** Parts the browser sends at once. */
  multipartConcurrency: z.number(),
  allowedTypes: z.array(z.string()),
  deniedTypes: z.array(z.string()),
  /** Files are deleted this many days after upload (FILE_RETENTION_DAYS); null: kept until someone deletes them. */
  retentionDays: z.number().nullable(),
});
export type UploadSettings = z.infer<typeof UploadSettings>;

export const Health = z.object({
  status: z.enum(['ok', 'unavailable']),
  storage: z.object({
    reachable: z.boolean(),
    mode: z.enum(['embedded', 'external']),
    latencyMs: z.number().optional(),
  }),
  /** Where limits and session revocations are kept: this instance's memory, or Redis (REDIS_URL) shared by all. */
  sharedState: z
    .discriminatedUnion('mode', [z.object({ mode: z.literal('memory') }), z.object({ mode: z.literal('redis'), reachable: z.boolean() })])
    .optional(),
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
  /** open: one local person, no sign-in; password: one local person behind a password; oidc: many people, each with their own files. */
  mode: z.enum(['open', 'password', 'oidc']),
  /** Who is signed in with OIDC (the e-mail only when the provider verified it); null otherwise. */
  person: z.object({ id: z.string(), name: z.string().optional(), email: z.string().optional() }).nullable(),
  /** Where the sign-in button goes (`/auth/login`) in the oidc mode; null otherwise. */
  signInUrl: z.string().nullable(),
  /** Signed in with OIDC: the provider's end-session URL, to offer after signing out of Postbox; null when it has none. */
  endSessionUrl: z.string().nullable(),
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
  filePreview: (key: string) => `/api/files/${encodeURIComponent(key)}/preview`,
  fileThumbnail: (key: string) => `/api/files/${encodeURIComponent(key)}/thumbnail`,
  thumbnails: '/api/thumbnails',
  fileShares: (key: string) => `/api/files/${encodeURIComponent(key)}/shares`,
  share: (id: string) => `/api/shares/${encodeURIComponent(id)}`,
  shares: '/api/shares',
  multipartUploads: '/api/multipart-uploads',
  multipartSign: '/api/multipart-uploads/sign',
  multipartParts: '/api/multipart-uploads/parts',
  multipartComplete: '/api/multipart-uploads/complete',
  requests: '/api/requests',
  request: (id: string) => `/api/requests/${encodeURIComponent(id)}`,
  requestPublic: (id: string) => `/api/requests/${encodeURIComponent(id)}/public`,
  requestUploads: (id: string) => `/api/requests/${encodeURIComponent(id)}/uploads`,
  requestVisits: (id: string) => `/api/requests/${encodeURIComponent(id)}/visits`,
  multipartUpload: (key: string, uploadId: string) =>
    `/api/multipart-uploads/${encodeURIComponent(key)}?${new URLSearchParams({ uploadId })}`,
  usage: '/api/usage',
  tokens: '/api/tokens',
  token: (id: string) => `/api/tokens/${encodeURIComponent(id)}`,
  adminPeople: '/api/admin/people',
  adminPersonFiles: (id: string) => `/api/admin/people/${encodeURIComponent(id)}/files`,
  adminLegacyOwner: (key: string) => `/api/admin/legacy/${encodeURIComponent(key)}/owner`,
} as const;

/*
 * Multipart uploads: for files above `multipartThresholdBytes`, the browser sends parts straight to S3
 * with presigned UploadPart URLs the server signs in batches; the server creates, completes and aborts.
 */
export const MULTIPART_MAX_PARTS = 10_000;
/** Part URLs one signing request may ask for. */
export const MULTIPART_SIGN_BATCH = 100;

/** The part size for a file: `minPartBytes` (the server's setting), or more, in whole MiB, so that no file needs more than 10,000 parts. */
export function multipartPartSize(size: number, minPartBytes: number): number {
  return Math.max(minPartBytes, Math.ceil(Math.ceil(size / MULTIPART_MAX_PARTS) / MiB) * MiB);
}

export const partCountOf = (size: number, partSize: number) => Math.max(1, Math.ceil(size / partSize));

/** The length of part `partNumber` (1-based) of a file of `size` bytes: `partSize`, the last one what is left. */
export const partLengthOf = (size: number, partSize: number, partNumber: number) => Math.min(partSize, size - (partNumber - 1) * partSize);

const uploadId = z.string().min(1).max(1024);
const partNumber = z.number().int().min(1).max(MULTIPART_MAX_PARTS);

/**
 * How the page proves each part's bytes reached storage intact. `content-md5`: each part is sent with
 * its MD5 and storage refuses it if the bytes differ (every S3). `answered-crc32`: storage answers the
 * CRC32 of what it received (`x-amz-checksum-crc32`) and the page compares it with its own before the
 * part counts as sent (the embedded store; CRC32 costs the browser less CPU than MD5). `answered-md5`:
 * the part goes without a header and its ETag (the MD5 of what storage received, on Ceph RGW, MinIO
 * and AWS without KMS) is compared with the page's MD5, hashed meanwhile; a part that differs goes
 * again with its Content-MD5, and a store whose verified parts' ETags are not MD5s gets Content-MD5
 * for the rest of the upload (external stores, unless S3_PART_CHECK=content-md5).
 */
export const PartCheck = z.enum(['content-md5', 'answered-crc32', 'answered-md5']);
export type PartCheck = z.infer<typeof PartCheck>;

/**
 * The part checks a page can do, which it lists in this header of `POST /api/multipart-uploads`
 * (comma-separated). A page from before `answered-md5` sends none, and is answered a check it knows.
 * A header, not a body field: a server from before it ignores the header, but refuses unknown fields.
 */
export const PART_CHECKS_HEADER = 'x-postbox-part-checks';
export const PartChecksHeader = z
  .string()
  .max(200)
  .transform((value) => value.split(',').map((check) => check.trim()))
  .pipe(z.array(PartCheck).max(PartCheck.options.length));

/** The response header storage answers a part's CRC32 in (base64 of its 4 big-endian bytes, as S3 does). */
export const CRC32_HEADER = 'x-amz-checksum-crc32';

/** The answer to `POST /api/multipart-uploads` (body: an UploadRequest; header: PART_CHECKS_HEADER). */
export const MultipartUpload = z.object({
  key: z.string(),
  uploadId: z.string(),
  partSize: z.number(),
  partCount: z.number(),
  // A check this page does not know (a newer server): Content-MD5, which every S3 verifies itself.
  partCheck: PartCheck.catch('content-md5'),
  /**
   * What the server allowed for this upload (key, upload id, size, part size), signed by it: signing
   * part URLs and completing take these from the token, never from the request. Keep it to resume.
   */
  uploadToken: z.string(),
});
export type MultipartUpload = z.infer<typeof MultipartUpload>;

const uploadToken = z.string().min(1).max(8192);

/** Part URLs for some parts of an upload; each URL is signed for its part's length (from the token's size and part size). */
export const PartUrlsRequest = z.strictObject({
  uploadToken,
  partNumbers: z.array(partNumber).min(1).max(MULTIPART_SIGN_BATCH),
});
export type PartUrlsRequest = z.infer<typeof PartUrlsRequest>;

export const PartUrls = z.object({
  urls: z.array(z.object({ partNumber: z.number(), url: z.string() })),
  expiresAt: z.string(),
});
export type PartUrls = z.infer<typeof PartUrls>;

export const MultipartRef = z.strictObject({ key: z.string().min(1).max(2048), uploadId });
export type MultipartRef = z.infer<typeof MultipartRef>;

export const UploadedPart = z.object({ partNumber: z.number(), etag: z.string(), size: z.number() });
export type UploadedPart = z.infer<typeof UploadedPart>;

/** The answer to `GET /api/multipart-uploads/parts?key=…&uploadId=…`: the parts storage already has. */
export const UploadedParts = z.object({ parts: z.array(UploadedPart) });
export type UploadedParts = z.infer<typeof UploadedParts>;

export const CompleteRequest = z.strictObject({
  uploadToken,
  parts: z
    .array(z.strictObject({ partNumber, etag: z.string().min(1).max(200) }))
    .min(1)
    .max(MULTIPART_MAX_PARTS),
});
export type CompleteRequest = z.infer<typeof CompleteRequest>;

export const CompletedUpload = z.object({ key: z.string(), size: z.number() });
export type CompletedUpload = z.infer<typeof CompletedUpload>;

export const StaleUploadsQuery = z.strictObject({
  /** Only uploads started at least this long ago (default: a day). */
  olderThanSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(10 * 365 * 24 * 3600)
    .default(24 * 3600),
});

export const StaleUploads = z.object({
  uploads: z.array(
    z.object({
      key: z.string(),
      uploadId: z.string(),
      /** The original filename and declared type, from the key. */
      name: z.string(),
      type: z.string(),
      /** When storage says the upload began, else when its key was made. */
      initiatedAt: z.string(),
    }),
  ),
});
export type StaleUploads = z.infer<typeof StaleUploads>;

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
  /** How many files the link gives (a bundle: more than one at creation; absent from older servers: one). */
  fileCount: z.number().optional(),
});
export type ShareLink = z.infer<typeof ShareLink>;

export const ShareList = z.object({ shares: z.array(ShareLink) });
export type ShareList = z.infer<typeof ShareList>;

/*
 * Request links (`/r/<id>`): a person asks someone without an account for files; the visitor's
 * uploads go straight to storage, into the person's space, under POST policies the server signs
 * only while the link's limits allow (docs/requests.md).
 */
export const REQUEST_EXPIRY_MIN_SECONDS = 3600;
export const REQUEST_EXPIRY_MAX_SECONDS = 365 * 24 * 3600;
/** Files one request link can receive at most: every file is listed in the link's record. */
export const REQUEST_MAX_FILES = 500;
export const REQUEST_DEFAULT_MAX_FILES = 10;
export const REQUEST_NOTE_MAX_CHARS = 1000;
export const REQUEST_TYPES_MAX = 50;
export const VISITOR_NAME_MAX_CHARS = 100;

const typePattern = z
  .string()
  .toLowerCase()
  .regex(/^(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/, 'expected content types such as image/png or image/*');

export const CreateFileRequest = z.strictObject({
  note: z.string().max(REQUEST_NOTE_MAX_CHARS).optional(),
  /** Seconds from now; null: never expires. */
  expiresIn: z.number().int().min(REQUEST_EXPIRY_MIN_SECONDS).max(REQUEST_EXPIRY_MAX_SECONDS).nullable(),
  maxFiles: z.number().int().min(1).max(REQUEST_MAX_FILES).optional(),
  /** At most the server's MAX_UPLOAD_BYTES (and 5 GiB, one POST); absent: that limit. */
  maxFileBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Absent: no limit beyond maxFiles × maxFileBytes. */
  maxTotalBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Patterns such as `application/pdf` or `image/*`; absent or empty: whatever the server accepts. */
  allowedTypes: z.array(typePattern).max(REQUEST_TYPES_MAX).optional(),
  password: z.string().min(SHARE_PASSWORD_MIN_CHARS).max(SHARE_PASSWORD_MAX_CHARS).optional(),
  /** Where to POST the signed event when files arrive (only an admin may set one: the server calls it). */
  webhookUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
});
export type CreateFileRequest = z.infer<typeof CreateFileRequest>;

export const ReceivedFile = z.object({
  key: z.string(),
  name: z.string(),
  size: z.number(),
  type: z.string(),
  visitorName: z.string().nullable(),
  /** When the policy was signed: the slot is counted from then on. */
  signedAt: z.string(),
  /** When the visitor's policy expires; an unconfirmed slot whose object never arrived is given back an hour after. */
  policyExpiresAt: z.string(),
  /** When the visitor's page reported the file and storage confirmed it exists; null until then. */
  confirmedAt: z.string().nullable(),
});
export type ReceivedFile = z.infer<typeof ReceivedFile>;

export const RequestLimits = z.object({
  maxFiles: z.number(),
  maxFileBytes: z.number(),
  maxTotalBytes: z.number().nullable(),
  allowedTypes: z.array(z.string()),
});
export type RequestLimits = z.infer<typeof RequestLimits>;

/** What the requester sees of one of their request links. */
export const FileRequestLink = z.object({
  id: z.string(),
  url: z.string(),
  state: z.enum(['open', 'full', 'expired', 'closed']),
  note: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  limits: RequestLimits,
  hasPassword: z.boolean(),
  /** Slots used (signed policies) and their bytes; see docs/requests.md. */
  files: z.number(),
  bytes: z.number(),
  lastUploadAt: z.string().nullable(),
  received: z.array(ReceivedFile),
  webhookUrl: z.string().nullable(),
  /** The key of this link's webhook signature (X-Postbox-Signature), for its owner only. */
  webhookSecret: z.string(),
});
export type FileRequestLink = z.infer<typeof FileRequestLink>;

export const FileRequestList = z.object({ requests: z.array(FileRequestLink) });
export type FileRequestList = z.infer<typeof FileRequestList>;

/** What a visitor sees before uploading. */
export const FileRequestPublic = z.object({
  id: z.string(),
  state: z.enum(['open', 'full', 'expired', 'closed']),
  /** Who asks: a name or e-mail when the person has one. */
  requester: z.string().nullable(),
  note: z.string().nullable(),
  expiresAt: z.string().nullable(),
  limits: RequestLimits,
  /** Slots and bytes left. */
  filesLeft: z.number(),
  bytesLeft: z.number().nullable(),
  passwordRequired: z.boolean(),
  /** Plain-words lines for the page, e.g. "Up to 5 files of at most 10 MiB each". */
  summary: z.array(z.string()),
});
export type FileRequestPublic = z.infer<typeof FileRequestPublic>;

export const RequestUploadRequest = z.strictObject({
  name: z.string().min(1).max(1024),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  type: z.string().max(255),
  password: z.string().max(SHARE_PASSWORD_MAX_CHARS).optional(),
  visitorName: z.string().trim().max(VISITOR_NAME_MAX_CHARS).optional(),
});
export type RequestUploadRequest = z.infer<typeof RequestUploadRequest>;

/** The visitor's page says a visit is done, with what it sent: one notification per visit. */
export const RequestVisit = z.strictObject({
  keys: z.array(z.string().min(1).max(2048)).min(1).max(REQUEST_MAX_FILES),
  password: z.string().max(SHARE_PASSWORD_MAX_CHARS).optional(),
});
export type RequestVisit = z.infer<typeof RequestVisit>;

export const RequestVisitResult = z.object({ confirmed: z.array(z.string()) });
export type RequestVisitResult = z.infer<typeof RequestVisitResult>;

/**
 * Accounts: usage and quota, personal API tokens, admins (docs/accounts-admin.md).
 */
/** `GET /api/usage`: what the requesting person stores (and has signed, not yet listed), and their quota. */
export const Usage = z.object({
  usedBytes: z.number(),
  files: z.number(),
  /** USER_QUOTA_BYTES; null: no quota. */
  quotaBytes: z.number().nullable(),
});
export type Usage = z.infer<typeof Usage>;

export const TOKEN_NAME_MAX_CHARS = 100;
/** Personal API tokens one person may have. */
export const TOKENS_PER_PERSON = 50;

export const TokenRequest = z.strictObject({ name: z.string().trim().min(1).max(TOKEN_NAME_MAX_CHARS) });
export type TokenRequest = z.infer<typeof TokenRequest>;

export const ApiToken = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
export type ApiToken = z.infer<typeof ApiToken>;

/** The answer to `POST /api/tokens`: the only time the token itself is shown. */
export const CreatedToken = ApiToken.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof CreatedToken>;

export const TokenList = z.object({ tokens: z.array(ApiToken) });
export type TokenList = z.infer<typeof TokenList>;

/** `GET /api/admin/people`: each person with a usage record (`local`: files from before accounts, space ''). */
export const PeopleUsage = z.object({
  people: z.array(
    z.object({
      id: z.string(),
      files: z.number(),
      usedBytes: z.number(),
      shareLinks: z.number(),
      checkedAt: z.string(),
    }),
  ),
});
export type PeopleUsage = z.infer<typeof PeopleUsage>;

export const RemovedFiles = z.object({ files: z.number(), shareLinks: z.number() });
export type RemovedFiles = z.infer<typeof RemovedFiles>;

export const GiveFileRequest = z.strictObject({ personId: z.string().regex(/^[0-9a-f]{16,64}$/) });
export type GiveFileRequest = z.infer<typeof GiveFileRequest>;

export const GivenFile = z.object({ key: z.string() });
export type GivenFile = z.infer<typeof GivenFile>;

/*
 * Bundles: several of one person's files behind one share link (`POST /api/shares`). The share page
 * lists them, each with its own Download, and builds "Download all" as a zip in the recipient's browser.
 */
export const SHARE_BUNDLE_MAX_FILES = 1000;

export const BundleRequest = ShareRequest.extend({
  keys: z.array(z.string().min(1).max(2048)).min(1).max(SHARE_BUNDLE_MAX_FILES),
});
export type BundleRequest = z.infer<typeof BundleRequest>;

/*
 * Previews: a presigned GET may ask storage to answer `inline` only for these types, which browsers
 * show and never run. HTML, SVG, XML and anything else stays an attachment (served as opaque bytes
 * when a browser would render it). One list, for the server's signing and the browser's choice of element.
 */
export const INLINE_PREVIEW_TYPES = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/avif': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'audio/mpeg': 'audio',
  'audio/ogg': 'audio',
  'audio/wav': 'audio',
  'audio/webm': 'audio',
  'audio/mp4': 'audio',
  'audio/flac': 'audio',
  'application/pdf': 'pdf',
} as const satisfies Record<string, 'image' | 'video' | 'audio' | 'pdf'>;
export type PreviewKind = (typeof INLINE_PREVIEW_TYPES)[keyof typeof INLINE_PREVIEW_TYPES];

/** A preview in the person's own list is for looking now, not for passing on: a short-lived URL. */
export const PREVIEW_LINK_SECONDS = 5 * 60;

/** `POST /api/files/:key/preview`: an inline GET of a previewable file, and which element shows it. */
export const PreviewLink = z.object({
  url: z.string(),
  expiresAt: z.string(),
  kind: z.enum(['image', 'video', 'audio', 'pdf']),
});
export type PreviewLink = z.infer<typeof PreviewLink>;

/*
 * Thumbnails: drawn in the uploader's browser after an image's upload, posted straight to storage
 * through their own policy under a key the server derives from the file's (docs/previews.md).
 */
export const THUMBNAIL_SOURCE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export const THUMBNAIL_SOURCE_MAX_BYTES = 50 * 1024 * 1024;
export const THUMBNAIL_MAX_EDGE = 320;
export const THUMBNAIL_MAX_BYTES = 64 * 1024;
export const THUMBNAIL_TYPES = ['image/webp', 'image/jpeg'] as const;
/** At most this many rows' thumbnails per call: a page of the list. */
export const THUMBNAILS_PER_CALL = 100;

export const ThumbnailRequest = z.strictObject({
  size: z.number().int().min(1).max(THUMBNAIL_MAX_BYTES),
  type: z.enum(THUMBNAIL_TYPES),
});
export type ThumbnailRequest = z.infer<typeof ThumbnailRequest>;

export const ThumbnailsRequest = z.strictObject({ keys: z.array(z.string()).min(1).max(THUMBNAILS_PER_CALL) });
/** File key → an inline GET of its thumbnail (it may not exist: the page hides an image that fails to load). */
export const ThumbnailUrls = z.object({ urls: z.record(z.string(), z.string()) });
export type ThumbnailUrls = z.infer<typeof ThumbnailUrls>;

export function hasThumbnail(file: { type: string; size: number }): boolean {
  return (THUMBNAIL_SOURCE_TYPES as readonly string[]).includes(file.type) && file.size <= THUMBNAIL_SOURCE_MAX_BYTES;
}

/** How a file of this type may be previewed, or undefined: never inline. Exact, lower-case match only. */
export function previewKindOf(contentType: string): PreviewKind | undefined {
  return Object.hasOwn(INLINE_PREVIEW_TYPES, contentType)
    ? INLINE_PREVIEW_TYPES[contentType as keyof typeof INLINE_PREVIEW_TYPES]
    : undefined;
}
