import { REDIS_PREFIX } from './limit-store.ts';
import { limitsUnavailable, type SharedRedis } from './redis.ts';

/** Runs a Lua script (atomic in Redis) and gives back its integer answer; a failure is `limits_unavailable`. */
export async function runScript(redis: SharedRedis, script: string, keys: string[], args: (string | number)[]): Promise<number> {
  try {
    const reply = await redis.sendCommand(['EVAL', script, String(keys.length), ...keys, ...args.map(String)]);
    return Number(reply);
  } catch (err) {
    throw limitsUnavailable(err);
  }
}

// KEYS: failures (this minute), paused (set while paused), pauses (how many in a row).
// ARGV: per minute, first pause, longest pause, pauses add up within. Returns the pause begun (ms) or 0.
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 60000) end
if n < tonumber(ARGV[1]) then return 0 end
local pauses = redis.call('INCR', KEYS[3])
local pause = math.min(tonumber(ARGV[2]) * 2 ^ (pauses - 1), tonumber(ARGV[3]))
redis.call('SET', KEYS[2], pauses, 'PX', pause)
redis.call('PEXPIRE', KEYS[3], pause + tonumber(ARGV[4]))
redis.call('DEL', KEYS[1])
return pause`;

/**
 * FailedSignIns (server/http/rate-limiter.ts) kept in Redis, for every instance at once: the count
 * of this minute's failures, the pause, and how many pauses followed each other. Fails closed: with
 * Redis away both calls throw `limits_unavailable` (503), so nothing is compared uncounted.
 */
export class RedisFailedSignIns {
  private readonly keys: string[];

  constructor(
    private readonly redis: SharedRedis,
    private readonly options: { perMinute: number; firstPauseMs: number; longestPauseMs: number; pausesAddUpWithinMs: number },
  ) {
    const base = `${REDIS_PREFIX}sign-ins:`;
    this.keys = [`${base}failures`, `${base}paused`, `${base}pauses`];
  }

  async retryAfter(): Promise<number> {
    const left = await runScript(this.redis, "return redis.call('PTTL', KEYS[1])", [this.keys[1]!], []);
    return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : 0;
  }

  async fail(): Promise<void> {
    const { perMinute, firstPauseMs, longestPauseMs, pausesAddUpWithinMs } = this.options;
    await runScript(this.redis, FAIL, this.keys, [perMinute, firstPauseMs, longestPauseMs, pausesAddUpWithinMs]);
  }
}
