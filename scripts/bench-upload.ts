/**
 * `npm run bench:upload`: how fast a big file goes up to the same S3 through (a) the Postbox page
 * (multipart, parts in parallel, each part's integrity checked), (b) Uppy 5's @uppy/aws-s3 in the
 * same browser (same part size and parts in flight, no checksums; scripts/bench-uppy/, signed by this
 * script) and (c) one plain presigned PUT from Node; how much CPU Chromium spends per GiB in (a) and
 * (b), the longest main-thread task while the parts go up, and the server's memory. Not a test: it
 * prints figures. After one upload of each kind that is not counted (a fresh store's first gigabyte is
 * the slowest), (a), (b) and (c) go in turns for BENCH_ROUNDS rounds; each throughput is all its bytes
 * over all its seconds, so that a busy moment on the shared machine weighs on every lane alike.
 *
 *   BENCH_SIZE_MIB=1024 (default)   BENCH_PORT=38190 (default; the embedded S3 listens on +1)
 *   BENCH_S3=embedded (default) | rgw (a throwaway Ceph RGW from scripts/ceph-rgw.sh, as root)
 *   BENCH_ROUNDS=2 (default)
 *
 * Chromium's CPU is the user+system time of every process under this one except the server's
 * (browser, renderers, GPU and utility processes), read from /proc before and after each upload.
 * The page's main thread: CDP Performance.getMetrics (TaskDuration, ScriptDuration), and a
 * PerformanceObserver for 'longtask' entries installed before the page's own scripts.
 *
 * The server runs as a child process (`node --import tsx server/main.ts`); its resident memory is
 * sampled every 50 ms from /proc/<pid>/status (VmRSS). The embedded S3 lives in that same process,
 * so there its figure includes storage receiving the bytes; with RGW it is Postbox alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Page, type Request } from '@playwright/test';
import { build } from 'vite';
import { api, MiB, MultipartUpload, type UploadSettings } from '../contract/api.ts';
import { chromiumLaunch } from '../e2e/chromium.ts';
import { chromiumThreadCpu, CLOCK_TICKS } from './chromium-cpu.ts';
import { cleanupStack } from './cleanups.ts';
import { corsRule } from '../server/storage/cors.ts';
import { EMBEDDED_CREDENTIALS } from '../server/storage/embedded-s3.ts';
import { createSigningClient } from '../server/storage/s3-client.ts';

const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const port = Number(process.env.BENCH_PORT ?? 38190);
const root = path.resolve(import.meta.dirname, '..');
const target = process.env.BENCH_S3 ?? 'embedded';
/** Measured rounds of (a), (b), (c), after one warm-up upload of each. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
if (target !== 'embedded' && target !== 'rgw') throw new Error(`BENCH_S3 must be embedded or rgw (got ${target})`);

const cleanups = cleanupStack('bench:upload');
const cleanUp = cleanups.run;

interface Storage {
  name: string;
  /** The server's environment for this storage. */
  env: Record<string, string>;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
}

function embeddedStorage(dataDir: string): Storage {
  return {
    name: 'the embedded S3 (s3rver, in the server process)',
    env: { POSTBOX_DATA_DIR: dataDir },
    // Browsers reach the embedded store through the app (/storage): the plain PUT goes the same way.
    endpoint: `http://127.0.0.1:${port}/storage`,
    credentials: EMBEDDED_CREDENTIALS,
    bucket: 'postbox',
  };
}

