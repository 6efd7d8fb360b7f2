import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../contract/api.ts';
import { EMBEDDED_CREDENTIALS } from '../storage/embedded-s3.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';
import { hasRedisServer, startTestRedis, type TestRedis } from './redis-server.ts';
import { startThrowawayS3, type ThrowawayS3 } from './throwaway-s3.ts';

/*
 * Two Postbox instances on one bucket and one Redis (REDIS_URL), as behind a load balancer: every
 * limit and every sign-out holds across both. Each describe starts its own redis-server (the
 * outage test stops it; nothing else then sees another test's counts).
 */

const PASSWORD = 'correct horse battery staple';
const TOKEN = 'script-token-0123456789abcdef';
const BUCKET = 'postbox-scale-out';
const HOW_TO = "Debian's redis-server is needed: apt-get install redis-server (npm test installs it as root).";

const cookieOf = (response: { headers: Headers }) => response.headers.get('set-cookie')?.split(';')[0];
/** One client each (TRUST_PROXY=loopback): per-client limits do not get in the way of the budget under test. */
const from = (n: number, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': `198.51.100.${n}`, ...headers });

interface Pair {
  s3: ThrowawayS3;
  redis: TestRedis;
  first: TestPostbox;
  second: TestPostbox;
  stop(): Promise<void>;
}

async function startPair(env: Record<string, string>): Promise<Pair> {
  const s3 = await startThrowawayS3(BUCKET);
  process.env.AWS_ACCESS_KEY_ID = EMBEDDED_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMBEDDED_CREDENTIALS.secretAccessKey;
  const redis = await startTestRedis();
  const instance = () =>
    startTestPostbox({
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      REDIS_URL: redis.url,
      TRUST_PROXY: 'loopback',
      ...env,
    });
  const first = await instance();
  const second = await instance();
  return {
    s3,
    redis,
    first,
    second,
    async stop() {
      await first.stop();
      await second.stop();
      await redis.stop();
      await s3.stop();
    },
  };
}

const describeWithRedis = hasRedisServer() ? describe : process.env.CI === 'true' ? describe : describe.skip;
if (!hasRedisServer()) console.warn(`\n!!! SKIPPED: the two-instance tests with Redis did not run. ${HOW_TO}\n`);

describeWithRedis('two instances sharing one Redis: sign-ins and sessions', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ POSTBOX_PASSWORD: PASSWORD, POSTBOX_API_TOKENS: TOKEN, SIGN_IN_FAILURES_PER_MINUTE: '15' });
  });
  afterAll(() => pair?.stop());

  it('wrong sign-ins alternated between the instances are refused after the shared budget, not twice it', async () => {
    const { first, second } = pair;
    for (let n = 0; n < 15; n++) {
      const wrong = await [first, second][n % 2]!.call('POST', api.session, { password: `wrong ${n}` }, from(n));
      expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_credentials']);
    }
    // Each instance has seen 7 or 8 of the 15: alone, neither would pause. Together they do, even for the right password.
    for (const app of [first, second]) {
      const right = await app.call('POST', api.session, { password: PASSWORD }, from(50));
      expect([right.status, right.body.error.code]).toEqual([429, 'rate_limited']);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(50);
      const token = await app.call('GET', api.files, undefined, from(51, { authorization: `Bearer ${TOKEN}` }));
      expect(token.status).toBe(429);
    }
  });

  it('wrong API tokens from one client alternated between the instances: 10 a minute in all, not 10 each', async () => {
    await pair.redis.stop(); // a fresh Redis: the sign-in pause of the test before is forgotten
    await pair.redis.start();
    const { first, second } = pair;
    await waitForRedis(first);
    await waitForRedis(second);
    const statuses: number[] = [];
    for (let n = 0; n < 12; n++) {
      statuses.push(
        (await [first, second][n % 2]!.call('GET', api.files, undefined, from(7, { authorization: `Bearer wrong-${n}` }))).status,
      );
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
  });

  it('a session signed out on one instance is refused on the other at once (no cache window)', async () => {
    const { first, second } = pair;
    const signedIn = await first.call('POST', api.session, { password: PASSWORD }, from(20));
    expect(signedIn.status).toBe(204);
    const cookie = cookieOf(signedIn)!;
    expect((await second.call('GET', api.files, undefined, from(20, { cookie }))).status).toBe(200); // the other instance has looked it up
    expect((await first.call('DELETE', api.session, undefined, from(20, { cookie }))).status).toBe(204);
    const replayed = await second.call('GET', api.files, undefined, from(20, { cookie }));
    expect([replayed.status, replayed.body.error.code]).toEqual([401, 'unauthorized']);
    expect((await second.call('GET', api.session, undefined, from(20, { cookie }))).body.signedIn).toBe(false);
  });
});

