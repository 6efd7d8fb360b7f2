import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../config/config.ts';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { LOCAL_PERSON } from '../people/person.ts';
import { InstallSecret } from '../secrets/install-secret.ts';
import { Access, REVOCATION_CACHE_MS, SESSION_COOKIE, type Verdict } from './access.ts';

const SECRET = 's'.repeat(32);
const BUCKET = 'access-unit';
const withCookie = (value: string) => ({ headers: { cookie: `${SESSION_COOKIE}=${value}` } }) as unknown as Request;
const signedIn = (verdict: Verdict) => verdict.signedIn;

let s3: ThrowawayS3;
let now = Date.now();
beforeAll(async () => {
  s3 = await startThrowawayS3(BUCKET);
});
afterAll(() => s3?.stop());

function access(password: string, options: { sessionSecret?: string; idle?: number; installSecret?: InstallSecret } = {}) {
  const config: Config['access'] = {
    password,
    apiTokens: [],
    sessionSecret: options.sessionSecret,
    sessionMaxAgeSeconds: 3600,
    sessionIdleSeconds: options.idle ?? 3600,
    failedSignInsPerMinute: 60,
  };
  const installSecret = options.installSecret ?? new InstallSecret(s3.client, BUCKET);
  return new Access(config, { installSecret, storage: { client: s3.client, bucket: BUCKET }, now: () => now });
}

