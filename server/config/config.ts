import path from 'node:path';
import { z } from 'zod';

/** SigV4 presigned URLs cannot live longer than 7 days. */
export const SIGV4_MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
/** The largest object a single POST (or PUT) may carry on S3. */
export const S3_SINGLE_UPLOAD_MAX_BYTES = 5 * 1024 ** 3;

const EMBEDDED_BUCKET = 'postbox';

const int = (min: number, max: number) => {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

const bool = () =>
  z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).transform((v) => v === 'true' || v === '1');

const httpUrl = () =>
  z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).transform((u) => u.replace(/\/+$/, ''));

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
  EMBEDDED_S3_PORT: int(0, 65535).default(8081),
  APP_ORIGINS: list()
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'expected comma-separated http(s) origins' })))
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

  MAX_UPLOAD_BYTES: int(1, S3_SINGLE_UPLOAD_MAX_BYTES).default(1024 ** 3),
  ALLOWED_TYPES: list()
    .pipe(z.array(z.string().toLowerCase().regex(MIME_PATTERN, 'expected content types such as image/png, image/* or */*')).min(1))
    .default(['*/*']),
  UPLOAD_EXPIRES_SECONDS: int(60, 12 * 3600).default(900),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'expected one of fatal, error, warn, info, debug, trace, silent' })
    .default('info'),
});

export type StorageConfig =
  | {
      mode: 'embedded';
      bucket: string;
      region: string;
      port: number;
      dataDir: string;
      corsOrigins: string[];
    }
  | {
      mode: 'external';
      bucket: string;
      region: string;
      endpoint?: string;
      publicEndpoint?: string;
      forcePathStyle: boolean;
    };

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
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
    expiresSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Browsers treat localhost and 127.0.0.1 as different origins; allow both for a loopback host.
 * Port 0 means "any free port", unknown until the server listens, so any port of that host is allowed.
 */
function defaultAppOrigins(host: string, port: number): string[] {
  const loopback = ['127.0.0.1', 'localhost', '::1'];
  const hosts = loopback.includes(host) ? ['127.0.0.1', 'localhost'] : [host];
  return hosts.map((h) => `http://${h}:${port === 0 ? '*' : port}`);
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set".
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const got = env[variable];
        return `${variable}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  const e = parsed.data;

  const problems: string[] = [];
  if (!e.S3_BUCKET) {
    for (const name of ['S3_ENDPOINT', 'S3_PUBLIC_ENDPOINT'] as const) {
      if (e[name]) problems.push(`${name}: only used with S3_BUCKET; set S3_BUCKET to use external storage`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const storage: StorageConfig = e.S3_BUCKET
    ? {
        mode: 'external',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION,
        endpoint: e.S3_ENDPOINT,
        publicEndpoint: e.S3_PUBLIC_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
      }
    : {
        mode: 'embedded',
        bucket: EMBEDDED_BUCKET,
        region: e.S3_REGION,
        port: e.EMBEDDED_S3_PORT,
        dataDir: path.resolve(e.POSTBOX_DATA_DIR),
        corsOrigins: e.APP_ORIGINS ?? defaultAppOrigins(e.HOST, e.PORT),
      };

  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
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
      expiresSeconds: e.UPLOAD_EXPIRES_SECONDS,
    },
  };
}
