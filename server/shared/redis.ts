import { createClient, TimeoutError, TimeoutReadError } from 'redis';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.ts';

/** Waiting longer than this for Redis at start would hold up a Postbox that can answer without it. */
const CONNECT_WAIT_MS = 3000;
/** Reconnect backoff: 100 ms, doubled, at most this (Redis back → limits shared again within it). */
const LONGEST_RECONNECT_MS = 2000;
/**
 * The longest a command waits for its answer. A Redis that keeps its connections but does not answer
 * (stopped, swapping, stuck on a slow script) would otherwise hold every request that needs a limit.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** A health check's PING is reused this long, so that no client can drive Redis calls through /api/health. */
const PING_REUSE_MS = 1000;

export type RedisState = 'ready' | 'down';

/** The one client every limit and the session revocations share: whatever `createClient` gives. */
export type RedisClient = ReturnType<typeof createClient>;

/** Redis could not answer for a limit that fails closed: 503, never a 500 and never "let through". */
export const limitsUnavailable = (cause: unknown) =>
  new AppError('limits_unavailable', 'Postbox cannot reach the state its instances share (Redis) right now. Try again in a moment.', {
    cause,
  });

/**
 * One node-redis client for the whole instance. Commands fail at once while Redis is away
 * (`disableOfflineQueue`: nothing queues up behind an outage) and the client reconnects by itself,
 * so limits are shared again without a restart. An outage is logged when it starts and ends, not
 * at every reconnect attempt.
 */
export class SharedRedis {
  readonly client: RedisClient;
  private downSince: number | undefined;
  /** Set while commands time out on an open connection; cleared by the next answer. */
  private silentSince: number | undefined;
  private readonly listeners: Array<(state: RedisState) => void> = [];
  private lastPing: { at: number; state: Promise<RedisState> } | undefined;

  private constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, LONGEST_RECONNECT_MS) },
    });
    // Without an 'error' listener node-redis's errors would crash the process.
    this.client.on('error', (err: Error) => this.wentDown(err));
    this.client.on('ready', () => this.cameBack());
  }

  /** Called with the new state whenever Redis goes away or comes back (metrics follow it). */
  onChange(listener: (state: RedisState) => void): void {
    this.listeners.push(listener);
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
    return this.client.isReady && this.silentSince === undefined ? 'ready' : 'down';
  }

  /**
   * A raw command (rate-limit-redis and our scripts), answered within REDIS_COMMAND_TIMEOUT_MS or
   * rejected: `rejectInFlight` also gives up on a command already sent (its late reply is dropped).
   */
  async sendCommand(args: string[]) {
    try {
      const reply = await this.client.sendCommand(args, { timeout: REDIS_COMMAND_TIMEOUT_MS, rejectInFlight: true });
      this.answered();
      return reply;
    } catch (err) {
      if (err instanceof TimeoutError || err instanceof TimeoutReadError) this.fellSilent(err);
      throw err;
    }
  }

  /** Whether Redis answers a PING now (one PING a second at most, shared by concurrent callers). */
  ping(): Promise<RedisState> {
    const now = Date.now();
    if (this.lastPing && now - this.lastPing.at < PING_REUSE_MS) return this.lastPing.state;
    const state = this.sendCommand(['PING']).then(
      () => this.state,
      () => 'down' as const,
    );
    this.lastPing = { at: now, state };
    return state;
  }

  private fellSilent(err: Error): void {
    if (this.silentSince !== undefined) return;
    this.silentSince = Date.now();
    this.logger.error(
      { err },
      `redis: connected but not answering within ${REDIS_COMMAND_TIMEOUT_MS} ms; limits fail open or closed as documented`,
    );
    this.changed();
  }

  private answered(): void {
    if (this.silentSince === undefined) return;
    this.logger.warn({ silentMs: Date.now() - this.silentSince }, 'redis: answering again; limits are shared again');
    this.silentSince = undefined;
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener(this.state);
  }

  private wentDown(err: Error): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.error({ err }, 'redis: unreachable; shared limits fail open or closed as documented until it is back');
    this.changed();
  }

  private cameBack(): void {
    if (this.downSince === undefined) return;
    this.logger.warn({ downMs: Date.now() - this.downSince }, 'redis: back; limits are shared again');
    this.downSince = undefined;
    this.changed();
  }

  close(): void {
    if (this.client.isOpen) this.client.destroy();
  }
}
