/**
 * `npm run bench:zip`: the whole browser's memory while "Download all" writes a bundle's zip. Not a
 * test: it prints figures and one PASS/FAIL line (exit code 1 on FAIL). Run it on a quiet machine;
 * loopback only, bounded in time (BENCH_TIMEOUT_S).
 *
 *   BENCH_ZIP_MIB=300,1024 (default: the big file of each bundle, one run per size, in order)
 *   BENCH_PORT=38290 (default)   BENCH_TIMEOUT_S=600 (default: the whole run, then it gives up)
 *   BENCH_EXTRA_ARGS="…" (more Chromium flags, e.g. --js-flags=--expose-gc for a diagnostic)
 *
 * For each size: the app (server/main.ts, a child process, embedded S3) holds a bundle of a random
 * file of that size and a small text file, put straight into the bucket (the upload is not what is
 * measured); headless Chromium, a fresh (off-the-record) context as in e2e/bundles.spec.ts, opens the
 * link, waits for the page, then presses Download all. Every 250 ms it sums the PSS
 * (/proc/<pid>/smaps_rollup; RSS where that is missing) of every process of Playwright's Chromium:
 * the browser process and all its descendants (renderers, the network service, GPU, zygotes).
 * Baseline: the median of 4 samples before the click. Peak: the highest sum until the download
 * manager reports the file complete. Growth = peak − baseline, split into the renderer that runs the
 * worker (the process that grew most) and every other process (browser, network service: the
 * download's path). BENCH_ZIP_TRACE=1 prints the worker's renderer's samples.
 *
 * What it found (docs/performance.md): the download's path stays flat; the worker's renderer is a
 * saw-tooth of garbage (each chunk a new ArrayBuffer, freed when V8 collects) peaking 150–280 MiB
 * whatever the size. So PASS when, for the largest bundle: Chromium grew less than BOUND_MIB (a zip
 * held or cached whole would be ≥ its size); the download's path less than PATH_MIB; and the
 * worker's renderer peaks no higher in the second half of the zip than in the first (+DRIFT_MIB):
 * memory that grew with the bytes written would.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium, type Browser } from '@playwright/test';
import { api, MiB } from '../contract/api.ts';
import { chromiumLaunch } from '../e2e/chromium.ts';
import { cleanupStack } from './cleanups.ts';
import { EMBEDDED_CREDENTIALS } from '../server/storage/embedded-s3.ts';
import { newUploadKey } from '../server/signing/object-keys.ts';

const sizesMiB = (process.env.BENCH_ZIP_MIB ?? '300,1024').split(',').map(Number);
const port = Number(process.env.BENCH_PORT ?? 38290);
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_S ?? 600);
const origin = `http://127.0.0.1:${port}`;
/** The largest bundle's growth, all of Chromium, must stay under this (see the header). */
const BOUND_MIB = 384;
/** The download's path (every process but the worker's renderer; a ~17 MiB renderer starts with the download) must grow less than this. */
const PATH_MIB = 48;
/** The worker's renderer may not peak higher in the second half of the largest zip than in the first by more than this. */
const DRIFT_MIB = 32;
const SAMPLE_MS = 250;

const cleanups = cleanupStack('bench:zip');
const cleanUp = cleanups.run;
const deadline = setTimeout(() => {
  console.error(`bench:zip: FAIL (gave up after ${timeoutSeconds} s)`);
  void cleanUp().finally(() => process.exit(1));
}, timeoutSeconds * 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(200);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** `bytes` of random-looking data, made 1 MiB at a time (never whole in memory). */
function randomStream(bytes: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return Readable.from(
    (function* () {
      for (let i = 0; sent < bytes; i++) {
        const chunk = Buffer.from(block.subarray(0, Math.min(MiB, bytes - sent)));
        chunk.writeUInt32LE(i, 0); // every MiB differs: nothing for a compressor or a dedup to find
        sent += chunk.length;
        yield chunk;
      }
    })(),
  );
}

interface Proc {
  pid: number;
  ppid: number;
}

async function processes(): Promise<Proc[]> {
  const list: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: the command name may hold spaces.
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    if (text) list.push({ pid: Number(entry), ppid });
  }
  return list;
}

