import type { S3Client } from '@aws-sdk/client-s3';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Signer } from '../signing/signer.ts';

/** What a signature is for: labels of `postbox_signatures_total`. */
export type SignatureKind = 'post' | 'get' | 'share_download' | 'put' | 'upload_part';

/** A storage call's outcome: a 4xx S3 answer (NotFound on a HEAD, say) is the client's business, not storage trouble. */
type StorageOutcome = 'ok' | 'client_error' | 'error';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The service's Prometheus metrics, in a registry of its own (never prom-client's global one: tests
 * run several apps in one process). Labels are route patterns, kinds and S3 operation names, never
 * keys, share ids or URLs: bounded, and nothing secret.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly signatures: Counter<'kind'>;
  private readonly uploadBytes: Counter;
  private readonly storageRequests: Counter<'operation' | 'outcome'>;
  private readonly storageDuration: Histogram<'operation'>;
  private readonly rateLimited: Counter<'route'>;
  private readonly redisUp: Gauge;
  private readonly retentionDeleted: Counter<'what'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'postbox_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'postbox_http_request_duration_seconds',
      help: 'Time from a request to its response, by route pattern.',
      labelNames: ['method', 'route'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.signatures = new Counter({
      name: 'postbox_signatures_total',
      help: 'Presigned POST policies and URLs made, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'postbox_upload_signed_bytes_total',
      help: 'Bytes that signed upload policies and part URLs allow (each signature counts its size).',
      registers,
    });
    this.storageRequests = new Counter({
      name: 'postbox_storage_requests_total',
      help: "The server's own S3 calls, by operation and outcome (ok, client_error: a 4xx answer, error: 5xx or no answer).",
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.storageDuration = new Histogram({
      name: 'postbox_storage_request_duration_seconds',
      help: "Time of the server's own S3 calls, retries included, by operation.",
      labelNames: ['operation'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.rateLimited = new Counter({
      name: 'postbox_rate_limited_total',
      help: 'Requests refused with 429 (rate limits, sign-in budgets), by route pattern.',
      labelNames: ['route'],
      registers,
    });
    this.redisUp = new Gauge({
      name: 'postbox_redis_up',
      help: '1 when the shared Redis answers, 0 when it does not; absent without REDIS_URL.',
      registers: [],
    });
    this.retentionDeleted = new Counter({
      name: 'postbox_retention_deleted_total',
      help: "Files deleted and multipart uploads aborted by Postbox's own retention sweep (embedded store).",
      labelNames: ['what'],
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  httpRequestDone(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
    if (status === 429) this.rateLimited.inc({ route });
  }

  signed(kind: SignatureKind, uploadBytes = 0): void {
    this.signatures.inc({ kind });
    if (uploadBytes > 0) this.uploadBytes.inc(uploadBytes);
  }

  storageCall(operation: string, outcome: StorageOutcome, seconds: number): void {
    this.storageRequests.inc({ operation, outcome });
    this.storageDuration.observe({ operation }, seconds);
  }

  retentionSwept(files: number, uploads: number): void {
    if (files) this.retentionDeleted.inc({ what: 'file' }, files);
    if (uploads) this.retentionDeleted.inc({ what: 'multipart_upload' }, uploads);
  }

  /** For the Redis client's state (REDIS_URL): the gauge appears in scrapes from its first setting. */
  setRedisUp(up: boolean): void {
    if (!this.registry.getSingleMetric('postbox_redis_up')) this.registry.registerMetric(this.redisUp);
    this.redisUp.set(up ? 1 : 0);
  }

  /**
   * Times and counts every call `client` sends, through the SDK's middleware stack (a public API),
   * so no call site has to. Added once per client: a second app on the same client takes it over.
   */
  instrumentS3(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const operation = context.commandName ?? 'unknown';
        try {
          const output = await next(args);
          this.storageCall(operation, 'ok', (performance.now() - started) / 1000);
          return output;
        } catch (err) {
          this.storageCall(operation, outcomeOf(err), (performance.now() - started) / 1000);
          throw err;
        }
      },
      { step: 'initialize', name: 'postboxMetrics', override: true },
    );
  }

  /**
   * The signer with every signature counted by kind, and upload sizes added up. `getKind` tells
   * links the API makes from share downloads.
   */
  meterSigner(signer: Signer, getKind: SignatureKind = 'get'): Signer {
    const signed = (kind: SignatureKind, bytes: number) => this.signed(kind, bytes);
    return new Proxy(signer, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        const counted = signatureKinds[property as string];
        if (!counted) return value.bind(target) as unknown;
        return async (input: Parameters<Signer['presignPost']>[0] & { contentLength?: number }) => {
          const result: unknown = await (value as (i: typeof input) => Promise<unknown>).call(target, input);
          const kind = counted === 'get' ? getKind : counted;
          signed(kind, kind === 'post' ? policySize(input.conditions) : (input.contentLength ?? 0));
          return result;
        };
      },
    });
  }
}

const signatureKinds: Record<string, SignatureKind | undefined> = {
  presignPost: 'post',
  presignGetObject: 'get',
  presignPutObject: 'put',
  presignUploadPart: 'upload_part',
};

/** The largest size a POST policy's `content-length-range` condition allows; 0 without one. */
function policySize(conditions: unknown[] | undefined): number {
  for (const condition of conditions ?? []) {
    if (Array.isArray(condition) && condition[0] === 'content-length-range' && typeof condition[2] === 'number') return condition[2];
  }
  return 0;
}

function outcomeOf(err: unknown): StorageOutcome {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500 ? 'client_error' : 'error';
}