/** A throwaway Ceph RGW with room for every upload, and a bucket with the app's CORS rule, as an operator would make it. */
async function rgwStorage(): Promise<Storage> {
  console.log('Starting a throwaway Ceph RGW…');
  const lines = execFileSync('bash', [path.join(root, 'scripts/ceph-rgw.sh'), 'start'], {
    env: { ...process.env, CEPH_RGW_MEMSTORE_MIB: String(Math.ceil(((ROUNDS + 1) * 4 * size) / MiB) + 1024) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString();
  // NAME=value lines, shell-quoted (%q): the values here never need quoting.
  const env = Object.fromEntries(
    lines
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  cleanups.push(() =>
    execFileSync('bash', [path.join(root, 'scripts/ceph-rgw.sh'), 'stop', env.CEPH_RGW_STATE_DIR!], { stdio: 'inherit' }),
  );
  const storage: Storage = {
    name: 'Ceph RGW 16 (memstore OSD), path-style',
    endpoint: env.S3_ENDPOINT!,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    bucket: 'postbox-bench',
    env: {},
  };
  storage.env = {
    S3_BUCKET: storage.bucket,
    S3_ENDPOINT: storage.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: storage.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: storage.credentials.secretAccessKey,
  };
  const s3 = new S3Client({ region: 'us-east-1', endpoint: storage.endpoint, forcePathStyle: true, credentials: storage.credentials });
  await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
  await s3.send(
    new PutBucketCorsCommand({ Bucket: storage.bucket, CORSConfiguration: { CORSRules: [corsRule([`http://127.0.0.1:${port}`])] } }),
  );
  s3.destroy();
  return storage;
}

const fmt = (bytesPerSecond: number) => `${(bytesPerSecond / MiB).toFixed(1)} MiB/s`;

async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  const chunk = 4 * MiB;
  for (let written = 0; written < bytes; written += chunk) {
    const data = randomBytes(Math.min(chunk, bytes - written));
    hash.update(data);
    await handle.write(data);
  }
  await handle.close();
  return hash.digest('hex');
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
}

async function waitFor(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Clock ticks (user + system) of `pid`'s processes and all their descendants, but not those under `except`. */
async function treeCpuSeconds(pid: number, except: number): Promise<number> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid … utime stime: fields after the command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 13) stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  const under = (p: number): boolean => {
    for (let q = p; q > 1; q = stats.get(q)?.ppid ?? 0) {
      if (q === except) return false;
      if (q === pid) return true;
    }
    return false;
  };
  let ticks = 0;
  for (const [p, { ticks: t }] of stats) if (p !== pid && under(p)) ticks += t;
  return ticks / CLOCK_TICKS;
}
/** One process's own CPU seconds (user + system). */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS || 0;
}

function cpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [key, seconds] of after) delta.set(key, seconds - (before.get(key) ?? 0));
  return delta;
}

/** Installed before any script of the page: the longest task and how many went over 50 ms since the last reset. */
const LONG_TASK_OBSERVER = `
  window.__longTasks = { longest: 0, count: 0, entries: [] };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.__longTasks.longest = Math.max(window.__longTasks.longest, entry.duration);
      window.__longTasks.count++;
      window.__longTasks.entries.push([entry.startTime, entry.duration]);
    }
  }).observe({ type: 'longtask' });
  // The same moments as long animation frames, whose entries name the scripts that ran in them.
  window.__longFrames = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration < 50) continue;
      const scripts = entry.scripts.map((s) => \`\${s.invoker || s.invokerType} \${Math.round(s.duration)} ms\`).join('; ');
      window.__longFrames.push([entry.startTime, entry.duration, entry.blockingDuration, scripts, entry.renderStart ? entry.startTime + entry.duration - entry.renderStart : 0]);
    }
  }).observe({ type: 'long-animation-frame' });
`;

interface BrowserRun {
  seconds: number;
  /** Sending the parts: until progress reads 100 % (Postbox), until Uppy asks to complete (Uppy). */
  partsSeconds?: number;
  cpuSeconds: number;
  /** The page's other requests: when each left and was answered, seconds after the start. */
  timeline: string[];
  /** Seconds after the start when the first part was sent and the last one answered. */
  putWindow: [number, number];
  /** The PUTs sent (a part sent again counts again), and how many of them carried a Content-MD5. */
  puts: { count: number; withMd5: number };
  /** The server process's (with the embedded S3 in it, when that is the store). */
  serverCpuSeconds: number;
  /** The renderer's main thread: all its tasks, and the JavaScript among them (CDP Performance metrics). */
  mainThreadSeconds: number;
  scriptSeconds: number;
  longestTaskMs: number;
  longTasks: number;
  /** Long animation frames (over 50 ms): when, how long, and the scripts that ran in them. */
  longFrames: string[];
  /** Each long task: seconds after the upload began, and its length in ms. */
  taskTimes: Array<[number, number]>;
  /** Postbox lane: the long tasks that started before progress read 100 % (while parts went up). */
  whileSending?: { longestMs: number; count: number };
  /** Chromium's CPU seconds by process kind and thread name (threads that exited meanwhile are missing). */
  threads: Map<string, number>;
}

