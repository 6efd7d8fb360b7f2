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

  it('pauses a client again in every window, not only the first', () => {
    const time = clock();
    const throttle = new PasswordThrottle({ perClient: 2, windowMs: 60_000, freePerLink: 100, now: time.now });
    for (let window = 0; window < 3; window++) {
      expect(throttle.begin('198.51.100.1', 'a')).toBe(0);
      expect(throttle.begin('198.51.100.1', 'b')).toBe(0);
      expect(throttle.begin('198.51.100.1', 'c')).toBe(60);
      time.advance(60_000);
    }
  });

  it('does not count right passwords, however many, and a right one cannot buy extra wrong tries', () => {
    const time = clock();
    const throttle = new PasswordThrottle({ perClient: 2, windowMs: 60_000, freePerLink: 1, maxDelayMs: 30_000, now: time.now });
    throttle.succeeded('never seen', 'no link'); // nothing to take back: no exception
    for (let i = 0; i < 5; i++) {
      expect(throttle.begin('a', 'link')).toBe(0);
      throttle.succeeded('a', 'link');
    }
    throttle.succeeded('a', 'link'); // a second success for one try (a retried request)
    expect(throttle.begin('a', 'link')).toBe(0);
    expect(throttle.begin('a', 'other')).toBe(0);
    expect(throttle.begin('a', 'third')).toBe(60); // still paused after 2 wrong ones
    expect(throttle.begin('b', 'link')).toBe(0); // the link's one free wrong try was a's; this is its 2nd
    expect(throttle.begin('d', 'link')).toBe(1);
  });

  it('when full, forgets entries whose time is up before any live one, then the oldest tenth', () => {
    const time = clock();
    const throttle = new PasswordThrottle({
      perClient: 1,
      windowMs: 60_000,
      freePerLink: 0,
      maxDelayMs: 30_000,
      maxKeys: 20,
      now: time.now,
    });
    const pausedFor = (client: string) => throttle.begin(client, `check-${client}`);
    for (let i = 0; i < 20; i++) throttle.begin(`client${i}`, `link${i}`); // 20 clients paused
    time.advance(30_000);
    throttle.begin('client20', 'link20'); // full of live ones: the oldest two (a tenth) go
    // Paused clients first: a forgotten one comes back as a new entry, which drops the next oldest two.
    expect(pausedFor('client2')).toBe(30);
    expect(pausedFor('client19')).toBe(30);
    expect(pausedFor('client1')).toBe(0); // the second oldest went too: a tenth, not one
    // Equivalent mutants: sweeping expired entries on every insert, or only those strictly past their time
    // (an entry whose time is up reads as absent anyway); only the cost differs.
  });

  it('when full of entries whose time is up, drops none of the live ones', () => {
    const time = clock();
    const throttle = new PasswordThrottle({
      perClient: 100,
      windowMs: 60_000,
      freePerLink: 0,
      maxDelayMs: 30_000,
      maxKeys: 10,
      now: time.now,
    });
    throttle.begin('c', 'kept'); // the oldest link, kept alive below
    for (let i = 0; i < 9; i++) throttle.begin('c', `old${i}`);
    time.advance(50_000);
    throttle.begin('c2', 'kept'); // 2 wrong: its count now ends 60 s from here
    time.advance(20_000); // old0..8 are forgotten by now, 'kept' is not
    throttle.begin('c3', 'new'); // full: sweeps old0..8
    expect(throttle.begin('c4', 'kept')).toBe(0);
    expect(throttle.begin('c5', 'kept')).toBe(4); // its 3rd wrong one: 4 s, so it was not dropped
  });
});
