import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { Budget, clientKey, clientOf, FailedSignIns, FixedWindowLimiter, PasswordAttempts } from './rate-limiter.ts';

describe('FixedWindowLimiter', () => {
  it('locks a key after the limit until its window ends, and says how long', () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter({ limit: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('a')).toBe(0);
      limiter.hit('a');
    }
    expect(limiter.retryAfter('a')).toBe(60);
    expect(limiter.retryAfter('b')).toBe(0);
    now += 59_001;
    expect(limiter.retryAfter('a')).toBe(1);
    now += 1000;
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('forgets tries that were taken back', () => {
    const limiter = new FixedWindowLimiter({ limit: 2, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      limiter.hit('a');
      limiter.undo('a');
    }
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('keeps its memory bounded', () => {
    const limiter = new FixedWindowLimiter({ limit: 1, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limiter.hit(`k${i}`);
    expect(limiter.retryAfter('k999')).toBeGreaterThan(0);
    expect(limiter.retryAfter('k0')).toBe(0); // dropped, oldest first
  });

  it('drops expired windows first, and when still full the oldest tenth at once', () => {
    let now = 0;
    const limiter = new FixedWindowLimiter({ limit: 1, windowMs: 60_000, maxKeys: 100, now: () => now });
    for (let i = 0; i < 50; i++) limiter.hit(`old${i}`);
    now = 30_000;
    for (let i = 0; i < 50; i++) limiter.hit(`new${i}`);
    now = 61_000; // the old windows have ended, the new ones have not
    limiter.hit('late');
    expect(limiter.retryAfter('new0')).toBeGreaterThan(0); // live windows are kept
    for (let i = 1; i < 50; i++) limiter.hit(`later${i}`);
    // Full again (50 new, late, 49 later): the ten oldest go at once, the rest stay locked.
    limiter.hit('last');
    expect(limiter.retryAfter('new0')).toBe(0);
    expect(limiter.retryAfter('new9')).toBe(0);
    expect(limiter.retryAfter('new10')).toBeGreaterThan(0);
    expect(limiter.retryAfter('last')).toBeGreaterThan(0);
  });
});

describe('PasswordAttempts', () => {
  it('limits each client, and each link across all clients', () => {
    const attempts = new PasswordAttempts({ perClient: 2, perLink: 5, windowMs: 60_000 });
    expect(attempts.begin('1.1.1.1', 'link')).toBe(0);
    expect(attempts.begin('1.1.1.1', 'link')).toBe(0);
    expect(attempts.begin('1.1.1.1', 'link')).toBeGreaterThan(0);
    expect(attempts.begin('1.1.1.1', 'other link')).toBeGreaterThan(0); // the client is paused everywhere
    // Other clients guessing the same link: 3 more failures reach the link's limit of 5.
    for (const ip of ['2.2.2.2', '3.3.3.3', '4.4.4.4']) expect(attempts.begin(ip, 'link')).toBe(0);
    expect(attempts.begin('5.5.5.5', 'link')).toBeGreaterThan(0);
    expect(attempts.begin('5.5.5.5', 'another')).toBe(0);
  });

  it('does not count a right password', () => {
    const attempts = new PasswordAttempts({ perClient: 1, perLink: 1, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      expect(attempts.begin('1.1.1.1', 'link')).toBe(0);
      attempts.succeeded('1.1.1.1', 'link');
    }
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:85a3:0:1:2:3:4', '2001:db8:85a3:0::/64'],
    ['2001:db8:85a3::9', '2001:db8:85a3:0::/64'],
    ['2001:0db8:85a3:0000:ffff::1', '2001:db8:85a3:0::/64'],
    [undefined, 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});

describe('Budget (express-rate-limit store)', () => {
  it('refuses a key once it has `limit` failures in the window, and says how long', async () => {
    const budget = new Budget(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(await budget.retryAfter('a')).toBe(0);
      await budget.fail('a');
    }
    const wait = await budget.retryAfter('a');
    expect(wait).toBeGreaterThan(58);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await budget.retryAfter('b')).toBe(0);
    await budget.reset('a');
    expect(await budget.retryAfter('a')).toBe(0);
  });
});

describe('FailedSignIns', () => {
  it('pauses everyone once the budget runs out, for longer each time it runs out again soon after', async () => {
    let now = 1_000_000;
    const failures = new FailedSignIns({ perMinute: 5, now: () => now });
    const storm = async () => {
      for (let i = 0; i < 5; i++) {
        expect(failures.retryAfter()).toBe(0);
        await failures.fail();
      }
      return failures.retryAfter();
    };
    expect(await storm()).toBe(60);
    now += 30_000;
    expect(failures.retryAfter()).toBe(30);
    now += 30_000; // the pause is over: 5 more failures, then two minutes
    expect(await storm()).toBe(120);
    now += 120_000;
    expect(await storm()).toBe(240);
    for (let i = 0; i < 3; i++) {
      now += failures.retryAfter() * 1000;
      await storm();
    }
    expect(failures.retryAfter()).toBe(FailedSignIns.LONGEST_PAUSE_MS / 1000);
    now += FailedSignIns.LONGEST_PAUSE_MS + FailedSignIns.PAUSES_ADD_UP_WITHIN_MS; // quiet for long: back to one minute
    expect(await storm()).toBe(60);
  });
});

describe('clientOf (express-rate-limit ipKeyGenerator)', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:85a3:0:1:2:3:4', '2001:db8:85a3::/64'],
    ['2001:db8:85a3::9', '2001:db8:85a3::/64'],
    [undefined, 'unknown'],
  ])('%s → %s', (ip, key) => {
    expect(clientOf({ ip } as Request)).toBe(key);
  });
});
