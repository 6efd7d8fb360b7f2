import type { PasswordAttempts, PasswordThrottleOptions } from '../shares/password-throttle.ts';
import { PASSWORD_THROTTLE } from '../shares/password-throttle.ts';
import { REDIS_PREFIX } from './limit-store.ts';
import type { SharedRedis } from './redis.ts';
import { runScript } from './redis-sign-ins.ts';

// KEYS: the client's wrong tries, the link's wrong tries, the link's "wait until" marker.
// ARGV: per client, window (ms), free per link, longest delay (ms). Returns the wait (ms) or 0 (counted).
const BEGIN = `
local wait = 0
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then wait = redis.call('PTTL', KEYS[1]) end
local linkWait = redis.call('PTTL', KEYS[3])
if linkWait > wait then wait = linkWait end
if wait > 0 then return wait end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local over = redis.call('INCR', KEYS[2]) - tonumber(ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if over > 0 then redis.call('SET', KEYS[3], '1', 'PX', math.min(tonumber(ARGV[4]), 1000 * 2 ^ (over - 1))) end
return 0`;

const SUCCEEDED = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
redis.call('DEL', KEYS[3])
return 0`;

/**
 * The share-password throttle (server/shares/password-throttle.ts, same rules) in Redis, for every
 * instance at once; each step is one Lua script, so parallel tries on two instances are counted
 * exactly. Fails closed: Redis away is `limits_unavailable` (503), never an uncounted try.
 */
export class RedisPasswordThrottle implements PasswordAttempts {
  private readonly options: Omit<PasswordThrottleOptions, 'now' | 'maxKeys'>;

  constructor(
    private readonly redis: SharedRedis,
    options: Partial<PasswordThrottleOptions> = {},
  ) {
    this.options = { ...PASSWORD_THROTTLE, ...options };
  }

  private keys(client: string, linkId: string): string[] {
    const base = `${REDIS_PREFIX}share-passwords:`;
    return [`${base}client:${client}`, `${base}link:${linkId}`, `${base}next:${linkId}`];
  }

  async begin(client: string, linkId: string): Promise<number> {
    const { perClient, windowMs, freePerLink, maxDelayMs } = this.options;
    const wait = await runScript(this.redis, BEGIN, this.keys(client, linkId), [perClient, windowMs, freePerLink, maxDelayMs]);
    return wait > 0 ? Math.max(1, Math.ceil(wait / 1000)) : 0;
  }

  async succeeded(client: string, linkId: string): Promise<void> {
    await runScript(this.redis, SUCCEEDED, this.keys(client, linkId), []);
  }
}
