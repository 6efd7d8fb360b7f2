import { describe, expect, it } from 'vitest';
import { PasswordThrottle } from './password-throttle.ts';

const clock = () => {
  let now = Date.parse('2026-11-23T09:30:00Z');
  return { now: () => now, advance: (ms: number) => void (now += ms) };
};

describe('PasswordThrottle', () => {
  it('pauses one client after its wrong passwords, on every link, and only that client', () => {
    const time = clock();
    const throttle = new PasswordThrottle({ perClient: 3, windowMs: 60_000, freePerLink: 100, now: time.now });
    for (let i = 0; i < 3; i++) expect(throttle.begin('198.51.100.1', `link${i}`)).toBe(0);
    expect(throttle.begin('198.51.100.1', 'another')).toBe(60);
    expect(throttle.begin('198.51.100.2', 'link0')).toBe(0);
    time.advance(60_000);
    expect(throttle.begin('198.51.100.1', 'link0')).toBe(0);
  });

  it('slows a link down by seconds that double with its wrong passwords, up to the cap, never a lockout', () => {
    const time = clock();
    const throttle = new PasswordThrottle({ perClient: 1000, windowMs: 15 * 60_000, freePerLink: 2, maxDelayMs: 8000, now: time.now });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const client = `203.0.113.${i}`; // a new address each time: the per-client limit never applies
      const wait = throttle.begin(client, 'link');
      waits.push(wait);
      time.advance(wait * 1000);
      if (wait > 0) expect(throttle.begin(client, 'link')).toBe(0);
    }
    expect(waits).toEqual([0, 0, 0, 1, 2, 4, 8, 8]);
  });

  it('takes back the try of a right password, and forgets a link a window after its last wrong one', () => {
    const time = clock();
    const throttle = new PasswordThrottle({ perClient: 2, windowMs: 60_000, freePerLink: 0, maxDelayMs: 30_000, now: time.now });
    expect(throttle.begin('a', 'link')).toBe(0);
    throttle.succeeded('a', 'link');
    expect(throttle.begin('a', 'link')).toBe(0); // no wait: the right one was not counted
    expect(throttle.begin('b', 'link')).toBe(1);
    time.advance(1000);
    expect(throttle.begin('b', 'link')).toBe(0);
    expect(throttle.begin('c', 'link')).toBe(2);
    time.advance(60_000);
    expect(throttle.begin('c', 'link')).toBe(0);
    expect(throttle.begin('d', 'link')).toBe(1);
  });

  it('keeps its memory bounded', () => {
    const throttle = new PasswordThrottle({ perClient: 5, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) throttle.begin(`client${i}`, `link${i}`);
    expect((throttle as unknown as { clients: Map<string, unknown> }).clients.size).toBeLessThanOrEqual(100);
    expect((throttle as unknown as { links: Map<string, unknown> }).links.size).toBeLessThanOrEqual(100);
  });
});