/** Measures one upload in `page`, from `start` (which begins it) to `finished` resolving. */
async function measured(
  page: Page,
  start: () => Promise<void>,
  finished: () => Promise<{ at: number; pageAt: number } | undefined>,
): Promise<BrowserRun> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => {
    const { metrics: list } = await cdp.send('Performance.getMetrics');
    const of = (name: string) => list.find((m) => m.name === name)?.value ?? 0;
    return { task: of('TaskDuration'), script: of('ScriptDuration') };
  };
  await page.evaluate('window.__longTasks = { longest: 0, count: 0, entries: [] }; window.__longFrames = []');
  const threadsBefore = await chromiumThreadCpu(process.pid, serverPid);
  const before = { cpu: await treeCpuSeconds(process.pid, serverPid), server: await processCpuSeconds(serverPid), main: await metrics() };
  const pageStarted = await page.evaluate(() => performance.now());
  // When the first part left and the last one was answered (the page's PUTs, as the browser saw them).
  const puts = { first: Infinity, last: 0, count: 0, withMd5: 0 };
  // And every other request: when it left and when its answer ended (BENCH_TIMELINE=1 prints them).
  const calls = new Map<Request, [number, number]>();
  const onRequest = (r: Request) => {
    if (r.method() !== 'PUT') return void calls.set(r, [performance.now(), NaN]);
    puts.first = Math.min(puts.first, performance.now());
    puts.count++;
    if (r.headers()['content-md5']) puts.withMd5++;
  };
  const onFinished = (r: Request) => {
    if (r.method() === 'PUT') puts.last = Math.max(puts.last, performance.now());
    else calls.get(r)?.splice(1, 1, performance.now());
  };
  page.on('request', onRequest);
  page.on('requestfinished', onFinished);
  const started = performance.now();
  await start();
  const parts = await finished();
  const seconds = (performance.now() - started) / 1000;
  const after = { cpu: await treeCpuSeconds(process.pid, serverPid), server: await processCpuSeconds(serverPid), main: await metrics() };
  const threads = cpuDelta(threadsBefore, await chromiumThreadCpu(process.pid, serverPid));
  const longTasks = await page.evaluate<{ longest: number; count: number; entries: Array<[number, number]> }>('window.__longTasks');
  page.off('request', onRequest);
  page.off('requestfinished', onFinished);
  const frames = await page.evaluate<Array<[number, number, number, string, number]>>('window.__longFrames');
  const sending = parts ? longTasks.entries.filter(([startTime]) => startTime < parts.pageAt).map(([, duration]) => duration) : [];
  await cdp.detach();
  return {
    seconds,
    ...(parts && {
      partsSeconds: (parts.at - started) / 1000,
      whileSending: { longestMs: Math.max(0, ...sending), count: sending.length },
    }),
    cpuSeconds: after.cpu - before.cpu,
    putWindow: [(puts.first - started) / 1000, (puts.last - started) / 1000],
    puts: { count: puts.count, withMd5: puts.withMd5 },
    timeline: [...calls].map(
      ([r, [from, to]]) =>
        `${((from - started) / 1000).toFixed(2)}→${((to - started) / 1000).toFixed(2)} s ${r.method()} ${new URL(r.url()).pathname}`,
    ),
    serverCpuSeconds: after.server - before.server,
    mainThreadSeconds: after.main.task - before.main.task,
    scriptSeconds: after.main.script - before.main.script,
    longestTaskMs: longTasks.longest,
    longTasks: longTasks.count,
    longFrames: frames.map(
      ([at, ms, blocking, scripts, render]) =>
        `${((at - pageStarted) / 1000).toFixed(1)} s: ${ms.toFixed(0)} ms (blocking ${blocking.toFixed(0)}, style/layout/paint ${render.toFixed(0)}; ${scripts || 'no script'})`,
    ),
    taskTimes: longTasks.entries.map(([startTime, duration]) => [(startTime - pageStarted) / 1000, duration]),
    threads,
  };
}
let serverPid = 0;

