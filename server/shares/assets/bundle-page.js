/* global document, location */
// The bundle page's one script (served by Postbox, allowed by nonce). It shows "Download all
// (.zip)" and hands the list of files to the zip service worker (zip-sw.js), then navigates to the
// worker's address: the worker answers with the zip as a stream, which the browser writes to disk.
const list = document.getElementById('files');
const all = document.getElementById('all');
const button = document.getElementById('download-all');
const status = document.getElementById('zip-status');

/** The zip worker, active (installed on first use; its scope is only its own addresses). */
async function zipWorker() {
  const registration = await navigator.serviceWorker.register('/s/_/zip-sw.js', { scope: '/s/_/zip/', type: 'module' });
  const worker = registration.installing ?? registration.waiting ?? registration.active;
  if (worker.state !== 'activated') {
    await new Promise((resolve, reject) =>
      worker.addEventListener('statechange', () => {
        if (worker.state === 'activated') resolve();
        if (worker.state === 'redundant') reject(new Error('The zip worker could not start.'));
      }),
    );
  }
  return worker;
}

async function downloadAll() {
  button.disabled = true;
  status.textContent = 'Preparing the zip…';
  const files = [...list.querySelectorAll('.row[data-index]')].map((row) => ({
    index: Number(row.dataset.index),
    name: row.dataset.zipName,
    size: Number(row.dataset.size),
  }));
  const worker = await zipWorker();
  const token = crypto.randomUUID();
  const channel = new MessageChannel();
  const ready = new Promise((resolve) => channel.port1.addEventListener('message', resolve, { once: true }));
  channel.port1.start();
  worker.postMessage({ token, shareId: list.dataset.share, files }, [channel.port2]);
  await ready;
  // Messages keep the worker alive while it streams (browsers stop idle workers after a while).
  const keepAlive = setInterval(() => worker.postMessage({ ping: true }), 10_000);
  channel.port1.addEventListener('message', (event) => {
    const { done, finished, error } = event.data ?? {};
    if (done !== undefined) status.textContent = `Zipping: ${done} of ${files.length} files written…`;
    if (finished || error) {
      clearInterval(keepAlive);
      button.disabled = false;
      status.textContent = error ? `The zip stopped: ${error}` : `Done: ${files.length} files in the zip.`;
      document.body.dataset.zip = error ? 'failed' : 'done';
    }
  });
  location.assign(`/s/_/zip/${token}`);
  status.textContent = 'Your zip is downloading. Keep this page open until it has finished.';
}

if (list && 'serviceWorker' in navigator) {
  all.hidden = false;
  button.addEventListener('click', () => {
    downloadAll().catch((err) => {
      button.disabled = false;
      status.textContent = `Download all did not start: ${err.message}`;
    });
  });
}
