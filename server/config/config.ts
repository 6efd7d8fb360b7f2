import path from 'node:path';
import { z } from 'zod';
import { MiB, S3_MAX_PART_BYTES, S3_MIN_PART_BYTES, S3_OBJECT_MAX_BYTES, S3_SINGLE_UPLOAD_MAX_BYTES } from '../../contract/api.ts';

const EMBEDDED_BUCKET = 'postbox';

/** A host as browsers send it: a name or IPv4 address, or a bracketed IPv6 address, and maybe a port. */
export const PLAIN_HOST = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const int = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const bool = () => z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).transform((v) => v === 'true' || v === '1');

const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).transform((u) => u.replace(/\/+$/, ''));

const text = () => z.string().trim().min(1);

const list = () =>
  z.string().transform((s) =>
    s
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const MIME_PATTERN = /^(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

const envSchema = z.object({
  HOST: text().default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  POSTBOX_DATA_DIR: text().default('./data'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .refine((u) => PLAIN_HOST.test(/^https?:\/\/([^/]*)\/?$/i.exec(u)?.[1] ?? ''), {
      error: 'expected an origin such as https://postbox.example.com (no path, query, fragment or user)',
    })
    .transform((u) => new URL(u).origin)
    .optional(),
  // The embedded store needs no CORS rule (browsers reach it under the app's own origin, /storage):
  // these origins only add their host names to the ones served. EMBEDDED_S3_PORT is gone (ignored):
  // the store's own listener takes a free loopback port that nothing outside the process is told.
  APP_ORIGINS: list()
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'expected comma-separated http(s) origins' })))
    .optional(),
  ALLOWED_HOSTS: list()
    .pipe(
      z.array(z.string().regex(/^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*)$/i, { error: 'expected comma-separated host names (no port), or *' })),
    )
    .optional(),

  S3_BUCKET: text()
    .pipe(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 characters: a-z, 0-9, ".", "-")'))
    .optional(),
  S3_ENDPOINT: httpUrl().optional(),
  S3_PUBLIC_ENDPOINT: httpUrl().optional(),
  S3_REGION: text().default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool().default(false),
  S3_MAX_ATTEMPTS: int(1, 10).default(3),
  S3_RETRY_MODE: z.enum(['standard', 'adaptive'], { error: 'expected standard or adaptive' }).default('standard'),
  S3_PROXY: httpUrl().optional(),
  S3_TIMEOUT_MS: int(100, 120_000).default(5000),
  S3_PART_CHECK: z.enum(['etag', 'content-md5'], { error: 'expected etag or content-md5' }).optional(),

  MAX_UPLOAD_BYTES: int(1, S3_OBJECT_MAX_BYTES).default(1024 ** 3),
  // Files above this go through S3 multipart upload; at most 5 GiB so that every POST stays within S3's limit.
  MULTIPART_THRESHOLD_BYTES: int(S3_MIN_PART_BYTES, S3_SINGLE_UPLOAD_MAX_BYTES).default(64 * 1024 ** 2),
  MULTIPART_CONCURRENCY: int(1, 16).default(4),
  // Parts of this size, or larger where a file would need more than 10,000 (npm run bench:upload:
  // 32 MiB parts went up ~30 % faster than 8 MiB ones here; a failed part is sent again whole).
  // Whole MiB: signing part URLs refuses other part sizes (PartUrlsRequest), so every multipart upload would fail.
  MULTIPART_PART_BYTES: int(S3_MIN_PART_BYTES, S3_MAX_PART_BYTES)
    .refine((bytes) => bytes % MiB === 0, { error: 'expected a whole number of MiB (a multiple of 1048576)' })
    .default(32 * 1024 ** 2),
  ALLOWED_TYPES: list()
    .pipe(z.array(z.string().toLowerCase().regex(MIME_PATTERN, 'expected content types such as image/png, image/* or */*')).min(1))
    .default(['*/*']),
  DENIED_TYPES: list()
    .pipe(z.array(z.string().toLowerCase().regex(MIME_PATTERN, 'expected content types such as text/html or application/*')))
    .default([]),
  UPLOAD_EXPIRES_SECONDS: int(60, 12 * 3600).default(900),

  POSTBOX_PASSWORD: z.string().min(8, { error: 'expected at least 8 characters' }).optional(),
  POSTBOX_API_TOKENS: list()
    .pipe(z.array(z.string().min(16, { error: 'expected comma-separated tokens of at least 16 characters' })))
    .optional(),
  SESSION_SECRET: z.string().min(32, { error: 'expected at least 32 characters' }).optional(),
  SESSION_MAX_AGE_SECONDS: int(60, 90 * 24 * 3600).default(7 * 24 * 3600),
  SESSION_IDLE_SECONDS: int(60, 90 * 24 * 3600).default(12 * 3600),
  SIGN_IN_FAILURES_PER_MINUTE: int(1, 100_000).default(60),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(600),
  // Limits and session revocations shared by every instance (docs/scale-out.md); unset: this instance's memory.
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d+|[0-9a-f.:/, ]+|loopback|linklocal|uniquelocal)$/i, {
      error: 'expected true, false, a hop count, or addresses/subnets',
    })
    .default('false'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'expected json or pretty' }).default('json'),
  METRICS_TOKEN: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  FILE_RETENTION_DAYS: int(1, 36500).optional(),
  ABORT_INCOMPLETE_UPLOADS_DAYS: int(1, 36500).default(7),
  S3_MANAGE_LIFECYCLE: bool().default(false),
  // Request links (docs/requests.md): who is told when files arrive.
  REQUEST_WEBHOOK_URL: httpUrl().optional(),
  REQUEST_WEBHOOK_SECRET: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: text().default('Postbox <postbox@localhost>'),
  REQUEST_MAIL_TO: z.email({ error: 'expected an e-mail address' }).optional(),

  // Accounts: sign in with an OpenID Connect provider (docs/accounts.md).
  OIDC_ISSUER_URL: httpUrl().optional(),
  OIDC_CLIENT_ID: text().optional(),
  OIDC_CLIENT_SECRET: text().optional(),
  OIDC_SCOPES: text()
    .refine((s) => s.split(/\s+/).includes('openid'), { error: 'expected space-separated scopes including openid' })
    .default('openid email profile'),
  // Accounts (docs/accounts-admin.md): bytes each person may store; who administers.
  USER_QUOTA_BYTES: int(1, Number.MAX_SAFE_INTEGER).optional(),
  POSTBOX_ADMINS: list().optional(),
});