/** The Uppy lane's page, built by Vite from scripts/bench-uppy into `outDir`, to be served under BENCH_UPPY_PATH. */
const BENCH_UPPY_PATH = '/__bench-uppy/';
async function buildUppyPage(outDir: string) {
  await build({
    root: path.join(root, 'scripts/bench-uppy'),
    base: BENCH_UPPY_PATH,
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

/** The threads that took most of Chromium's CPU over `runs`, in s/GiB. */
function threadLine(runs: BrowserRun[], GiBs: number): string {
  const sums = new Map<string, number>();
  for (const run of runs) for (const [key, seconds] of run.threads) sums.set(key, (sums.get(key) ?? 0) + seconds);
  const top = [...sums]
    .filter(([, s]) => s / GiBs >= 0.1)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10);
  return top.map(([key, seconds]) => `${key} ${(seconds / GiBs).toFixed(1)}`).join(', ');
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'postbox-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bench-1GiB.bin');
  console.log(`Writing a ${size / MiB} MiB random file…`);
  await writeRandomFile(file, size);
  const uppyDir = path.join(dir, 'uppy-page');
  await buildUppyPage(uppyDir);

  const storage = target === 'rgw' ? await rgwStorage() : embeddedStorage(path.join(dir, 'data'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...storage.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MAX_UPLOAD_BYTES: String(Math.max(size, 1024 ** 3)),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  cleanups.push(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  const pid = server.pid!;
  serverPid = pid;
  await waitFor(`http://127.0.0.1:${port}/api/health`, 60_000);
  const settings = (await (await fetch(`http://127.0.0.1:${port}/api/settings`)).json()) as UploadSettings;
  const idleRss = await rssKiB(pid);

  const browser = await chromium.launch({
    ...chromiumLaunch,
    args: [
      ...chromiumLaunch.args,
      // The Uppy page is served by Playwright (route.fulfill), which Chromium places outside the loopback
      // address space: without this, its PUTs to an RGW on 127.0.0.1 are refused (Local Network Access).
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
    ],
  });
  cleanups.push(() => browser.close());
  let partSize = 0;
  let peakRss = idleRss;

  const newPage = async () => {
    const page = await browser.newPage();
    await page.addInitScript(LONG_TASK_OBSERVER);
    return page;
  };

  /** (a) Through the SPA in headless Chromium, in a fresh page; the server's RSS sampled meanwhile. */
  async function throughSpa(): Promise<BrowserRun> {
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await rssKiB(pid));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const page = await newPage();
    try {
      page.on('response', async (response) => {
        if (response.request().method() === 'POST' && new URL(response.url()).pathname === api.multipartUploads) {
          partSize = MultipartUpload.parse(await response.json()).partSize;
        }
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.getByText('Storage online').waitFor();
      const upload = page.getByTestId('upload');
      const failed = upload.getByRole('alert');
      const whenFailed = async () => {
        if (await failed.isVisible()) throw new Error(`the upload failed: ${await failed.textContent()}`);
      };
      return await measured(
        page,
        () => page.getByTestId('file-input').setInputFiles(file),
        async () => {
          await upload
            .getByRole('progressbar', { includeHidden: true })
            .and(page.locator('[aria-valuenow="100"]'))
            .or(failed)
            .waitFor({ timeout: 30 * 60_000 });
          await whenFailed();
          const parts = { at: performance.now(), pageAt: await page.evaluate(() => performance.now()) };
          await upload
            .filter({ hasText: 'Uploaded ·' })
            .or(failed)
            .waitFor({ timeout: 30 * 60_000 });
          await whenFailed();
          return parts;
        },
      );
    } finally {
      sampling = false;
      await sampler;
      await page.close();
    }
  }

  const client = createSigningClient({
    region: 'us-east-1',
    endpoint: storage.endpoint,
    forcePathStyle: true,
    credentials: storage.credentials,
  });
  cleanups.push(() => client.destroy());

  /**
   * (b) Uppy 5 in headless Chromium, in a fresh page under the app's origin (the same storage origin
   * and CORS as the Postbox page), signing through a function this script exposes to the page.
   */
  async function throughUppy(round: number): Promise<BrowserRun> {
    const page = await newPage();
    /** When Uppy asked to complete (every part sent), on this script's clock. */
    let completeAt: number | undefined;
    page.on('requestfailed', (r) => console.error(`Uppy lane: ${r.method()} ${r.url().split('?')[0]} failed: ${r.failure()?.errorText}`));
    page.on('console', (m) => m.type() === 'error' && console.error(`Uppy lane page: ${m.text()}`));
    try {
      await page.exposeFunction(
        'benchS3',
        async (op: string, args: { key: string; uploadId: string; partNumber: number; parts: never }) => {
          const Bucket = storage.bucket;
          if (op === 'create') {
            const key = `bench/uppy-${round}.bin`;
            const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
            return { key, uploadId: UploadId };
          }
          const ref = { Bucket, Key: args.key, UploadId: args.uploadId };
          if (op === 'sign')
            return { url: await getSignedUrl(client, new UploadPartCommand({ ...ref, PartNumber: args.partNumber }), { expiresIn: 3600 }) };
          if (op === 'complete') {
            completeAt = performance.now();
            const parts = (args.parts as Array<{ PartNumber: number; ETag: string }>).map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
            await client.send(new CompleteMultipartUploadCommand({ ...ref, MultipartUpload: { Parts: parts } }));
            return {};
          }
          await client.send(new AbortMultipartUploadCommand(ref));
          return {};
        },
      );
      // Served from this script's build, under the app's origin, only while the page loads.
      await page.route(`http://127.0.0.1:${port}${BENCH_UPPY_PATH}**`, (route) =>
        route.fulfill({ path: path.join(uppyDir, new URL(route.request().url()).pathname.slice(BENCH_UPPY_PATH.length) || 'index.html') }),
      );
      await page.goto(`http://127.0.0.1:${port}${BENCH_UPPY_PATH}index.html`);
      await page.waitForFunction('"benchUpload" in window');
      await page.unrouteAll();
      await page.locator('#file').setInputFiles(file);
      return await measured(
        page,
        async () => {},
        async () => {
          await page.evaluate(`window.benchUpload(${partSize}, ${settings.multipartConcurrency})`);
          return completeAt === undefined ? undefined : { at: completeAt, pageAt: Number.POSITIVE_INFINITY };
        },
      );
    } finally {
      await page.close();
    }
  }

  /** (c) One plain presigned PUT of the whole file from Node, to the same S3. */
  async function onePut(round: number): Promise<number> {
    const url = new URL(
      await getSignedUrl(client, new PutObjectCommand({ Bucket: storage.bucket, Key: `bench/plain-put-${round}.bin` }), {
        expiresIn: 3600,
      }),
    );
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': String(size) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      pipeline(createReadStream(file), req).catch(reject);
    });
    return (performance.now() - started) / 1000;
  }

  // A store's first gigabyte is slower than the next (RGW's memstore grows, caches fill), and
  // whichever upload went first paid for it: one of each first, not counted, then the lanes in
  // turns, so that all see the same store and the same load from the rest of the machine.
  const loadBefore = loadavg()[0]!;
  console.log('Warm-up: one upload of each kind (not counted)…');
  await throughSpa(); // also learns the part size the server chose, which the Uppy lane then uses
  await throughUppy(0);
  await onePut(0);
  const spaRuns: BrowserRun[] = [];
  const uppyRuns: BrowserRun[] = [];
  const putRuns: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    spaRuns.push(await throughSpa());
    uppyRuns.push(await throughUppy(round));
    putRuns.push(await onePut(round));
    const [a, b] = [spaRuns.at(-1)!, uppyRuns.at(-1)!];
    console.log(
      `round ${round}: (a) ${fmt(size / a.seconds)} ${a.cpuSeconds.toFixed(1)} CPU s, (b) ${fmt(size / b.seconds)} ${b.cpuSeconds.toFixed(1)} CPU s, ` +
        `(c) ${fmt(size / putRuns.at(-1)!)}`,
    );
  }

  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const total = (runs: BrowserRun[], field: 'seconds' | 'cpuSeconds' | 'serverCpuSeconds' | 'mainThreadSeconds' | 'scriptSeconds') =>
    sum(runs.map((r) => r[field]));
  const GiBs = (ROUNDS * size) / 1024 ** 3;
  const spa = (ROUNDS * size) / total(spaRuns, 'seconds');
  const uppy = (ROUNDS * size) / total(uppyRuns, 'seconds');
  const put = (ROUNDS * size) / sum(putRuns);
  const partsSeconds = sum(spaRuns.map((r) => r.partsSeconds ?? 0));
  const uppyPartsSeconds = sum(uppyRuns.map((r) => r.partsSeconds ?? 0));
  const line = (label: string, runs: BrowserRun[], speed: number) =>
    `${label} ${(total(runs, 'seconds') / ROUNDS).toFixed(1)} s per upload, ${fmt(speed)}; Chromium CPU ${(total(runs, 'cpuSeconds') / GiBs).toFixed(1)} s/GiB ` +
    `(page main thread ${(total(runs, 'mainThreadSeconds') / GiBs).toFixed(1)} s/GiB, of which JS ${(total(runs, 'scriptSeconds') / GiBs).toFixed(1)}); ` +
    `longest main-thread task ${Math.max(...runs.map((r) => r.longestTaskMs)).toFixed(0)} ms, ${sum(runs.map((r) => r.longTasks))} over 50 ms; ` +
    `server CPU ${(total(runs, 'serverCpuSeconds') / GiBs).toFixed(1)} s/GiB`;
  console.log('');
  console.log(
    `storage: ${storage.name}; machine load (1-minute average) ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
  );
  console.log(
    `file: ${size / MiB} MiB; multipart threshold ${settings.multipartThresholdBytes / MiB} MiB, parts of ${partSize / MiB} MiB, ${settings.multipartConcurrency} at a time`,
  );
  console.log(`over ${ROUNDS} rounds after the warm-up (bytes over seconds, all rounds together):`);
  console.log(line('(a) Postbox page:', spaRuns, spa));
  const sendingTasks = spaRuns.map((r) => r.whileSending ?? { longestMs: 0, count: 0 });
  console.log(
    `    while the parts went up: longest main-thread task ${Math.max(...sendingTasks.map((t) => t.longestMs)).toFixed(0)} ms, ` +
      `${sum(sendingTasks.map((t) => t.count))} over 50 ms`,
  );
  const when = spaRuns.map((r) => r.taskTimes.map(([at, ms]) => `${at.toFixed(1)} s: ${ms.toFixed(0)} ms`).join(', ') || 'none');
  console.log(`    long tasks per upload (when after the file was chosen: how long): ${when.join(' | ')}`);
  for (const frame of spaRuns.flatMap((r) => r.longFrames)) console.log(`      long animation frame at ${frame}`);
  console.log(
    `    of which sending the parts: ${(partsSeconds / ROUNDS).toFixed(1)} s; completing (storage joins the parts): ${((total(spaRuns, 'seconds') - partsSeconds) / ROUNDS).toFixed(1)} s`,
  );
  console.log(line('(b) Uppy 5 @uppy/aws-s3:', uppyRuns, uppy));
  console.log(
    `    of which sending the parts: ${(uppyPartsSeconds / ROUNDS).toFixed(1)} s; completing: ${((total(uppyRuns, 'seconds') - uppyPartsSeconds) / ROUNDS).toFixed(1)} s`,
  );
  for (const [label, runs] of [
    ['(a)', spaRuns],
    ['(b)', uppyRuns],
  ] as const)
    console.log(`    ${label} Chromium CPU s/GiB by thread: ${threadLine(runs, GiBs)}`);
  for (const [label, runs] of [
    ['(a)', spaRuns],
    ['(b)', uppyRuns],
  ] as const)
    console.log(
      `    ${label} first part sent, last part answered (s after the start), PUTs (with Content-MD5): ` +
        runs.map((r) => `${r.putWindow.map((t) => t.toFixed(2)).join(' → ')} (${r.puts.count}, ${r.puts.withMd5})`).join(' | '),
    );
  if (process.env.BENCH_TIMELINE) {
    for (const [label, runs] of [
      ['(a)', spaRuns],
      ['(b)', uppyRuns],
    ] as const)
      runs.forEach((r, i) => console.log(`    ${label} round ${i + 1} requests: ${r.timeline.join('; ')}`));
  }
  console.log(`(c) one presigned PUT from Node: ${(sum(putRuns) / ROUNDS).toFixed(1)} s per upload, ${fmt(put)}`);
  console.log(
    `Postbox / Uppy: ${(spa / uppy).toFixed(2)}× the MiB/s, ${(total(spaRuns, 'cpuSeconds') / total(uppyRuns, 'cpuSeconds')).toFixed(2)}× the CPU per GiB; Postbox / PUT: ${(spa / put).toFixed(2)}`,
  );
  console.log(
    `server process${target === 'embedded' ? ' (with the embedded S3 in it)' : ''} RSS: idle ${(idleRss / 1024).toFixed(0)} MiB, peak during (a) ${(peakRss / 1024).toFixed(0)} MiB`,
  );
}

try {
  await main();
} finally {
  await cleanUp();
}
