/**
 * `npm run bench:blob-read`: what Chromium's CPU pays per GiB to read a file's parts in a worker, to
 * hash them and to send them, each way the upload could do it, with no DevTools attached (Playwright
 * attaches DevTools, which changes what an in-memory request body costs). Not a test: it prints figures.
 *
 * Chromium starts headless on a page of this script's own server (127.0.0.1) with no debugging
 * port. The page writes a random file into its origin-private file system once (a file on disk, as
 * a chosen file is), then sends it in 32 MiB parts, 4 at a time, to a sink that discards them, the
 * way `?method=` says; the script reads every Chromium thread's CPU from /proc around that.
 *
 * `app-md5x4` and `app-md5x4-only` run the app's own hashing worker (dist/client, so `vite build`
 * first): four parts per job through the SIMD MD5, then sent (or not); `byob-md5-only` is hash-wasm's
 * MD5 of each part without sending it, to compare; `slice-read-N` and `whole-read` read each part
 * without a stream (N MiB slices' `arrayBuffer()`, or the whole part's).
 *
 *   BENCH_SIZE_MIB=256 (default)   BENCH_METHODS=blob,stream-md5,byob-md5,byob-crc32,byob-read,memory (default)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumLaunch } from '../e2e/chromium.ts';
import { chromiumThreadCpu } from './chromium-cpu.ts';

const sizeMiB = Number(process.env.BENCH_SIZE_MIB ?? 256);
const methods = (process.env.BENCH_METHODS ?? 'blob,stream-md5,byob-md5,byob-crc32,byob-read,memory').split(',');
const hashWasm = readFileSync(path.resolve(import.meta.dirname, '../node_modules/hash-wasm/dist/index.esm.min.js'));
/** The app's hashing worker as built (client/api/multipart/hash.worker.ts), for the `app-` methods. */
function appWorker(): string {
  const assets = path.resolve(import.meta.dirname, '../dist/client/assets');
  const name = readdirSync(assets).find((f) => f.startsWith('hash.worker-'));
  if (!name) throw new Error('No dist/client/assets/hash.worker-*.js: run `npx vite build` first.');
  return readFileSync(path.join(assets, name), 'utf8');
}

/** The page: makes the file once, then sends its parts as `method` says. */
const PAGE_JS = `
const q = new URLSearchParams(location.search);
const method = q.get('method'), size = Number(q.get('size')) * 1048576, PART = 32 * 1048576;
async function theFile() {
  const handle = await (await navigator.storage.getDirectory()).getFileHandle('big.bin', { create: true });
  if ((await handle.getFile()).size !== size) {
    const w = await handle.createWritable(), chunk = new Uint8Array(1048576);
    for (let i = 0; i < size / 1048576; i++) {
      for (let j = 0; j < 16; j++) crypto.getRandomValues(chunk.subarray(j * 65536, (j + 1) * 65536));
      await w.write(chunk);
    }
    await w.close();
  }
  return handle.getFile();
}
const put = (url, body) => new Promise((ok, fail) => {
  const x = new XMLHttpRequest(); x.open('PUT', url); x.upload.onprogress = () => {}; x.onload = ok; x.onerror = fail; x.send(body);
});
const app = method.startsWith('app-');
// The app's pool on this machine: one worker per core (at most 4), each job four parts.
const workers = Array.from({ length: app ? Math.min(4, navigator.hardwareConcurrency) : 4 }, () => new Worker(app ? '/app-worker.js' : '/worker.js', { type: 'module' }));
const ask = (w, message) => new Promise((ok) => { w.onmessage = (e) => ok(e.data); w.postMessage(message); });
async function appGroups(file) {
  const groups = [...Array(Math.ceil(file.size / PART / 4)).keys()];
  await Promise.all(workers.map(async (w) => {
    for (let g = groups.shift(); g !== undefined; g = groups.shift()) {
      const blobs = [0, 1, 2, 3].map((i) => file.slice((4 * g + i) * PART, (4 * g + i + 1) * PART)).filter((b) => b.size);
      const answer = await ask(w, { id: g + 1, blobs, kind: 'md5' });
      if (!answer.hexes) throw new Error(answer.error);
      if (method === 'app-md5x4') await Promise.all(blobs.map((b) => put('/sink', b)));
    }
  }));
}
(async () => {
  const file = await theFile();
  if (!app) await Promise.all(workers.map((w) => ask(w, { op: 'ping' })));
  else await Promise.all(workers.map((w) => ask(w, { id: 0, blobs: [new Blob(['a']), new Blob(['b'])], kind: 'md5' })));
  await fetch('/ready', { method: 'POST' });
  const started = performance.now();
  const parts = [...Array(Math.ceil(file.size / PART)).keys()];
  if (app) await appGroups(file);
  else await Promise.all(workers.map(async (w) => {
    for (let n = parts.shift(); n !== undefined; n = parts.shift()) {
      const blob = file.slice(n * PART, (n + 1) * PART);
      if (method === 'blob') await put('/sink', blob);
      else if (method === 'memory') await ask(w, { op: 'memory', blob });
      else { await ask(w, { op: method, blob }); if (!/byob-read|-only|slice-read|whole-read/.test(method)) await put('/sink', blob); }
    }
  }));
  await fetch('/done', { method: 'POST', body: String(performance.now() - started) });
})().catch((err) => fetch('/done', { method: 'POST', body: 'error ' + err }));
`;

