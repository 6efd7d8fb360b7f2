/**
 * npm run load-test [-- SECONDS]: two Postbox instances, one Redis (REDIS_URL) and one Ceph RGW bucket
 * (started by `scripts/ceph-rgw.sh run`, see package.json), under autocannon for SECONDS (default 60)
 * on the signing route and a share page, then three probes of the shared limits through both
 * instances at once. Prints per instance req/s, p99 and RSS at start and end; fails (exit 1) on any
 * error other than the intended 429s, or when a limit is not exact across the instances.
 * Not part of npm test (it is a measurement, not a timed test).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import { api, type UploadPolicy } from '../contract/api.ts';
import { createS3Client } from '../server/storage/s3-client.ts';
import { freePort } from '../server/integration/free-port.ts';
import { postThroughPolicy } from '../server/integration/harness.ts';

const SECONDS = Number(process.argv[2] ?? 60);
const CONNECTIONS_PER_INSTANCE = 16;
/** Signatures and page opens per client a minute: the bulk load (a new client per request) never reaches it, the probes do. */
const LIMIT = 600;
const MAX_DOWNLOADS = 50;
const ROOT = new URL('..', import.meta.url).pathname;
const endpoint = process.env.S3_ENDPOINT;
if (!endpoint) throw new Error('Run me as `npm run load-test` (scripts/ceph-rgw.sh run starts the RGW and exports S3_ENDPOINT).');

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const children: ChildProcess[] = [];
process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));

async function startRedis(): Promise<string> {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
  ]);
  children.push(child);
  let seen = '';
  for await (const chunk of child.stdout) {
    seen += String(chunk);
    if (seen.includes('Ready to accept connections')) break;
  }
  child.stdout.resume();
  return `redis://127.0.0.1:${port}`;
}

async function startInstance(env: Record<string, string>): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`an instance exited with ${child.exitCode}`);
    if (
      await fetch(url + api.health).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, pid: child.pid! };
    if (Date.now() > deadline) throw new Error('an instance did not answer within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** 10.x.y.z, a new one per request: each bulk request is its own client, far below every per-client limit. */
let clients = 0;
const nextClient = () => {
  const n = ++clients;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

async function bulk(url: string, sharePath: string) {
  const fresh = <T extends { headers?: Record<string, string> }>(req: T): T => ({
    ...req,
    headers: { ...req.headers, 'x-forwarded-for': nextClient() },
  });
  return autocannon({
    url,
    connections: CONNECTIONS_PER_INSTANCE,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: api.uploads,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'a.txt', size: 3, type: 'text/plain' }),
        setupRequest: fresh,
      },
      { method: 'GET', path: sharePath, setupRequest: fresh },
    ],
  });
}

/** `amount` requests from one client, split over both instances at once; the count of each status. */
async function probe(
  urls: string[],
  amount: number,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string },
) {
  const client = nextClient();
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url,
        connections: 4,
        amount: amount / urls.length,
        method: request.method,
        headers: { 'x-forwarded-for': client, ...request.headers },
        body: request.body,
        requests: [{ path: request.path }],
      }),
    ),
  );
  const counts: Record<string, number> = {};
  for (const result of results)
    for (const [status, { count }] of Object.entries(result.statusCodeStats)) counts[status] = (counts[status] ?? 0) + count;
  const errors = results.reduce((sum, r) => sum + r.errors + r.timeouts, 0);
  return { counts, errors };
}

const bucket = `load-${Date.now().toString(36)}`;
const s3 = createS3Client(
  {
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
  },
  { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
);
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
s3.destroy();
const redisUrl = await startRedis();
const env = {
  S3_BUCKET: bucket,
  S3_FORCE_PATH_STYLE: 'true',
  REDIS_URL: redisUrl,
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_PER_MINUTE: String(LIMIT),
};
const instances = [await startInstance(env), await startInstance(env)];
const urls = instances.map((i) => i.url);

const json = { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.1' };
const policy = (await (
  await fetch(urls[0] + api.uploads, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ name: 'a.txt', size: 3, type: 'text/plain' }),
  })
).json()) as UploadPolicy;
if ((await postThroughPolicy(policy, new TextEncoder().encode('abc'))).status !== 204) throw new Error('the test file did not upload');
const share = async (body: unknown) =>
  (
    (await (await fetch(urls[0] + api.fileShares(policy.key), { method: 'POST', headers: json, body: JSON.stringify(body) })).json()) as {
      id: string;
    }
  ).id;
const openLink = await share({ expiresIn: 3600 });
const limitedLink = await share({ expiresIn: 3600, maxDownloads: MAX_DOWNLOADS });

const rssStart = instances.map((i) => rssMiB(i.pid));
console.log(
  `load: ${SECONDS} s, ${CONNECTIONS_PER_INSTANCE} connections per instance, signing (POST ${api.uploads}) and a share page (GET /s/:id) in turn`,
);
const results = await Promise.all(urls.map((url) => bulk(url, `/s/${openLink}`)));
const rssEnd = instances.map((i) => rssMiB(i.pid));

let failed = false;
results.forEach((r, n) => {
  const unexpected = r.errors + r.timeouts + r.non2xx;
  if (unexpected > 0) failed = true;
  console.log(
    `instance ${n + 1}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.requests.total} requests, ` +
      `errors other than 2xx: ${unexpected}, RSS ${rssStart[n]!.toFixed(0)} → ${rssEnd[n]!.toFixed(0)} MiB`,
  );
});

const signing = await probe(urls, 3 * LIMIT, {
  method: 'POST',
  path: api.uploads,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'a.txt', size: 3, type: 'text/plain' }),
});
const opens = await probe(urls, 3 * LIMIT, { method: 'GET', path: `/s/${openLink}` });
const downloads = await probe(urls, 4 * MAX_DOWNLOADS, {
  method: 'POST',
  path: `/s/${limitedLink}`,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: '',
});
const exact = (name: string, got: { counts: Record<string, number>; errors: number }, want: Record<string, number>) => {
  const ok = got.errors === 0 && JSON.stringify(Object.entries(got.counts).sort()) === JSON.stringify(Object.entries(want).sort());
  if (!ok) failed = true;
  console.log(
    `${ok ? 'exact' : 'NOT EXACT'}: ${name}: ${JSON.stringify(got.counts)} (wanted ${JSON.stringify(want)}), connection errors ${got.errors}`,
  );
};
exact(`signing, one client, ${3 * LIMIT} requests over both instances, limit ${LIMIT}/min`, signing, { 201: LIMIT, 429: 2 * LIMIT });
exact(`share page opens, one client, ${3 * LIMIT} over both, limit ${LIMIT}/min`, opens, { 200: LIMIT, 429: 2 * LIMIT });
exact(`share downloads of a link limited to ${MAX_DOWNLOADS}, ${4 * MAX_DOWNLOADS} over both`, downloads, {
  303: MAX_DOWNLOADS,
  410: 3 * MAX_DOWNLOADS,
});

console.log(failed ? 'FAIL' : 'PASS');
process.exit(failed ? 1 : 0);