describeWithRedis('two instances sharing one Redis: share links', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ RATE_LIMIT_PER_MINUTE: '20' });
  });
  afterAll(() => pair?.stop());

  let owner = 100; // a client of its own for each file: the signing limit stays out of the way
  const sharedFile = async (request: Record<string, unknown>) => {
    const policy = await pair.first.call('POST', api.uploads, { name: 'a.txt', size: 3, type: 'text/plain' }, from(++owner));
    expect((await postThroughPolicy(policy.body, new TextEncoder().encode('abc'))).status).toBe(204);
    const link = await pair.first.call('POST', api.fileShares(policy.body.key), { expiresIn: 3600, ...request }, from(owner));
    expect(link.status).toBe(201);
    return { id: link.body.id as string, on: (app: TestPostbox) => `${app.url}/s/${link.body.id}` };
  };
  /** As `curl -d password=…` posts it: no Origin, no Sec-Fetch-*. */
  const post = (url: string, client: number, form: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...from(client) },
      body: new URLSearchParams(form).toString(),
    });

  it('share page opens from one client alternated between the instances: RATE_LIMIT_PER_MINUTE in all, not each', async () => {
    const link = await sharedFile({});
    const statuses: number[] = [];
    for (let n = 0; n < 22; n++) statuses.push((await fetch(link.on([pair.first, pair.second][n % 2]!), { headers: from(31) })).status);
    expect(statuses).toEqual([...Array(20).fill(200), 429, 429]);
  });

  it('wrong share passwords from one client alternated between the instances: 10 per 15 minutes in all, not 10 each', async () => {
    // A fresh link each time: the per-link slow-down (real seconds in Redis) stays out of the count.
    const links = [];
    for (let n = 0; n < 12; n++) links.push(await sharedFile({ password: 'the right password' }));
    const statuses: number[] = [];
    for (const [n, link] of links.entries())
      statuses.push((await post(link.on([pair.first, pair.second][n % 2]!), 32, { password: `guess ${n}` })).status);
    expect(statuses).toEqual([...Array(10).fill(403), 429, 429]);
  });
});