export type StorageConfig =
  | {
      mode: 'embedded';
      bucket: string;
      region: string;
      dataDir: string;
    }
  | {
      mode: 'external';
      bucket: string;
      region: string;
      endpoint?: string;
      publicEndpoint?: string;
      forcePathStyle: boolean;
      /**
       * How browsers prove each part arrived intact: comparing its ETag with their MD5 (sent with no
       * checksum, hashed meanwhile), or sending its Content-MD5 for storage to verify (the choice for a
       * bucket whose ETags are not MD5s, SSE-KMS: the page would find that out only by sending parts twice).
       */
      partCheck: 'answered-md5' | 'content-md5';
    };

export interface Config {
  host: string;
  port: number;
  /**
   * The origin people reach Postbox at, where share links point. Unset: each request's own (its
   * Host, or X-Forwarded-Host/Proto when TRUST_PROXY believes them).
   */
  publicUrl?: string;
  /** Express's `trust proxy`: whose X-Forwarded-* headers to believe (client IPs for rate limits). */
  trustProxy: boolean | number | string;
  /**
   * Host names the API answers under, besides IP addresses: `*` for any. A web page whose name an
   * attacker points at this server's address (DNS rebinding) would otherwise be same-origin with it.
   */
  allowedHosts: '*' | string[];
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** JSON lines (the default, for log collectors), or `pretty`: readable lines for a terminal (pino-pretty, a dev dependency). */
  logFormat: 'json' | 'pretty';
  storage: StorageConfig;
  s3Client: {
    maxAttempts: number;
    retryMode: 'standard' | 'adaptive';
    proxy?: string;
    timeoutMs: number;
  };
  uploads: {
    maxBytes: number;
    allowedTypes: string[];
    deniedTypes: string[];
    expiresSeconds: number;
    /** Files larger than this go through multipart upload (at most 5 GiB, S3's single-POST limit). */
    multipartThresholdBytes: number;
    /** Parts a browser sends at once. */
    multipartConcurrency: number;
    /** The smallest part size; files that would need more than 10,000 parts get larger ones. */
    multipartPartBytes: number;
  };
  /** Sign-in is required when a password or API tokens are set; otherwise Postbox is open. */
  access: {
    password?: string;
    apiTokens: string[];
    sessionSecret?: string;
    /** The absolute end of a session after sign-in. */
    sessionMaxAgeSeconds: number;
    /** A session unused this long ends (its cookie is re-issued on use). */
    sessionIdleSeconds: number;
    /** Wrong passwords and API tokens across all clients before everyone's sign-in pauses (per instance). */
    failedSignInsPerMinute: number;
  };
  /** Requests per minute per client on the signing endpoints; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** GET /metrics answers loopback clients, and anyone sending `Authorization: Bearer <this>`. */
  metricsToken?: string;
  retention: {
    /** Files older than this many days are deleted by the bucket's lifecycle rule; undefined: kept forever. */
    fileDays?: number;
    /** Multipart uploads not completed within this many days are aborted. */
    abortIncompleteUploadsDays: number;
    /** External storage: put the lifecycle rules on the bucket at start (they replace the bucket's whole lifecycle configuration). */
    manageBucketLifecycle: boolean;
  };
  /** Request links: the operator's webhook and the mail that tell requesters files arrived. */
  requests: {
    webhookUrl?: string;
    webhookSecret?: string;
    smtpUrl?: string;
    mailFrom: string;
    /** Where mail goes when the requester has no e-mail (the local person). */
    mailTo?: string;
  };
  /** Where limits and session revocations are shared by all instances; unset: memory (one instance). */
  redisUrl?: string;
  /** Sign-in with an OpenID Connect provider, each person with their own files; set with PUBLIC_URL. */
  oidc?: OidcConfig;
  accounts: AccountsConfig;
}

