import { createHash } from 'node:crypto';
import type { ClientRateLimitInfo, IncrementResponse } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { limitsUnavailable, type SharedRedis } from './redis.ts';

/** Every key Postbox keeps in Redis starts with this, so that it can share a Redis with other apps. */
export const REDIS_PREFIX = 'postbox:';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * rate-limit-redis loads its Lua scripts once (SCRIPT LOAD) and keeps the promise: had Redis been
 * away at that moment, the store would fail for good. A script's SHA is the SHA-1 of its text
 * (Redis's EVALSHA contract), so when loading fails we answer that SHA ourselves: the next EVALSHA
 * gets NOSCRIPT once Redis is back, and the store loads the script again by itself.
 */
function sendCommandFor(redis: SharedRedis) {
  return async (...args: string[]): Promise<RedisReply> => {
    try {
      return (await redis.sendCommand(args)) as unknown as RedisReply;
    } catch (err) {
      if (args[0] === 'SCRIPT' && args[1] === 'LOAD' && args[2] !== undefined) return sha1(args[2]);
      throw err;
    }
  };
}

/**
 * An express-rate-limit store in Redis (one per limit: `name` keeps their counts apart), shared by
 * every instance. A Redis failure is a `limits_unavailable` AppError (503): a limiter that fails
 * open passes it (`passOnStoreError`), one that fails closed answers it.
 */
export class RedisLimitStore extends RedisStore {
  constructor(redis: SharedRedis, name: string) {
    super({ sendCommand: sendCommandFor(redis), prefix: `${REDIS_PREFIX}limit:${name}:` });
  }

  override async increment(key: string): Promise<IncrementResponse> {
    return guard(() => super.increment(key));
  }

  /**
   * A key Redis does not have comes back from node-redis as null, which rate-limit-redis 6 reads as
   * NaN hits (it expects false): NaN is no count, so that is "nothing counted" as for the MemoryStore.
   */
  override async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const info = await guard(() => super.get(key));
    return info && Number.isFinite(info.totalHits) ? info : undefined;
  }

  override async decrement(key: string): Promise<void> {
    return guard(() => super.decrement(key));
  }

  override async resetKey(key: string): Promise<void> {
    return guard(() => super.resetKey(key));
  }
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw limitsUnavailable(err);
  }
}