/** The worker: reads a part as the method says (stream chunks, or one reused buffer), hashes it, or sends what it read. */
const WORKER_JS = `
import { createMD5, createCRC32 } from '/hash-wasm.js';
let spare;
async function byob(blob, update) {
  const reader = blob.stream().getReader({ mode: 'byob' });
  let buffer = spare ?? new ArrayBuffer(1048576);
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer, 0, 1048576));
    buffer = value.buffer;
    if (done) break;
    update(value);
  }
  spare = buffer;
}
self.onmessage = async ({ data: { op, blob } }) => {
  if (op === 'stream-md5') {
    const h = await createMD5(), r = blob.stream().getReader();
    for (let c = await r.read(); !c.done; c = await r.read()) h.update(c.value);
    h.digest('hex');
  }
  if (op === 'byob-md5' || op === 'byob-md5-only') { const h = await createMD5(); await byob(blob, (b) => h.update(b)); h.digest('hex'); }
  if (op === 'byob-crc32') { const h = await createCRC32(); await byob(blob, (b) => h.update(b)); h.digest('hex'); }
  if (op === 'byob-read') await byob(blob, () => {});
  // Reading without a stream: each slice of N MiB at once (slice-read-N), or the whole part.
  if (op.startsWith('slice-read-')) {
    const step = Number(op.slice('slice-read-'.length)) * 1048576;
    for (let at = 0; at < blob.size; at += step) await blob.slice(at, at + step).arrayBuffer();
  }
  if (op === 'whole-read') await blob.arrayBuffer();
  if (op === 'memory') {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    await new Promise((ok) => { const x = new XMLHttpRequest(); x.open('PUT', '/sink'); x.onload = ok; x.send(bytes); });
  }
  self.postMessage({});
};
`;

const bodyOf = async (req: IncomingMessage) => {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
};

/** Takes the 'before' reading; the page starts only once it is answered. */
let onReady: () => Promise<void> = async () => {};
let onDone: (body: string) => void = () => {};
const server = createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'GET') {
    const files: Record<string, [string, string | Buffer]> = {
      '/': ['text/html', '<!doctype html><meta charset=utf-8><script type=module src=/page.js></script>'],
      '/page.js': ['text/javascript', PAGE_JS],
      '/worker.js': ['text/javascript', WORKER_JS],
      '/app-worker.js': ['text/javascript', url === '/app-worker.js' ? appWorker() : ''],
      '/hash-wasm.js': ['text/javascript', hashWasm],
    };
    const file = files[url];
    if (!file) return void res.writeHead(404).end();
    return void res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  }
  if (url === '/sink') {
    req.resume(); // discarded: the sink must cost nothing beside Chromium
    req.on('end', () => res.writeHead(200, { etag: '"x"' }).end());
    return;
  }
  void bodyOf(req).then(async (body) => {
    if (url === '/ready') await onReady();
    res.writeHead(200, { etag: '"x"' }).end();
    if (url === '/done') onDone(body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
const profile = await mkdtemp(path.join(tmpdir(), 'postbox-bench-blob-read-'));

console.log(`${sizeMiB} MiB in 32 MiB parts, 4 at a time; Chromium CPU s/GiB, no DevTools attached`);
try {
  for (const method of methods) {
    let before = new Map<string, number>();
    const chrome = spawn(
      chromiumLaunch.executablePath,
      ['--headless', ...chromiumLaunch.args, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/?method=${method}&size=${sizeMiB}`],
      { stdio: 'ignore' },
    );
    const done = new Promise<string>((resolve) => (onDone = resolve));
    onReady = async () => {
      before = await chromiumThreadCpu(process.pid, 0);
    };
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      done,
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('error: timed out'), 300_000))),
    ]);
    clearTimeout(timer); // else it holds the script open for minutes after the last method
    const after = await chromiumThreadCpu(process.pid, 0); // Chromium is this script's only child
    chrome.kill('SIGTERM');
    await new Promise((resolve) => chrome.once('exit', resolve));
    if (answer.startsWith('error')) {
      console.log(`${method.padEnd(11)} ${answer}`);
      continue;
    }
    const gib = sizeMiB / 1024;
    const threads = [...after].map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / gib] as const).filter(([, v]) => v >= 0.1);
    const total = threads.reduce((sum, [, v]) => sum + v, 0);
    const top = threads.sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(
      `${method.padEnd(11)} ${(sizeMiB / (Number(answer) / 1000)).toFixed(0).padStart(4)} MiB/s  CPU ${total.toFixed(1).padStart(4)} s/GiB  (${top.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})`,
    );
  }
} finally {
  server.close();
  await rm(profile, { recursive: true, force: true });
}
