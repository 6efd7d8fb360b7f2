/**
 * npm run bench: the signing routes' floor, over HTTP on loopback.
 *
 * The real app (server/main.ts with the embedded S3, LOG_LEVEL=info, its log to /dev/null) runs as a
 * child process; autocannon loads each signing route with 32 connections for a few seconds. Printed:
 * req/s, p50 and p99 latency, the server's CPU time per request (all threads, and its main thread,
 * where JavaScript runs: 1 s / main µs bounds req/s), its RSS before and after the load, and a
 * PASS/FAIL line per floor. A reference line (a 404 after every middleware) shows what the
 * framework alone costs. Exit code 0 on PASS, 1 on FAIL or when it could not measure.
 *
 * BENCH_SECONDS (5) per route; BENCH_ROUTE=<text> loads only the routes whose name contains it;
 * BENCH_PROFILE=<dir> has the server write a V8 CPU profile there (docs/performance.md).
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { api, MultipartUpload, UploadPolicy } from '../contract/api.ts';
import { freePort } from '../server/integration/free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CONNECTIONS = 32;
const WARMUP_SECONDS = 2;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Whatever happens, the bench stops after this long. */
const TIME_LIMIT_MS = 120_000;
const FLOOR = { rps: 2000, p99Ms: 50, rssGrowthMiB: 32 };

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/**
 * CPU seconds (user + system) from /proc (clock ticks of 1/100 s): the whole process, or with
 * `thread` its main thread alone (JavaScript runs there: it bounds req/s; GC helpers run beside it).
 */
