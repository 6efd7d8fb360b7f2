import type { S3Client } from '@aws-sdk/client-s3';
import { MemoryStore, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { SessionRevocations } from '../sessions/revocations.ts';
import { PasswordThrottle, type PasswordAttempts } from '../shares/password-throttle.ts';
import { RedisLimitStore } from '../shared/limit-store.ts';
import { RedisPasswordThrottle } from '../shared/redis-password-throttle.ts';
import { RedisRevocations } from '../shared/redis-revocations.ts';
import { RedisFailedSignIns } from '../shared/redis-sign-ins.ts';
import type { SharedRedis } from '../shared/redis.ts';
import { Budget, FailedSignIns, type SignInFailures } from './rate-limiter.ts';

/** Ended sessions, wherever they are kept. */
export interface Revocations {
  revoke(id: string): Promise<void>;
  isRevoked(id: string): Promise<boolean>;
}

/** What `/api/health` says about the state instances share: memory (one instance) or Redis, up or down. */
export type SharedStateHealth = { mode: 'memory' } | { mode: 'redis'; reachable: boolean };

/**
 * Where limits and session revocations are kept: with REDIS_URL in Redis, shared by every instance
 * (docs/scale-out.md); without it in this instance's memory (limits) and the bucket (revocations).
 * Each limit's name keeps its counts apart from the others'.
 *
 * Redis away: a limit built with `failOpen` lets requests through with a log line (signing, share
 * page opens); everything else (sign-in, API tokens, share passwords, revocations) answers 503
 * `limits_unavailable`.
 */
export class SharedLimits {
  private readonly names = new Set<string>();

  constructor(
    private readonly redis?: SharedRedis,
    readonly logger?: Logger,
  ) {}

  get health(): SharedStateHealth {
    return this.redis ? { mode: 'redis', reachable: this.redis.state === 'ready' } : { mode: 'memory' };
  }

  /** The health after asking Redis (a PING, shared and reused for a second): an idle instance also notices a silent Redis. */
  async check(): Promise<SharedStateHealth> {
    if (this.redis) await this.redis.ping();
    return this.health;
  }

  /** A store for one express-rate-limit limiter or Budget (one store per limit: express-rate-limit checks). */
  store(name: string): Store {
    if (this.names.has(name)) throw new Error(`Two limits named ${name} would share their counts.`);
    this.names.add(name);
    return this.redis ? new RedisLimitStore(this.redis, name) : new MemoryStore();
  }

  /** express-rate-limit options for a limit that lets requests through while its store fails. */
  failOpen(): { passOnStoreError: true; logger?: Pick<Logger, 'warn' | 'error'> } {
    return { passOnStoreError: true, logger: this.logger };
  }

  budget(name: string, limit: number, windowMs: number): Budget {
    return new Budget(limit, windowMs, this.store(name));
  }

  failedSignIns(perMinute: number, now?: () => number): SignInFailures {
    if (!this.redis) return new FailedSignIns({ perMinute, now });
    return new RedisFailedSignIns(this.redis, {
      perMinute,
      firstPauseMs: FailedSignIns.FIRST_PAUSE_MS,
      longestPauseMs: FailedSignIns.LONGEST_PAUSE_MS,
      pausesAddUpWithinMs: FailedSignIns.PAUSES_ADD_UP_WITHIN_MS,
    });
  }

  passwordAttempts(): PasswordAttempts {
    return this.redis ? new RedisPasswordThrottle(this.redis) : new PasswordThrottle();
  }

  revocations(
    storage: { client: S3Client; bucket: string },
    options: { cacheMs: number; maxAgeSeconds: number; now?: () => number },
  ): Revocations {
    if (this.redis) return new RedisRevocations(this.redis, options.maxAgeSeconds);
    return new SessionRevocations(storage.client, storage.bucket, options);
  }
}
