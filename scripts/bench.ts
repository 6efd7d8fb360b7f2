/**
 * npm run bench: how close signing gets to the cost of its HMACs, in one run on loopback.
 *
 * 1. Per signature, in this process: the Signer's GET link, POST policy and UploadPart URL, the
 *    SDK's getSignedUrl and createPresignedPost for reference, and the floor: a SigV4 presigned GET
 *    by hand with node:crypto and a cached signing key (checked to give the Signer's exact URL).
 * 2. Over HTTP: the real app (server/main.ts, embedded S3) as a child process, loaded with
 *    autocannon (32 connections, the routes in turns) on the upload-signing and link-signing routes and on a constant
 *    JSON route of the same server, with the product's logging (LOG_LEVEL=info, to /dev/null)
 *    and without (LOG_LEVEL=silent): req/s, latency, the server's CPU time per request, and its RSS
 *    before and after.
 *
 * It reports and never asserts: it exits 0 whether or not the goals are met (1 only if it could not
 * measure), and stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, hash } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import autocannon, { type Result } from 'autocannon';
import { api } from '../contract/api.ts';
import { freePort } from '../server/integration/free-port.ts';
import { attachmentDisposition, sanitizeFilename } from '../server/signing/filenames.ts';
import { newUploadKey } from '../server/signing/object-keys.ts';
import { Signer } from '../server/signing/signer.ts';
import { createSigningClient } from '../server/storage/s3-client.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TIME_LIMIT_MS = 240_000;
const CONNECTIONS = 32;
const WARMUP_SECONDS = 2;
const ROUNDS = 5;
const ROUND_SECONDS = 1;
const GOALS = { routeRatio: 0.6, floorRatio: 10, p99Ms: 10 };

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void>> = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
setTimeout(() => {
  console.error(`\nbench: stopped at its ${TIME_LIMIT_MS / 1000} s time limit`);
  void Promise.allSettled(cleanups.map((c) => c())).then(() => process.exit(0));
}, TIME_LIMIT_MS).unref();

// ---------------------------------------------------------------------------------------------
// 1. Per signature

const REGION = 'us-east-1';
const ENDPOINT = 'http://127.0.0.1:8081'; // as the embedded store: path-style, with a port
const BUCKET = 'postbox';
const credentials = { accessKeyId: 'AKIDBENCHEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const FILENAME = sanitizeFilename('Quarterly report – März 2026.pdf');
const CONTENT_TYPE = 'application/pdf';
const KEY = newUploadKey(FILENAME, CONTENT_TYPE);
const DISPOSITION = attachmentDisposition(FILENAME);

/** RFC 3986 encoding, as SigV4 wants it. */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** The floor: a presigned GET by hand, only string building, one SHA-256 and one HMAC (signing key cached). */
function floorSigner() {
  const url = new URL(ENDPOINT);
  const host = url.host;
  const keys = new Map<string, Buffer>();
  return (key: string, disposition: string, expiresIn: number, signingDate = new Date()) => {
    const longDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const shortDate = longDate.slice(0, 8);
    let signingKey = keys.get(shortDate);
    if (!signingKey) {
      signingKey = [shortDate, REGION, 's3', 'aws4_request'].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${credentials.secretAccessKey}`) as Buffer;
      keys.set(shortDate, signingKey);
    }
    const scope = `${shortDate}/${REGION}/s3/aws4_request`;
    const objectPath = `/${BUCKET}/${key.split('/').map(rfc3986).join('/')}`;
    // The canonical query, sorted; the signature joins it in its sorted place.
    const head =
      `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD` +
      `&X-Amz-Credential=${rfc3986(`${credentials.accessKeyId}/${scope}`)}&X-Amz-Date=${longDate}&X-Amz-Expires=${expiresIn}`;
    const tail = `X-Amz-SignedHeaders=host&response-content-disposition=${rfc3986(disposition)}&x-id=GetObject`;
    const canonicalRequest = `GET\n${objectPath}\n${head}&${tail}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
    const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
    return `${url.origin}${objectPath}?${head}&X-Amz-Signature=${signature}&${tail}`;
  };
}

/** µs per call: warm up, size the loop to ~ROUND_MS, take the median of ROUNDS rounds. */
async function timeIt(fn: () => unknown): Promise<number> {
  const ROUND_MS = 300;
  const ROUNDS = 5;
  const run = async (n: number) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    return performance.now() - started;
  };
  let n = 16;
  const warmUntil = performance.now() + 400;
  while (performance.now() < warmUntil) await run(n);
  for (;;) {
    const ms = await run(n);
    if (ms >= 50) {
      n = Math.max(1, Math.round((n * ROUND_MS) / ms));
      break;
    }
    n *= 2;
  }
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) perCall.push(((await run(n)) * 1000) / n);
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(ROUNDS / 2)]!;
}