export interface OidcConfig {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated, with openid. */
  scopes: string;
}

/** Accounts: bytes each person may store (undefined: no quota); admins as verified e-mails or `issuer|sub`. */
export interface AccountsConfig {
  quotaBytes?: number;
  admins: string[];
}

/** Never echoed back in error messages: they would end up in logs. */
const SECRET_VARIABLES = new Set([
  'POSTBOX_PASSWORD',
  'POSTBOX_API_TOKENS',
  'SESSION_SECRET',
  'METRICS_TOKEN',
  'REQUEST_WEBHOOK_SECRET',
  'SMTP_URL',
  'REDIS_URL',
  'OIDC_CLIENT_SECRET',
]);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** localhost, HOST, and the hosts of PUBLIC_URL and APP_ORIGINS, with ALLOWED_HOSTS (IP addresses are always fine). */
function allowedHosts(e: { HOST: string; PUBLIC_URL?: string; APP_ORIGINS?: string[]; ALLOWED_HOSTS?: string[] }): string[] {
  const origins = [...(e.PUBLIC_URL ? [e.PUBLIC_URL] : []), ...(e.APP_ORIGINS ?? [])];
  const names = ['localhost', e.HOST, ...origins.map((origin) => new URL(origin).hostname), ...(e.ALLOWED_HOSTS ?? [])];
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set".
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const got = env[variable];
        const shown = got === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(got)})`;
        return `${variable}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;

  const problems: string[] = [];
  if (!e.S3_BUCKET) {
    for (const name of ['S3_ENDPOINT', 'S3_PUBLIC_ENDPOINT', 'S3_PART_CHECK'] as const) {
      if (e[name]) problems.push(`${name}: only used with S3_BUCKET; set S3_BUCKET to use external storage`);
    }
  }
  if (e.REQUEST_WEBHOOK_URL && !e.REQUEST_WEBHOOK_SECRET)
    problems.push('REQUEST_WEBHOOK_SECRET: needed with REQUEST_WEBHOOK_URL (it signs each event)');
  problems.push(...oidcProblems(e));
  if (problems.length) throw new ConfigError(problems);

  const storage: StorageConfig = e.S3_BUCKET
    ? {
        mode: 'external',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        endpoint: e.S3_ENDPOINT,
        publicEndpoint: e.S3_PUBLIC_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        partCheck: e.S3_PART_CHECK === 'content-md5' ? 'content-md5' : 'answered-md5',
      }
    : {
        mode: 'embedded',
        bucket: EMBEDDED_BUCKET,
        region: e.S3_REGION,
        dataDir: path.resolve(e.POSTBOX_DATA_DIR),
      };

  const trustProxy = /^(true|false)$/i.test(e.TRUST_PROXY)
    ? e.TRUST_PROXY.toLowerCase() === 'true'
    : /^\d+$/.test(e.TRUST_PROXY)
      ? Number(e.TRUST_PROXY)
      : e.TRUST_PROXY;

  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    trustProxy,
    allowedHosts: e.ALLOWED_HOSTS?.includes('*') ? '*' : allowedHosts(e),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    storage,
    s3Client: {
      maxAttempts: e.S3_MAX_ATTEMPTS,
      retryMode: e.S3_RETRY_MODE,
      proxy: e.S3_PROXY,
      timeoutMs: e.S3_TIMEOUT_MS,
    },
    uploads: {
      maxBytes: e.MAX_UPLOAD_BYTES,
      allowedTypes: e.ALLOWED_TYPES,
      deniedTypes: e.DENIED_TYPES,
      expiresSeconds: e.UPLOAD_EXPIRES_SECONDS,
      multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
      multipartConcurrency: e.MULTIPART_CONCURRENCY,
      multipartPartBytes: e.MULTIPART_PART_BYTES,
    },
    access: {
      password: e.POSTBOX_PASSWORD,
      apiTokens: e.POSTBOX_API_TOKENS ?? [],
      sessionSecret: e.SESSION_SECRET,
      sessionMaxAgeSeconds: e.SESSION_MAX_AGE_SECONDS,
      sessionIdleSeconds: e.SESSION_IDLE_SECONDS,
      failedSignInsPerMinute: e.SIGN_IN_FAILURES_PER_MINUTE,
    },
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    metricsToken: e.METRICS_TOKEN,
    retention: {
      fileDays: e.FILE_RETENTION_DAYS,
      abortIncompleteUploadsDays: e.ABORT_INCOMPLETE_UPLOADS_DAYS,
      manageBucketLifecycle: e.S3_MANAGE_LIFECYCLE,
    },
    requests: {
      webhookUrl: e.REQUEST_WEBHOOK_URL,
      webhookSecret: e.REQUEST_WEBHOOK_SECRET,
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      mailTo: e.REQUEST_MAIL_TO,
    },
    redisUrl: e.REDIS_URL,
    oidc: e.OIDC_ISSUER_URL
      ? { issuerUrl: e.OIDC_ISSUER_URL, clientId: e.OIDC_CLIENT_ID!, clientSecret: e.OIDC_CLIENT_SECRET!, scopes: e.OIDC_SCOPES }
      : undefined,
    accounts: { quotaBytes: e.USER_QUOTA_BYTES, admins: e.POSTBOX_ADMINS ?? [] },
  };
}

/**
 * The OIDC mode needs all three settings and PUBLIC_URL (the provider returns to <PUBLIC_URL>/auth/callback,
 * which the operator registers). It is refused with a password or global API tokens: those act for the
 * one local person, whose files would sit beside everyone's.
 */
function oidcProblems(e: z.infer<typeof envSchema>): string[] {
  const names = ['OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const;
  const set = names.filter((name) => e[name] !== undefined);
  if (set.length === 0) return [];
  const problems = names.filter((name) => e[name] === undefined).map((name) => `${name}: required with ${set.join(', ')} (OIDC sign-in)`);
  if (!e.PUBLIC_URL) problems.push('PUBLIC_URL: required with OIDC sign-in (the provider returns to <PUBLIC_URL>/auth/callback)');
  for (const name of ['POSTBOX_PASSWORD', 'POSTBOX_API_TOKENS'] as const) {
    if (e[name] !== undefined)
      problems.push(`${name}: not used with OIDC sign-in (each person signs in with the provider); unset one of them`);
  }
  return problems;
}
