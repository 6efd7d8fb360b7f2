import { REDIS_PREFIX } from './limit-store.ts';
import { limitsUnavailable, type SharedRedis } from './redis.ts';

/**
 * Ended sessions in Redis: one key per session id that expires when the session would have ended
 * anyway, read on every request by every instance (no cache: a signed-out cookie is refused
 * everywhere at once). Fails closed: Redis away is `limits_unavailable` (503), never "not revoked".
 */
export class RedisRevocations {
  constructor(
    private readonly redis: SharedRedis,
    private readonly maxAgeSeconds: number,
  ) {}

  private key(id: string): string {
    return `${REDIS_PREFIX}revoked-session:${id}`;
  }

  async revoke(id: string): Promise<void> {
    try {
      // A minute past the longest session, for clocks that differ a little between instances.
      await this.redis.sendCommand(['SET', this.key(id), '1', 'EX', String(this.maxAgeSeconds + 60)]);
    } catch (err) {
      throw limitsUnavailable(err);
    }
  }

  async isRevoked(id: string): Promise<boolean> {
    try {
      return Number(await this.redis.sendCommand(['EXISTS', this.key(id)])) === 1;
    } catch (err) {
      throw limitsUnavailable(err);
    }
  }
}
