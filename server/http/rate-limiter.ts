import type { Request } from 'express';
import { ipKeyGenerator, MemoryStore, type Options, type Store } from 'express-rate-limit';

/** The client a request comes from, for limits: its address (see TRUST_PROXY), an IPv6 one by its /64. */
export const clientOf = (req: Request): string => ipKeyGenerator(req.ip ?? 'unknown', 64);

const secondsUntil = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Failures per key in fixed windows, counted in an express-rate-limit `Store`: its MemoryStore (this
 * instance's memory, so n instances allow n times the limit) unless a shared one is passed.
 *
 * Only failures count, so that a busy script's right tokens never use up its budget. A caller checks
 * `retryAfter`, compares, and records a failure with no I/O in between: with the MemoryStore every
 * step is done in microtasks, so requests (each handled in its own turn of the event loop) cannot
 * all pass the check before any failure is counted. A store over the network would open that window
 * by one round trip.
 */
export class Budget {
  private readonly store: Store;

  constructor(
    readonly limit: number,
    windowMs: number,
    store: Store = new MemoryStore(),
  ) {
    // Without get() a store could count but never refuse.
    if (typeof store.get !== 'function') throw new TypeError('The rate limit store must implement get().');
    this.store = store;
    void this.store.init?.({ windowMs } as Options);
  }

  /** Seconds until `key` may try again; 0 when it may try now. */
  async retryAfter(key: string): Promise<number> {
    const info = await this.store.get!(key);
    if (!info || info.totalHits < this.limit) return 0;
    return secondsUntil((info.resetTime?.getTime() ?? Date.now() + 60_000) - Date.now());
  }

  /** Counts a failure; returns how many `key` has in this window. */
  async fail(key: string): Promise<number> {
    return (await this.store.increment(key)).totalHits;
  }

  async reset(key: string): Promise<void> {
    await this.store.resetKey(key);
  }
}

/**
 * Failed sign-ins (wrong passwords and wrong API tokens) across all clients: per-client limits do
 * not stop guessing spread over many addresses (an IPv6 /48 is 65,536 clients). After `perMinute`
 * failures every password and token is refused uncompared for a pause: 1 minute, doubled each time
 * the budget runs out again within 10 minutes of the last pause, up to 15. Signed-in sessions are
 * not affected (a cookie is an HMAC: there is nothing to guess).
 */
export class FailedSignIns {
  static readonly FIRST_PAUSE_MS = 60_000;
  static readonly LONGEST_PAUSE_MS = 15 * 60_000;
  static readonly PAUSES_ADD_UP_WITHIN_MS = 10 * 60_000;

  private readonly failures: Budget;
  private pausedUntil = 0;
  private pauses = 0;

  constructor(private readonly options: { perMinute: number; now?: () => number; store?: Store }) {
    this.failures = new Budget(options.perMinute, 60_000, options.store);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Seconds everyone has to wait before a password or token is compared again; 0 when not paused. */
  retryAfter(): number {
    const left = this.pausedUntil - this.now();
    return left > 0 ? secondsUntil(left) : 0;
  }

  /** Counts a failure; the one that uses up the budget starts the pause. */
  async fail(): Promise<void> {
    if ((await this.failures.fail('all')) < this.options.perMinute) return;
    const now = this.now();
    this.pauses = now - this.pausedUntil < FailedSignIns.PAUSES_ADD_UP_WITHIN_MS ? this.pauses + 1 : 1;
    this.pausedUntil = now + Math.min(FailedSignIns.FIRST_PAUSE_MS * 2 ** (this.pauses - 1), FailedSignIns.LONGEST_PAUSE_MS);
    await this.failures.reset('all');
  }
}

/**
 * Counts tries per key (requests, wrong passwords) in fixed windows, in this process's memory:
 * each Postbox instance counts on its own, so behind a load balancer of n instances a client gets
 * up to n times the limit (use sticky sessions or a shared store if that matters). Memory is
 * bounded: expired windows are swept, and at `maxKeys` the oldest tenth is dropped at once (their
 * clients start a new window).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private lastSweep = 0;

  constructor(
    private readonly options: { limit: number; windowMs: number; maxKeys?: number; now?: () => number },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string): number {
    const window = this.windows.get(key);
    const now = this.now();
    if (!window || window.resetAt <= now || window.count < this.options.limit) return 0;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  /** Counts one try against `key` (before checking it, so parallel tries cannot all slip through). */
  hit(key: string): void {
    const now = this.now();
    this.sweep(now);
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.delete(key); // re-inserted last: the map stays in order of window start
      this.windows.set(key, { count: 1, resetAt: now + this.options.windowMs });
    } else {
      window.count += 1;
    }
  }

  /** Takes back a try that turned out fine. */
  undo(key: string): void {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count -= 1;
  }

  private sweep(now: number): void {
    const maxKeys = this.options.maxKeys ?? 100_000;
    if (now - this.lastSweep <= 60_000 && this.windows.size < maxKeys) return;
    this.lastSweep = now;
    // The map is in order of window start (hit() re-inserts a new window last), so the expired
    // windows come first and the sweep stops at the first live one.
    for (const [key, window] of this.windows) {
      if (window.resetAt > now) break;
      this.windows.delete(key);
    }
    // Still full: drop the oldest tenth at once, so that every new key does not come back here.
    let drop = this.windows.size >= maxKeys ? Math.max(1, Math.floor(maxKeys / 10)) : 0;
    for (const key of this.windows.keys()) {
      if (drop-- <= 0) break;
      this.windows.delete(key);
    }
  }
}

/** One client address: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64). */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Wrong share-link passwords: at most `perClient` failures per client address and `perLink`
 * failures per link in each window (the per-link limit stops guessing spread over many addresses).
 */
export class PasswordAttempts {
  private readonly byClient: FixedWindowLimiter;
  private readonly byLink: FixedWindowLimiter;

  constructor(options: { perClient: number; perLink: number; windowMs: number; now?: () => number }) {
    this.byClient = new FixedWindowLimiter({ limit: options.perClient, windowMs: options.windowMs, now: options.now });
    this.byLink = new FixedWindowLimiter({ limit: options.perLink, windowMs: options.windowMs, now: options.now });
  }

  /**
   * Starts a try: the seconds to wait when the client or the link is locked out (nothing counted),
   * else 0 and the try counts as a failure until `succeeded` takes it back.
   */
  begin(client: string, linkId: string): number {
    const wait = Math.max(this.byClient.retryAfter(client), this.byLink.retryAfter(linkId));
    if (wait > 0) return wait;
    this.byClient.hit(client);
    this.byLink.hit(linkId);
    return 0;
  }

  succeeded(client: string, linkId: string): void {
    this.byClient.undo(client);
    this.byLink.undo(linkId);
  }
}