/** The Chromium processes: every descendant of this process but the server (and its children). */
async function chromiumPids(serverPid: number): Promise<number[]> {
  const all = await processes();
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (child === serverPid) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(process.pid);
  return found;
}

/** PSS of one process in bytes (RSS where smaps_rollup is missing); 0 once it has gone. */
async function pss(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kib =
    /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
  return Number(kib ?? 0) * 1024;
}

/** What a Chromium process is, from its command line: browser, renderer, utility (network), gpu-process, zygote… */
async function kind(pid: number): Promise<string> {
  // Chromium rewrites its command line as one string (process title): read the flags from it with spaces or NULs.
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
  const type = /--type=(\S+)/.exec(args)?.[1];
  const sub = /--utility-sub-type=(\S+)/.exec(args)?.[1];
  const extension = /--extension-process/.test(args) ? ' extension' : '';
  return `${type ?? 'browser'}${sub ? ` (${sub.replace(/\.mojom\..*/, '')})` : ''}${extension} ${pid}`;
}

interface Sample {
  total: number;
  byPid: Map<number, number>;
}

async function sample(serverPid: number): Promise<Sample> {
  const byPid = new Map<number, number>();
  for (const pid of await chromiumPids(serverPid)) byPid.set(pid, await pss(pid));
  return { total: [...byPid.values()].reduce((a, b) => a + b, 0), byPid };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

interface Run {
  sizeMiB: number;
  seconds: number;
  zipBytes: number;
  baseline: number;
  /** Peak − baseline: all of Chromium; the renderer that runs the worker; every other process (the download's path). */
  growth: number;
  workerGrowth: number;
  restGrowth: number;
  /** The worker's renderer's highest growth in the second half of the samples, minus that in the first half. */
  drift: number;
  /** Times the worker's renderer gave back ≥ 32 MiB between two samples (a garbage collection). */
  reclaims: number;
  samples: number;
  workerKind: string;
}

async function bundleOf(s3: S3Client, sizeMiB: number): Promise<string> {
  const big = newUploadKey(`big-${sizeMiB}.bin`, 'application/octet-stream');
  const note = newUploadKey('note.txt', 'text/plain');
  const bytes = sizeMiB * MiB;
  await s3.send(new PutObjectCommand({ Bucket: 'postbox', Key: big, Body: randomStream(bytes), ContentLength: bytes }));
  await s3.send(new PutObjectCommand({ Bucket: 'postbox', Key: note, Body: 'a small file beside the big one\n' }));
  const response = await fetch(origin + api.shares, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys: [big, note], expiresIn: 3600 }),
  });
  if (response.status !== 201) throw new Error(`POST ${api.shares}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { url: string }).url;
}

async function growthOf(baseline: Sample, trace: Sample[]) {
  const grew = (s: Sample, pid: number) => (s.byPid.get(pid) ?? 0) - (baseline.byPid.get(pid) ?? 0);
  const pids = [...new Set(trace.flatMap((s) => [...s.byPid.keys()]))];
  // The worker's renderer: the process that grew most (the page's own renderer in Chromium 156).
  const worker = pids.reduce((a, b) => (Math.max(...trace.map((s) => grew(s, b))) > Math.max(...trace.map((s) => grew(s, a))) ? b : a));
  const series = trace.map((s) => s.byPid.get(worker) ?? 0);
  const half = Math.floor(series.length / 2);
  if (process.env.BENCH_ZIP_TRACE) console.log(`  ${await kind(worker)} MiB: ${series.map((v) => (v / MiB).toFixed(0)).join(' ')}`);
  return {
    baseline: baseline.total,
    growth: Math.max(...trace.map((s) => s.total)) - baseline.total,
    workerGrowth: Math.max(...trace.map((s) => grew(s, worker))),
    restGrowth: Math.max(...trace.map((s) => s.total - (s.byPid.get(worker) ?? 0))) - (baseline.total - (baseline.byPid.get(worker) ?? 0)),
    drift: Math.max(...series.slice(half)) - Math.max(...series.slice(0, half)),
    reclaims: series.filter((v, i) => i > 0 && series[i - 1]! - v >= 32 * MiB).length,
    samples: trace.length,
    workerKind: await kind(worker),
  };
}

async function measure(browser: Browser, serverPid: number, url: string, sizeMiB: number): Promise<Run> {
  const context = await browser.newContext({ acceptDownloads: true });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('li.row').nth(1).waitFor();
    const before: Sample[] = [];
    for (let i = 0; i < 4; i++, await sleep(SAMPLE_MS)) before.push(await sample(serverPid));
    before.sort((a, b) => a.total - b.total);
    const baseline = before[2]!;
    const trace: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        trace.push(await sample(serverPid));
        await sleep(SAMPLE_MS);
      }
    })();
    const started = performance.now();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download all (.zip)' }).click(),
    ]);
    const file = await download.path(); // resolves once the download manager has the whole file on disk
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    await page.locator('body[data-zip="done"]').waitFor();
    return { sizeMiB, seconds, zipBytes: (await stat(file)).size, ...(await growthOf(baseline, trace)) };
  } finally {
    await context.close();
  }
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'postbox-bench-zip-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, POSTBOX_DATA_DIR: path.join(dir, 'data'), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  cleanups.push(async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  await waitFor(`${origin}/api/settings`, 60_000);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: `${origin}/storage`,
    forcePathStyle: true,
    credentials: EMBEDDED_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  cleanups.push(() => s3.destroy());

  const browser = await chromium.launch({
    ...chromiumLaunch,
    args: [...chromiumLaunch.args, ...(process.env.BENCH_EXTRA_ARGS ?? '').split(' ').filter(Boolean)],
  });
  cleanups.push(() => browser.close());

  const runs: Run[] = [];
  for (const sizeMiB of sizesMiB) {
    const url = await bundleOf(s3, sizeMiB);
    const run = await measure(browser, server.pid!, url, sizeMiB);
    runs.push(run);
    console.log(
      `${sizeMiB} MiB bundle: zip of ${mib(run.zipBytes)} in ${run.seconds.toFixed(1)} s (${mib(run.zipBytes / run.seconds)}/s), ` +
        `${run.samples} samples; Chromium PSS baseline ${mib(run.baseline)}, peak growth ${mib(run.growth)}: ` +
        `${run.workerKind} (the worker's) ${mib(run.workerGrowth)} with ${run.reclaims} reclaims of ≥ 32 MiB, every other process ${mib(run.restGrowth)}`,
    );
  }
  const largest = runs.reduce((a, b) => (b.sizeMiB > a.sizeMiB ? b : a));
  const pass = largest.growth < BOUND_MIB * MiB && largest.restGrowth < PATH_MIB * MiB && largest.drift < DRIFT_MIB * MiB;
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `bench:zip: ${pass ? 'PASS' : 'FAIL'}: ${largest.sizeMiB} MiB bundle: growth ${mib(largest.growth)} (bound ${BOUND_MIB} MiB), ` +
      `download path ${mib(largest.restGrowth)} (bound ${PATH_MIB} MiB), worker's renderer second half vs first ${mib(largest.drift)} ` +
      `(bound ${DRIFT_MIB} MiB)`,
  );
  return pass;
}

main()
  .then(
    (pass) => (process.exitCode = pass ? 0 : 1),
    (err: unknown) => {
      console.error('bench:zip:', err);
      process.exitCode = 1;
    },
  )
  .finally(() => {
    clearTimeout(deadline);
    return cleanUp();
  });