/** Waits for /api/health to say Redis is reachable (the client reconnects by itself; a signal, not a sleep). */
async function waitForRedis(app: TestPostbox, reachable = true, withinMs = 10_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const health = await app.call('GET', api.health);
    if (health.body.sharedState?.reachable === reachable) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`Redis still ${reachable ? 'unreachable' : 'reachable'} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithRedis('Redis stopped mid-run, then started again', () => {
  let open: Pair;
  let locked: TestPostbox;
  beforeAll(async () => {
    open = await startPair({ RATE_LIMIT_PER_MINUTE: '4' });
    locked = await startTestPostbox({
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: open.s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      REDIS_URL: open.redis.url,
      TRUST_PROXY: 'loopback',
      POSTBOX_PASSWORD: PASSWORD,
      POSTBOX_API_TOKENS: TOKEN,
    });
  });
  afterAll(async () => {
    await locked?.stop();
    await open?.stop();
  });

  const sign = (app: TestPostbox, client: number) =>
    app.call('POST', api.uploads, { name: 'a.txt', size: 3, type: 'text/plain' }, from(client));

  it('signing and share pages fail open, sign-in, tokens and sessions fail closed (503 limits_unavailable), health says so; back without a restart', async () => {
    const { first, second, redis } = open;
    const policy = await sign(first, 1);
    expect(policy.status).toBe(201);
    expect((await postThroughPolicy(policy.body, new TextEncoder().encode('abc'))).status).toBe(204);
    const link = await first.call('POST', api.fileShares(policy.body.key), { expiresIn: 3600 }, from(1));
    expect(link.status).toBe(201);
    const cookie = cookieOf(await locked.call('POST', api.session, { password: PASSWORD }, from(2)))!;
    expect((await first.call('GET', api.health)).body.sharedState).toEqual({ mode: 'redis', reachable: true });

    const timeline: string[] = [];
    const t0 = Date.now();
    const at = (what: string) => timeline.push(`+${Date.now() - t0} ms ${what}`);
    await redis.stop();
    at('redis-server stopped');

    // The signing limit fails open: more than RATE_LIMIT_PER_MINUTE (4) signatures pass, uncounted.
    for (let n = 0; n < 6; n++) expect((await sign([first, second][n % 2]!, 3)).status).toBe(201);
    at('signing: 201 (fail open)');
    const page = await fetch(link.body.url);
    expect(page.status).toBe(200);
    at('share page: 200 (fail open)');

    for (const refused of [
      await locked.call('POST', api.session, { password: PASSWORD }, from(4)),
      await locked.call('GET', api.files, undefined, from(4, { authorization: `Bearer ${TOKEN}` })),
      await locked.call('GET', api.files, undefined, from(2, { cookie })),
    ]) {
      expect([refused.status, refused.body.error.code]).toEqual([503, 'limits_unavailable']);
    }
    at('sign-in, token, session: 503 limits_unavailable (fail closed)');
    const health = await first.call('GET', api.health);
    expect([health.status, health.body.status, health.body.sharedState]).toEqual([200, 'ok', { mode: 'redis', reachable: false }]);
    at('health: 200, sharedState.reachable false');

    await redis.start();
    at('redis-server started');
    await waitForRedis(first);
    await waitForRedis(second);
    await waitForRedis(locked);
    at('all three instances reconnected (health: reachable true)');

    // Shared again: 4 signatures a minute for client 5, across both instances.
    const statuses: number[] = [];
    for (let n = 0; n < 6; n++) statuses.push((await sign([first, second][n % 2]!, 5)).status);
    expect(statuses).toEqual([201, 201, 201, 201, 429, 429]);
    expect((await locked.call('GET', api.files, undefined, from(2, { cookie }))).status).toBe(200);
    at('limits shared again, session works');
    console.info(`Redis outage timeline:\n  ${timeline.join('\n  ')}`);
  });
});

describeWithRedis('Redis that keeps its connections but does not answer (SIGSTOP)', () => {
  let pair: Pair;
  let locked: TestPostbox;
  beforeAll(async () => {
    pair = await startPair({ RATE_LIMIT_PER_MINUTE: '100' });
    locked = await startTestPostbox({
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: pair.s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      REDIS_URL: pair.redis.url,
      TRUST_PROXY: 'loopback',
      POSTBOX_PASSWORD: PASSWORD,
    });
  });
  afterAll(async () => {
    pair?.redis.thaw();
    await locked?.stop();
    await pair?.stop();
  });

  it('requests are answered within a few seconds (signing 201, sign-in 503 limits_unavailable), health and metrics say so, and all is shared again once it answers', async () => {
    const { first, redis } = pair;
    expect((await first.call('GET', api.health)).body.sharedState).toEqual({ mode: 'redis', reachable: true });
    redis.freeze();
    const timed = async <T>(call: () => Promise<T>) => {
      const started = Date.now();
      const result = await call();
      return { result, ms: Date.now() - started };
    };
    // Before the fix each of these waited for as long as Redis stayed silent (the test timed out).
    const signed = await timed(() => first.call('POST', api.uploads, { name: 'a.txt', size: 3, type: 'text/plain' }, from(1)));
    expect(signed.result.status).toBe(201);
    const signIn = await timed(() => locked.call('POST', api.session, { password: PASSWORD }, from(2)));
    expect([signIn.result.status, signIn.result.body.error?.code]).toEqual([503, 'limits_unavailable']);
    const health = await timed(() => pair.second.call('GET', api.health));
    expect([health.result.status, health.result.body.sharedState]).toEqual([200, { mode: 'redis', reachable: false }]);
    const metrics = await fetch(`${first.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^postbox_redis_up 0$/m);
    console.info(`Silent Redis: signing ${signed.ms} ms, sign-in ${signIn.ms} ms, health ${health.ms} ms`);

    redis.thaw();
    await waitForRedis(locked);
    await waitForRedis(pair.second);
    expect((await locked.call('POST', api.session, { password: PASSWORD }, from(3))).status).toBe(204);
    await waitForRedis(first);
    expect(await fetch(`${first.url}/metrics`).then((r) => r.text())).toMatch(/^postbox_redis_up 1$/m);
  });
});
