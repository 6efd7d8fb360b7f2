/* global self, location */
// The "Download all" service worker: answers /s/_/zip/<token> with a zip that client-zip streams
// from presigned GETs, fetched one file after the other, asked of Postbox in batches just before
// use (each lives minutes). The bytes go storage → this worker → the browser's download, on disk;
// never through Postbox, never whole in memory.
import { downloadZip } from '/s/_/client-zip.js';

/** Zips handed over by a page, until their address is fetched. */
const pending = new Map();
/** Presigned GETs asked for at once. */
const BATCH = 50;

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('message', (event) => {
  const { token, shareId, files } = event.data ?? {};
  if (typeof token !== 'string' || !Array.isArray(files) || !event.ports[0]) return; // a keep-alive ping
  pending.set(token, { shareId, files, port: event.ports[0] });
  event.ports[0].postMessage({ ready: true });
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const match = /^\/s\/_\/zip\/([0-9a-f-]{36})$/.exec(url.pathname);
  const job = match && url.origin === location.origin ? pending.get(match[1]) : undefined;
  if (!job) return; // Postbox answers: start again from the page
  pending.delete(match[1]);
  event.respondWith(zipResponse(job));
});

function zipResponse(job) {
  const metadata = job.files.map((file) => ({ name: file.name, size: file.size }));
  const zip = downloadZip(entries(job), { metadata });
  const headers = new Headers(zip.headers);
  headers.set('Content-Disposition', `attachment; filename="postbox-${job.shareId.slice(0, 8)}.zip"`);
  return new Response(zip.body, { headers });
}

async function* entries({ shareId, files, port }) {
  let batch = { from: 0, urls: [], expiresAt: 0 };
  try {
    for (const [i, file] of files.entries()) {
      const fresh = i >= batch.from && i < batch.from + batch.urls.length && Date.now() < batch.expiresAt - 15_000;
      if (!fresh) batch = await signed(shareId, files, i);
      // no-store: a bundle of gigabytes must not go through (and evict) the browser's HTTP cache.
      const response = await fetch(batch.urls[i - batch.from], { credentials: 'omit', cache: 'no-store' });
      if (!response.ok) throw new Error(`${file.name}: storage answered ${response.status}`);
      yield { name: file.name, input: response, size: file.size };
      port.postMessage({ done: i + 1 });
    }
    port.postMessage({ finished: true });
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** Presigned GETs for files[from…], from Postbox (the visit's cookie counts the download once). */
async function signed(shareId, files, from) {
  const indexes = files.slice(from, from + BATCH).map((file) => file.index);
  const response = await fetch(`/s/${encodeURIComponent(shareId)}/zip`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ indexes }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error?.message ?? `Postbox answered ${response.status}`);
  return { from, urls: body.urls, expiresAt: Date.parse(body.expiresAt) };
}