interface SignatureRow {
  name: string;
  us: number;
  fast: boolean;
}

async function perSignature(): Promise<{ rows: SignatureRow[]; floorUs: number; floorMatches: boolean }> {
  const client = createSigningClient({ region: REGION, endpoint: ENDPOINT, forcePathStyle: true, credentials });
  const signer = new Signer(client);
  const floor = floorSigner();

  // The floor does the same work as the Signer: same URL, byte for byte.
  const at = new Date();
  const floorMatches =
    floor(KEY, DISPOSITION, 3600, at) ===
    (await signer.presignGetObject({ bucket: BUCKET, key: KEY, expiresIn: 3600, signingDate: at, response: { contentDisposition: DISPOSITION } }));

  const postInput = {
    bucket: BUCKET,
    key: KEY,
    conditions: [['content-length-range', 1234567, 1234567]],
    fields: { 'Content-Type': CONTENT_TYPE, 'Content-Disposition': DISPOSITION, 'x-amz-meta-original-name': encodeURIComponent(FILENAME) },
    expiresIn: 900,
  };
  const floorUs = await timeIt(() => floor(KEY, DISPOSITION, 3600));
  const rows: SignatureRow[] = [
    { name: 'floor: SigV4 GET by hand, cached key', us: floorUs, fast: false },
    {
      name: 'Signer: GET (download link)',
      us: await timeIt(() => signer.presignGetObject({ bucket: BUCKET, key: KEY, expiresIn: 3600, response: { contentDisposition: DISPOSITION } })),
      fast: true,
    },
    { name: 'Signer: POST policy (3 fields + size)', us: await timeIt(() => signer.presignPost(postInput)), fast: true },
    {
      name: 'Signer: UploadPart',
      us: await timeIt(() => signer.presignUploadPart({ bucket: BUCKET, key: KEY, uploadId: 'bench-upload-id', partNumber: 7, contentLength: 32 * 1024 * 1024, expiresIn: 3600 })),
      fast: true,
    },
    {
      name: 'ref: getSignedUrl(GetObjectCommand)',
      us: await timeIt(() =>
        getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: KEY, ResponseContentDisposition: DISPOSITION }), { expiresIn: 3600 }),
      ),
      fast: false,
    },
    {
      name: 'ref: createPresignedPost',
      us: await timeIt(() =>
        createPresignedPost(client, { Bucket: BUCKET, Key: KEY, Conditions: postInput.conditions as never, Fields: postInput.fields, Expires: 900 }),
      ),
      fast: false,
    },
  ];
  client.destroy();
  return { rows, floorUs, floorMatches };
}

// ---------------------------------------------------------------------------------------------
// 2. Over HTTP

const rssMiB = (pid: number) => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
};

