import { createClient } from 'redis';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.ts';

/** Waiting longer than this for Redis at start would hold up a Postbox that can answer without it. */
const CONNECT_WAIT_MS = 3000;
/** Reconnect backoff: 100 ms, doubled, at most this (Redis back → limits shared again within it). */
const LONGEST_RECONNECT_MS = 2000;

export type RedisState = 'ready' | 'down';

/** The one client every limit and the session revocations share: whatever `createClient` gives. */
export type RedisClient = ReturnType<typeof createClient>;

/** Redis could not answer for a limit that fails closed: 503, never a 500 and never "let through". */
export const limitsUnavailable = (cause: unknown) =>
  new AppError('limits_unavailable', 'Postbox cannot reach the state its instances share (Redis) right now. Try again in a moment.', { cause });

/**
 * One node-redis client for the whole instance. Commands fail at once while Redis is away
 * (`disableOfflineQueue`: nothing queues up behind an outage) and the client reconnects by itself,
 * so limits are shared again without a restart. An outage is logged when it starts and ends, not
 * at every reconnect attempt.
 */
export class SharedRedis {
  readonly client: RedisClient;
  private downSince: number | undefined;

  private constructor(url: string, private readonly logger: Logger) {
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, LONGEST_RECONNECT_MS) },
    });
    // Without an 'error' listener node-redis's errors would crash the process.
    this.client.on('error', (err: Error) => this.wentDown(err));
    this.client.on('ready', () => this.cameBack());
  }

  /** Connects, waiting a few seconds at most: a Postbox started while Redis is away serves and connects later. */
  static async connect(url: string, logger: Logger): Promise<SharedRedis> {
    const redis = new SharedRedis(url, logger);
    const connected = redis.client.connect().then(
      () => true,
      (err: unknown) => {
        logger.error({ err }, 'redis: cannot connect');
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CONNECT_WAIT_MS)));
    if (!(await Promise.race([connected, waited]))) logger.warn('redis: not reachable yet; limits that fail closed answer 503 until it is');
    clearTimeout(timer);
    return redis;
  }

  get state(): RedisState {
    return this.client.isReady ? 'ready' : 'down';
  }

  /** For rate-limit-redis: a raw command. */
  sendCommand(args: string[]) {
    return this.client.sendCommand(args);
  }

  private wentDown(err: Error): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.error({ err }, 'redis: unreachable; shared limits fail open or closed as documented until it is back');
  }

  private cameBack(): void {
    if (this.downSince === undefined) return;
    this.logger.warn({ downMs: Date.now() - this.downSince }, 'redis: back; limits are shared again');
    this.downSince = undefined;
  }

  close(): void {
    if (this.client.isOpen) this.client.destroy();
  }
}
