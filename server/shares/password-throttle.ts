/**
 * Wrong share-link passwords, kept slow without letting anyone lock a link's recipient out.
 *
 * - Per client address (IPv6 by /64, as the caller keys it): `perClient` wrong passwords per
 *   `windowMs`, across all links. This is what stops one guesser, and it stops only that guesser.
 * - Per link: the first `freePerLink` wrong passwords cost nothing; after that, each one makes the
 *   next try on that link wait 1 s, 2 s, 4 s… up to `maxDelayMs`. Guessing spread over many addresses
 *   gets one try per `maxDelayMs` at best, and the recipient, from any address, waits seconds at
 *   worst, never a lockout. A link's count is forgotten `windowMs` after its last wrong password.
 *
 * State is in this process's memory (each instance counts on its own) and bounded: entries whose
 * time is up are swept, and at `maxKeys` the oldest tenth is dropped. With REDIS_URL,
 * RedisPasswordThrottle (server/shared) keeps the same rules for all instances.
 */
export interface PasswordThrottleOptions {
  perClient: number;
  windowMs: number;
  freePerLink: number;
  maxDelayMs: number;
  maxKeys?: number;
  now?: () => number;
}

export const PASSWORD_THROTTLE: PasswordThrottleOptions = { perClient: 10, windowMs: 15 * 60_000, freePerLink: 5, maxDelayMs: 30_000 };

/** Wrong share-link passwords, in memory (PasswordThrottle) or in Redis (RedisPasswordThrottle). */
export interface PasswordAttempts {
  /** Seconds to wait (nothing counted), or 0: the try counts as wrong until `succeeded`. */
  begin(client: string, linkId: string): number | Promise<number>;
  succeeded(client: string, linkId: string): void | Promise<void>;
}

interface ClientEntry {
  failures: number;
  resetAt: number;
}
interface LinkEntry {
  failures: number;
  /** When the next try on this link may start. */
  nextAt: number;
  /** When the count is forgotten. */
  forgetAt: number;
}

export class PasswordThrottle implements PasswordAttempts {
  private readonly clients = new Map<string, ClientEntry>();
  private readonly links = new Map<string, LinkEntry>();
  private readonly options: Required<PasswordThrottleOptions>;

  constructor(options: Partial<PasswordThrottleOptions> = {}) {
    this.options = { ...PASSWORD_THROTTLE, maxKeys: 100_000, now: Date.now, ...options };
  }

  /** How long a link makes the next try wait after `failures` wrong passwords. */
  delayMs(failures: number): number {
    const over = failures - this.options.freePerLink;
    return over <= 0 ? 0 : Math.min(this.options.maxDelayMs, 1000 * 2 ** (over - 1));
  }

  /**
   * Starts a try: the seconds to wait when the client is paused or the link is slowed down
   * (nothing counted), else 0, and the try counts as wrong until `succeeded` takes it back
   * (counted before the password is checked, so parallel tries cannot all slip through).
   */
  begin(client: string, linkId: string): number {
    const now = this.options.now();
    const byClient = this.live(this.clients, client, now);
    const byLink = this.live(this.links, linkId, now);
    const clientWait = byClient && byClient.failures >= this.options.perClient ? byClient.resetAt - now : 0;
    const linkWait = byLink ? byLink.nextAt - now : 0;
    const wait = Math.max(clientWait, linkWait);
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));

    const clientEntry = byClient ?? this.insert(this.clients, client, { failures: 0, resetAt: now + this.options.windowMs }, now);
    clientEntry.failures += 1;
    const linkEntry = byLink ?? this.insert(this.links, linkId, { failures: 0, nextAt: now, forgetAt: now }, now);
    linkEntry.failures += 1;
    linkEntry.nextAt = now + this.delayMs(linkEntry.failures);
    linkEntry.forgetAt = now + this.options.windowMs;
    return 0;
  }

  /** The password was right: the try was not a wrong one after all. */
  succeeded(client: string, linkId: string): void {
    const byClient = this.clients.get(client);
    if (byClient && byClient.failures > 0) byClient.failures -= 1;
    const byLink = this.links.get(linkId);
    if (byLink && byLink.failures > 0) {
      byLink.failures -= 1;
      byLink.nextAt = this.options.now();
    }
  }

  /** The entry of `key` while its time is not up. */
  private live<T extends ClientEntry | LinkEntry>(map: Map<string, T>, key: string, now: number): T | undefined {
    const entry = map.get(key);
    if (entry && expiry(entry) <= now) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  private insert<T extends ClientEntry | LinkEntry>(map: Map<string, T>, key: string, entry: T, now: number): T {
    if (map.size >= this.options.maxKeys) {
      for (const [k, e] of map) if (expiry(e) <= now) map.delete(k);
      // Still full: drop the oldest tenth at once, so that not every new key comes back here.
      let drop = map.size >= this.options.maxKeys ? Math.max(1, Math.floor(this.options.maxKeys / 10)) : 0;
      for (const k of map.keys()) {
        if (drop-- <= 0) break;
        map.delete(k);
      }
    }
    map.set(key, entry);
    return entry;
  }
}

const expiry = (entry: ClientEntry | LinkEntry) => ('resetAt' in entry ? entry.resetAt : entry.forgetAt);