/** CPU seconds (user + system) the process has used, from /proc (clock ticks of 1/100 s). */
const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The real app, as `npm start` runs it (minus the build), on loopback with the embedded S3; its log goes to /dev/null. */
async function startServer(logLevel: string): Promise<Server> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postbox-bench-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(S3_|AWS_|APP_ORIGINS$|POSTBOX_|SESSION_|RATE_LIMIT|TRUST_PROXY)/.test(name)));
  const stderr: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      EMBEDDED_S3_PORT: '0',
      POSTBOX_DATA_DIR: dataDir,
      LOG_LEVEL: logLevel,
      // One client sends every request here: keep the per-client limiter in the path (its cost is
      // measured) but with a ceiling the bench cannot reach, so it never answers 429.
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'],
  });
  children.add(child);
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      child.kill('SIGKILL');
    }
    children.delete(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}):\n${stderr.join('')}`);
    }
    try {
      if ((await fetch(url + api.settings)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not answer within 30 s:\n${stderr.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, stop };
}

interface Route {
  name: string;
  method: string;
  path: string;
  body?: string;
  /** What a correct answer looks like, checked once before the load. */
  check(status: number, body: any): boolean;
}

const ROUTES: Route[] = [
  { name: 'GET /api/settings (constant JSON)', method: 'GET', path: api.settings, check: (status, body) => status === 200 && 'maxUploadBytes' in body },
  {
    name: 'POST /api/uploads (POST policy)',
    method: 'POST',
    path: api.uploads,
    body: JSON.stringify({ name: 'Quarterly report – März 2026.pdf', size: 1234567, type: CONTENT_TYPE }),
    check: (status, body) => status === 201 && /^[0-9a-f]{64}$/.test(body?.fields?.['X-Amz-Signature']),
  },
  {
    name: 'POST /api/files/:key/link (GET)',
    method: 'POST',
    path: api.fileLink(KEY),
    body: JSON.stringify({ expiresIn: 3600 }),
    check: (status, body) => status === 201 && String(body?.url).includes('X-Amz-Signature='),
  },
];

interface RouteResult {
  route: Route;
  rps: number;
  /** Percentiles of every request the route answered in all its rounds. */
  p50: number;
  p99: number;
  /** The worst round's p99 (autocannon's, whole milliseconds). */
  p99Max: number;
  /** Server CPU time per request: what a route costs, whatever else runs on the machine. */
  cpuUs: number;
  non2xx: number;
  errors: number;
}

/** The nearest-rank percentile (0.99: the value 99 % of the samples are at or under). */
const percentile = (values: number[], fraction: number) => [...values].sort((x, y) => x - y)[Math.max(0, Math.ceil(fraction * values.length) - 1)]!;

/**
 * Each route gets ROUNDS × ROUND_SECONDS of load, in turns (a round of every route, then the next
 * round): on a shared machine whose speed drifts, the routes see the same drift, and the ratios
 * compare like with like. Latency percentiles are over every request of the route in all its rounds
 * (the p99 of its 32-connection load); the worst round's p99 is kept as well.
 */
async function loadRoutes(server: Server, routes: Route[]): Promise<RouteResult[]> {
  const loads = [];
  for (const route of routes) {
    const headers: Record<string, string> = route.body ? { 'content-type': 'application/json' } : {};
    const probe = await fetch(server.url + route.path, { method: route.method, headers, body: route.body });
    const probeBody = await probe.json().catch(() => undefined);
    if (!route.check(probe.status, probeBody)) {
      throw new Error(`${route.name} answered ${probe.status} ${JSON.stringify(probeBody)?.slice(0, 300)}`);
    }
    const options = { url: server.url + route.path, connections: CONNECTIONS, method: route.method, headers, body: route.body };
    await autocannon({ ...options, duration: WARMUP_SECONDS });
    loads.push({ route, options, requests: 0, seconds: 0, cpu: 0, latencies: [] as number[], p99: [] as number[], non2xx: 0, errors: 0 });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const load of loads) {
      const cpuBefore = cpuSeconds(server.pid);
      const run = autocannon({ ...load.options, duration: ROUND_SECONDS });
      run.on('response', (_client, _status, _bytes, responseTime) => load.latencies.push(responseTime));
      const result: Result = await run;
      load.cpu += cpuSeconds(server.pid) - cpuBefore;
      load.requests += result.requests.total;
      load.seconds += result.duration;
      load.p99.push(result.latency.p99);
      load.non2xx += result.non2xx;
      load.errors += result.errors + result.timeouts;
    }
  }
  return loads.map((load) => ({
    route: load.route,
    rps: load.requests / load.seconds,
    p50: percentile(load.latencies, 0.5),
    p99: percentile(load.latencies, 0.99),
    p99Max: Math.max(...load.p99),
    cpuUs: (load.cpu * 1e6) / load.requests,
    non2xx: load.non2xx,
    errors: load.errors,
  }));
}

async function overHttp(logLevel: string) {
  const server = await startServer(logLevel);
  try {
    const rssBefore = rssMiB(server.pid);
    const results = await loadRoutes(server, ROUTES);
    return { logLevel, results, rssBefore, rssAfter: rssMiB(server.pid) };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

async function main() {
  const cpus = os.cpus();
  console.log(`Postbox signing bench: Node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}`);

  const { rows, floorUs, floorMatches } = await perSignature();
  console.log('\nPer signature (in-process, after warm-up, median of 5 rounds)');
  console.log(`  ${pad('operation', 42)}${'µs/op'.padStart(9)}${'× floor'.padStart(10)}`);
  for (const row of rows) console.log(`  ${pad(row.name, 42)}${num(row.us).padStart(9)}${num(row.us / floorUs, 2).padStart(10)}`);
  console.log(`  (the floor's URL ${floorMatches ? 'equals' : 'DIFFERS FROM'} the Signer's, byte for byte)`);

  const runs = [];
  for (const logLevel of ['info', 'silent']) {
    const run = await overHttp(logLevel);
    runs.push(run);
    const constant = run.results[0]!.rps;
    console.log(
      `\nHTTP: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_SECONDS} s per route in turns after ${WARMUP_SECONDS} s warm-up, LOG_LEVEL=${logLevel}` +
        (logLevel === 'info' ? ' (the default; log to /dev/null)' : ''),
    );
    if (logLevel === 'info') {
      console.log('  (per-client rate limit in the path, with a ceiling of 1,000,000/min so that it never answers 429)');
      console.log("  (p50 and p99 over all of a route's requests in its rounds; max p99: its worst 1 s round's)");
    }
    console.log(
      `  ${pad('route', 36)}${'req/s'.padStart(8)}${'× const'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max p99'.padStart(9)}` +
        `${'CPU µs/req'.padStart(12)}${'non-2xx'.padStart(9)}`,
    );
    for (const r of run.results) {
      console.log(
        `  ${pad(r.route.name, 36)}${num(r.rps, 0).padStart(8)}${num(r.rps / constant, 2).padStart(9)}${num(r.p50, 1).padStart(8)}${num(r.p99, 1).padStart(8)}${num(r.p99Max, 0).padStart(9)}` +
          `${num(r.cpuUs, 0).padStart(12)}${String(r.non2xx + r.errors).padStart(9)}`,
      );
    }
    console.log(`  server RSS: ${num(run.rssBefore)} MiB before, ${num(run.rssAfter)} MiB after`);
  }

  const product = runs[0]!;
  const constant = product.results[0]!.rps;
  const goals: Array<[boolean, string]> = [];
  for (const r of product.results.slice(1)) {
    goals.push([r.rps >= GOALS.routeRatio * constant, `${r.route.name}: ≥ ${GOALS.routeRatio}× the constant route's req/s (${num(r.rps / constant, 2)}×)`]);
  }
  for (const row of rows.filter((row) => row.fast)) {
    goals.push([row.us <= GOALS.floorRatio * floorUs, `${row.name}: ≤ ${GOALS.floorRatio}× the floor (${num(row.us / floorUs, 1)}×)`]);
  }
  for (const r of product.results.slice(1)) {
    goals.push([
      r.p99 < GOALS.p99Ms,
      `${r.route.name}: p99 < ${GOALS.p99Ms} ms at ${CONNECTIONS} connections (${num(r.p99, 1)} ms over all its requests; worst 1 s round ${num(r.p99Max, 0)} ms)`,
    ]);
  }
  for (const r of product.results) {
    if (r.non2xx + r.errors > 0) goals.push([false, `${r.route.name}: every answer 2xx (${r.non2xx} non-2xx, ${r.errors} errors)`]);
  }
  console.log(`\nGoals (HTTP figures with LOG_LEVEL=info)`);
  for (const [pass, text] of goals) console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${text}`);
}

try {
  await main();
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
} finally {
  await Promise.allSettled(cleanups.map((c) => c()));
}
process.exit();