function cpuSeconds(pid: number, thread = false): number {
  const stat = readFileSync(thread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The app as `npm start` runs it (minus the build), on loopback with the embedded S3. The per-client
 * rate limit stays in the path with a ceiling the bench cannot reach.
 */
async function startServer(): Promise<Server> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postbox-bench-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(S3_|AWS_|APP_ORIGINS$|POSTBOX_|SESSION_|RATE_LIMIT|TRUST_PROXY|LOG_)/.test(name)),
  );
  // BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      POSTBOX_DATA_DIR: dataDir,
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    if (
      await fetch(url + api.settings).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, pid: child.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('the server did not answer within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const REFERENCE = 'POST /api/no-such-route (404, reference)';

interface Route {
  name: string;
  path: string;
  body: string;
}

const post = async (server: Server, urlPath: string, body: unknown): Promise<unknown> => {
  const response = await fetch(server.url + urlPath, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json();
  if (!response.ok) throw new Error(`${urlPath} answered ${response.status} ${JSON.stringify(answer)}`);
  return answer;
};

/** The three signing routes, each checked once to answer 2xx: a POST policy, a download link, an UploadPart URL. */
async function signingRoutes(server: Server): Promise<Route[]> {
  const upload = { name: 'Quarterly report – März 2026.pdf', size: 1234567, type: 'application/pdf' };
  // A download link is signed only for a file that exists: one small real upload (the form, as a browser posts it).
  const stored = UploadPolicy.parse(await post(server, api.uploads, { name: 'bench.txt', size: 5, type: 'text/plain' }));
  const form = new FormData();
  for (const [name, value] of Object.entries(stored.fields)) form.append(name, value);
  form.append('file', new Blob(['bench']), 'bench.txt');
  const posted = await fetch(new URL(stored.url, server.url), { method: 'POST', body: form });
  if (!posted.ok) throw new Error(`storage refused the bench's upload: ${posted.status}`);
  const key = stored.key;
  const { uploadToken } = MultipartUpload.parse(await post(server, api.multipartUploads, { ...upload, size: 100 * 1024 ** 2 }));
  const routes = [
    { name: 'POST /api/uploads (POST policy)', path: api.uploads, body: upload },
    { name: 'POST /api/files/:key/link (GET URL)', path: api.fileLink(key), body: { expiresIn: 3600 } },
    { name: 'POST /api/multipart-uploads/sign (1 part)', path: api.multipartSign, body: { uploadToken, partNumbers: [2] } },
  ];
  for (const route of routes) await post(server, route.path, route.body);
  // BENCH_ROUTE=<text>: only the routes whose name contains it (to profile one).
  const only = process.env.BENCH_ROUTE;
  // A reference, not a floor: every middleware a signing request passes (body parsed, limit counted), then a 404.
  const reference = { name: REFERENCE, path: '/api/no-such-route', body: { name: 'x' } };
  return [...routes, reference]
    .filter((route) => !only || route.name.includes(only))
    .map((route) => ({ ...route, body: JSON.stringify(route.body) }));
}

interface Measured {
  route: Route;
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  mainUs: number;
  failures: number;
}

const loadOptions = (server: Server, route: Route) => ({
  url: server.url + route.path,
  connections: CONNECTIONS,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: route.body,
});

/** JIT and heap reach their steady state before anything is measured. */
async function warmUp(server: Server, routes: Route[]): Promise<void> {
  for (const route of routes) await autocannon({ ...loadOptions(server, route), duration: WARMUP_SECONDS });
}

async function load(server: Server, route: Route): Promise<Measured> {
  const options = loadOptions(server, route);
  const cpuBefore = cpuSeconds(server.pid);
  const mainBefore = cpuSeconds(server.pid, true);
  const result = await autocannon({ ...options, duration: SECONDS });
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const mainCpu = cpuSeconds(server.pid, true) - mainBefore;
  return {
    route,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUs: (cpu * 1e6) / result.requests.total,
    mainUs: (mainCpu * 1e6) / result.requests.total,
    failures: (route.name === REFERENCE ? 0 : result.non2xx) + result.errors + result.timeouts,
  };
}

const num = (x: number, digits = 0) => x.toFixed(digits);

async function main(): Promise<boolean> {
  const cpus = os.cpus();
  console.log(
    `Postbox signing bench: Node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up per route, then ${SECONDS} s per route, LOG_LEVEL=info (JSON to /dev/null)\n`,
  );
  const server = await startServer();
  try {
    const routes = await signingRoutes(server);
    const rssCold = rssMiB(server.pid);
    await warmUp(server, routes);
    // "Flat" is measured from the warmed-up heap: growing to its working size once is not a leak.
    const rssBefore = rssMiB(server.pid);
    const results: Measured[] = [];
    for (const route of routes) results.push(await load(server, route));
    const rssAfter = rssMiB(server.pid);

    console.log(
      `  ${'route'.padEnd(44)}${'req/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'CPU µs/req'.padStart(12)}${'main µs'.padStart(9)}${'non-2xx'.padStart(9)}`,
    );
    for (const r of results) {
      console.log(
        `  ${r.route.name.padEnd(44)}${num(r.rps).padStart(8)}${num(r.p50).padStart(8)}${num(r.p99).padStart(8)}${num(r.cpuUs).padStart(12)}${num(r.mainUs).padStart(9)}${String(r.failures).padStart(9)}`,
      );
    }
    console.log(
      `  server RSS: ${num(rssCold, 1)} MiB cold, ${num(rssBefore, 1)} MiB after the warm-up, ${num(rssAfter, 1)} MiB after the load\n`,
    );

    const checks: Array<[boolean, string]> = results
      .filter((r) => r.route.name !== REFERENCE)
      .map((r) => [
        r.rps >= FLOOR.rps && r.p99 < FLOOR.p99Ms && r.failures === 0,
        `${r.route.name}: ≥ ${FLOOR.rps} req/s, p99 < ${FLOOR.p99Ms} ms, all 2xx`,
      ]);
    checks.push([
      rssAfter - rssBefore < FLOOR.rssGrowthMiB,
      `server RSS grows less than ${FLOOR.rssGrowthMiB} MiB under the load (after the warm-up)`,
    ]);
    for (const [pass, text] of checks) console.log(`  ${pass ? 'ok  ' : 'MISS'}  ${text}`);
    const pass = checks.every(([ok]) => ok);
    console.log(`\n${pass ? 'PASS' : 'FAIL'}`);
    return pass;
  } finally {
    await server.stop();
  }
}

setTimeout(() => {
  console.error(`bench: stopped at its ${TIME_LIMIT_MS / 1000} s time limit`);
  process.exit(1);
}, TIME_LIMIT_MS).unref();

try {
  process.exitCode = (await main()) ? 0 : 1;
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
}