describe('sessions', () => {
  it('are accepted by every instance with the same password and SESSION_SECRET, or the same install', async () => {
    const session = (await access('first password', { sessionSecret: SECRET }).issueSession()).value;
    expect(signedIn(await access('first password', { sessionSecret: SECRET }).check(withCookie(session)))).toBe(true);
    const derived = (await access('first password').issueSession()).value;
    expect(signedIn(await access('first password').check(withCookie(derived)))).toBe(true);
  });

  it('are not accepted by another install with the same password (the key is random per install)', async () => {
    const other = await startThrowawayS3('access-other');
    try {
      const derived = (await access('first password').issueSession()).value;
      const elsewhere = access('first password', { installSecret: new InstallSecret(other.client, 'access-other') });
      expect(signedIn(await elsewhere.check(withCookie(derived)))).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it('end when the password changes, with or without SESSION_SECRET', async () => {
    const session = (await access('first password', { sessionSecret: SECRET }).issueSession()).value;
    expect(signedIn(await access('second password', { sessionSecret: SECRET }).check(withCookie(session)))).toBe(false);
    const derived = (await access('first password').issueSession()).value;
    expect(signedIn(await access('second password').check(withCookie(derived)))).toBe(false);
  });

  it('end when SESSION_SECRET changes, and when they expire', async () => {
    const session = (await access('first password', { sessionSecret: SECRET }).issueSession()).value;
    expect(signedIn(await access('first password', { sessionSecret: 't'.repeat(32) }).check(withCookie(session)))).toBe(false);
    const start = now;
    const old = (await access('first password', { sessionSecret: SECRET }).issueSession()).value;
    now = start + 3601_000;
    try {
      expect(signedIn(await access('first password', { sessionSecret: SECRET }).check(withCookie(old)))).toBe(false);
    } finally {
      now = start;
    }
  });

  it('end after SESSION_IDLE_SECONDS unused; used, their cookie is re-issued with a later idle end, never past the absolute end', async () => {
    const start = now;
    const instance = access('first password', { idle: 600 });
    try {
      const first = (await instance.issueSession()).value;
      now = start + 30_000; // used within the minute: nothing to re-issue yet
      expect(await instance.check(withCookie(first))).toEqual({ signedIn: true, person: LOCAL_PERSON });
      now = start + 500_000;
      const used = await instance.check(withCookie(first));
      expect(used.signedIn && used.renewed?.maxAgeMs).toBe(3600_000 - 500_000);
      const renewed = (used as { renewed: { value: string } }).renewed.value;
      now = start + 601_000; // the first cookie is idle past its end; the re-issued one is not
      expect(signedIn(await instance.check(withCookie(first)))).toBe(false);
      expect(signedIn(await instance.check(withCookie(renewed)))).toBe(true);
      now = start + 1200_000; // unused for 700 s
      expect(signedIn(await instance.check(withCookie(renewed)))).toBe(false);
    } finally {
      now = start;
    }
  });

  it('end on sign-out: at once here, and on another instance once its cache of the answer has run out', async () => {
    const start = now;
    const here = access('first password');
    const there = access('first password');
    try {
      const cookie = withCookie((await here.issueSession()).value);
      expect(signedIn(await there.check(cookie))).toBe(true); // remembered for REVOCATION_CACHE_MS
      await here.endSession(cookie);
      expect(signedIn(await here.check(cookie))).toBe(false);
      now = start + REVOCATION_CACHE_MS + 1;
      expect(signedIn(await there.check(cookie))).toBe(false);
      expect(signedIn(await access('first password').check(cookie))).toBe(false); // a fresh instance too
    } finally {
      now = start;
    }
  });

  it('answer 503 storage_unavailable, not "signed out" nor a crash, when storage is down during the check', async () => {
    const store = await startThrowawayS3('access-down');
    const installSecret = new InstallSecret(store.client, 'access-down');
    const config: Config['access'] = {
      password: 'first password',
      apiTokens: [],
      sessionMaxAgeSeconds: 3600,
      sessionIdleSeconds: 3600,
      failedSignInsPerMinute: 60,
    };
    const instance = new Access(config, { installSecret, storage: { client: store.client, bucket: 'access-down' } });
    const cookie = withCookie((await instance.issueSession()).value);
    await store.stop();
    await expect(instance.check(cookie)).rejects.toMatchObject({ code: 'storage_unavailable', status: 503 });
    await expect(instance.endSession(cookie)).rejects.toMatchObject({ code: 'storage_unavailable', status: 503 });
  });
});

describe('API tokens', () => {
  const TOKEN = 'token-0123456789abcdef';
  const withTokens = () =>
    new Access(
      { apiTokens: [TOKEN], sessionMaxAgeSeconds: 3600, sessionIdleSeconds: 3600, failedSignInsPerMinute: 60 },
      { installSecret: new InstallSecret(s3.client, BUCKET), storage: { client: s3.client, bucket: BUCKET }, now: () => now },
    );
  const sending = (authorization: string, ip = '192.0.2.1') => ({ headers: { authorization }, ip }) as unknown as Request;

  it('are accepted as `Authorization: Bearer <token>`, the scheme in any case', async () => {
    const instance = withTokens();
    expect(await instance.check(sending(`Bearer ${TOKEN}`))).toEqual({ signedIn: true, person: LOCAL_PERSON, viaToken: true });
    expect(signedIn(await instance.check(sending(`bearer ${TOKEN}`)))).toBe(true);
  });

  it("personal tokens: a person's acts as them; the local person's, made before accounts, acts as no one once OIDC is on", async () => {
    const alice = { id: 'ab'.repeat(16), space: `people/${'ab'.repeat(16)}/`, admin: false };
    const lookup = (bearer: string) =>
      Promise.resolve(
        bearer === 'pbt_alice'
          ? { person: alice, tokenId: 't1' }
          : bearer === 'pbt_local'
            ? { person: LOCAL_PERSON, tokenId: 't2' }
            : undefined,
      );
    const withAccounts = new Access(
      { apiTokens: [], sessionMaxAgeSeconds: 3600, sessionIdleSeconds: 3600, failedSignInsPerMinute: 60 },
      {
        installSecret: new InstallSecret(s3.client, BUCKET),
        storage: { client: s3.client, bucket: BUCKET },
        accounts: { issuerUrl: 'https://id.example.test', clientId: 'postbox' },
        personalTokens: { lookup },
        now: () => now,
      },
    );
    expect(await withAccounts.check(sending('Bearer pbt_alice', '192.0.2.50'))).toEqual({
      signedIn: true,
      person: alice,
      viaToken: true,
      tokenId: 't1',
    });
    expect(signedIn(await withAccounts.check(sending('Bearer pbt_local', '192.0.2.51')))).toBe(false);
  });

  it('are refused with anything before the scheme or after the token, or as another scheme', async () => {
    const instance = withTokens();
    for (const header of [
      `xBearer ${TOKEN}`,
      `Basic Bearer ${TOKEN}`,
      `Bearer ${TOKEN} `,
      `Bearer ${TOKEN}x`,
      `Bearer  ${TOKEN}`,
      TOKEN,
      'Bearer x',
    ]) {
      expect(signedIn(await instance.check(sending(header, `192.0.2.${header.length}`))), header).toBe(false);
    }
  });

  it('are checked instead of the cookie: a wrong token with a good session cookie is refused', async () => {
    const instance = access('first password');
    const cookie = (await instance.issueSession()).value;
    const both = {
      headers: { authorization: 'Bearer wrong', cookie: `${SESSION_COOKIE}=${cookie}` },
      ip: '192.0.2.99',
    } as unknown as Request;
    expect(signedIn(await instance.check(both))).toBe(false);
    expect(signedIn(await instance.check(withCookie(cookie)))).toBe(true);
  });

  it('after 10 wrong ones from a client, are refused uncompared (even the right one) with a wait, for that client only', async () => {
    const instance = withTokens();
    for (let i = 0; i < 10; i += 1) expect(await instance.check(sending('Bearer wrong', '198.51.100.7'))).toEqual({ signedIn: false });
    const refused = await instance.check(sending(`Bearer ${TOKEN}`, '198.51.100.7'));
    expect(refused).toMatchObject({ signedIn: false, why: expect.stringContaining('wrong API tokens') });
    expect((refused as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    expect(signedIn(await instance.check(sending(`Bearer ${TOKEN}`, '198.51.100.8')))).toBe(true);
  });
});

describe('session cookie boundaries', () => {
  it('a session is live until the last millisecond before SESSION_MAX_AGE_SECONDS, not at it', async () => {
    const start = now;
    now = Math.floor(start / 1000) * 1000;
    const signedInAt = now;
    try {
      const instance = access('first password', { sessionSecret: SECRET });
      const issued = await instance.issueSession();
      expect(issued.maxAgeMs).toBe(3600_000);
      now = signedInAt + 3600_000 - 1;
      expect(signedIn(await instance.check(withCookie(issued.value)))).toBe(true);
      now = signedInAt + 3600_000;
      expect(signedIn(await instance.check(withCookie(issued.value)))).toBe(false);
    } finally {
      now = start;
    }
  });

  it('reads only its own cookie, by name', async () => {
    const instance = access('first password');
    const value = (await instance.issueSession()).value;
    const other = { headers: { cookie: `other=${value}; ${SESSION_COOKIE}x=${value}` } } as unknown as Request;
    expect(signedIn(await instance.check(other))).toBe(false);
    const among = { headers: { cookie: `other=1; ${SESSION_COOKIE}=${value}; more=2` } } as unknown as Request;
    expect(signedIn(await instance.check(among))).toBe(true);
  });
});

describe('who needs to sign in', () => {
  const make = (config: Partial<Config['access']>) =>
    new Access(
      { apiTokens: [], sessionMaxAgeSeconds: 3600, sessionIdleSeconds: 3600, failedSignInsPerMinute: 60, ...config },
      { installSecret: new InstallSecret(s3.client, BUCKET), storage: { client: s3.client, bucket: BUCKET }, now: () => now },
    );
  const anonymous = { headers: {}, ip: '192.0.2.50' } as unknown as Request;

  it('nobody when no password and no API token is set', async () => {
    const open = make({});
    expect(open.required).toBe(false);
    expect(await open.check(anonymous)).toEqual({ signedIn: true, person: LOCAL_PERSON });
  });

  it('everyone when only an API token is set, and no session cookie is honoured then (there is no password to sign in with)', async () => {
    const tokensOnly = make({ apiTokens: ['token-0123456789abcdef'] });
    expect(tokensOnly.required).toBe(true);
    expect(tokensOnly.signInEnabled).toBe(false);
    expect(signedIn(await tokensOnly.check(anonymous))).toBe(false);
    const cookie = (await tokensOnly.issueSession()).value; // signed with the key every such install would derive
    expect(signedIn(await tokensOnly.check(withCookie(cookie)))).toBe(false);
  });

  it('refuses even the right API token while sign-in is paused for everyone by failures', async () => {
    const instance = make({ apiTokens: ['token-0123456789abcdef'], failedSignInsPerMinute: 3 });
    for (const ip of ['192.0.2.61', '192.0.2.62', '192.0.2.63']) {
      const wrong = { headers: { authorization: 'Bearer wrong' }, ip } as unknown as Request;
      expect(signedIn(await instance.check(wrong))).toBe(false);
    }
    const right = { headers: { authorization: 'Bearer token-0123456789abcdef' }, ip: '192.0.2.64' } as unknown as Request;
    expect(await instance.check(right)).toMatchObject({ signedIn: false, why: expect.stringContaining('paused') });
  });

  it('signing out without a live session does nothing (no exception)', async () => {
    await expect(access('first password').endSession({ headers: {} } as unknown as Request)).resolves.toBeUndefined();
    await expect(access('first password').endSession(withCookie('garbage'))).resolves.toBeUndefined();
  });
});

describe('session renewal', () => {
  it('re-issues the cookie once a full minute has passed, and never when its idle end is already its absolute end', async () => {
    const start = now;
    now = Math.floor(start / 1000) * 1000;
    const issuedAt = now;
    try {
      const instance = access('first password', { idle: 600 });
      const cookie = withCookie((await instance.issueSession()).value);
      now = issuedAt + 59_999;
      expect(await instance.check(cookie)).toEqual({ signedIn: true, person: LOCAL_PERSON });
      now = issuedAt + 60_000;
      expect((await instance.check(cookie)).signedIn && (await instance.check(cookie))).toMatchObject({ renewed: { maxAgeMs: 3540_000 } });
      now = issuedAt;
      const whole = access('first password'); // idle = max age: the idle end is the absolute end from the start
      const wholeCookie = withCookie((await whole.issueSession()).value);
      now = issuedAt + 3000_000;
      expect(await whole.check(wholeCookie)).toEqual({ signedIn: true, person: LOCAL_PERSON });
    } finally {
      now = start;
    }
  });
  // Equivalent mutants: the bearer pattern's `$` (`.+` runs to the end; a header value has no line break), and the
  // `?? ''` of the Authorization and Cookie headers (any text without the scheme or the cookie name reads the same).
});
