import type { Request } from 'express';
import { type AugmentedRequest, ipKeyGenerator, MemoryStore, type Options, type Store } from 'express-rate-limit';

/** The client a request comes from, for limits: its address (see TRUST_PROXY), an IPv6 one by its /64. */
export const clientOf = (req: Request): string => ipKeyGenerator(req.ip ?? 'unknown', 64);

const secondsUntil = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Seconds until an express-rate-limit window lets the request's client in again (its `req.rateLimit`). */
export const retryAfterOf = (req: Request): number =>
  secondsUntil(((req as AugmentedRequest).rateLimit?.resetTime?.getTime() ?? Date.now() + 60_000) - Date.now());

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

/** Everyone's failed sign-in budget: FailedSignIns in memory, or RedisFailedSignIns (server/shared) for all instances. */
export interface SignInFailures {
  /** Seconds everyone has to wait before a password or token is compared again; 0 when not paused. */
  retryAfter(): number | Promise<number>;
  /** Counts a failure; the one that uses up the budget starts the pause. */
  fail(): Promise<void>;
}

/**
 * Failed sign-ins (wrong passwords and wrong API tokens) across all clients: per-client limits do
 * not stop guessing spread over many addresses (an IPv6 /48 is 65,536 clients). After `perMinute`
 * failures every password and token is refused uncompared for a pause: 1 minute, doubled each time
 * the budget runs out again within 10 minutes of the last pause, up to 15. Signed-in sessions are
 * not affected (a cookie is an HMAC: there is nothing to guess).
 */
export class FailedSignIns implements SignInFailures {
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
