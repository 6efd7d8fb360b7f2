import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { Budget, clientOf, FailedSignIns } from './rate-limiter.ts';

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
