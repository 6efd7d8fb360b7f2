import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page, type Request, type Route } from '@playwright/test';
import { api, DownloadLink, FilePage, StaleUploads } from '../contract/api.ts';
import { MULTIPART_PORT } from '../playwright.config.ts';
import { holdSettings, snap, STORE_TARGETS, throttleUploads, useStoreTarget } from './support.ts';

test.use({ baseURL: `http://127.0.0.1:${MULTIPART_PORT}` });

const MiB = 1024 * 1024;
let dir: string;

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'postbox-e2e-big-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `size` random bytes to a file (1 MiB at a time) and returns its path and sha256. */
async function bigFile(name: string, size: number): Promise<{ path: string; sha256: string }> {
  const file = path.join(dir, name);
  const handle = await open(file, 'w');
  const hash = createHash('sha256');
  for (let written = 0; written < size; written += MiB) {
    const chunk = randomBytes(Math.min(MiB, size - written));
    hash.update(chunk);
    await handle.write(chunk);
  }
  await handle.close();
  return { path: file, sha256: hash.digest('hex') };
}

async function sha256OfFile(file: string) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sha256 of the stored file of that name, downloaded through a link as anyone would. */
async function storedSha256(request: APIRequestContext, name: string): Promise<string> {
  const files = FilePage.parse(await (await request.get(`${api.files}?limit=1000`)).json());
  const stored = files.files.find((f) => f.name === name)!;
  const link = DownloadLink.parse(await (await request.post(api.fileLink(stored.key), { data: { expiresIn: 600 } })).json());
  return createHash('sha256')
    .update(await (await request.get(link.url)).body())
    .digest('hex');
}

const isPartPut = (request: Request) => request.method() === 'PUT' && new URL(request.url()).searchParams.get('x-id') === 'UploadPart';
const staleUploads = async (request: APIRequestContext) =>
  StaleUploads.parse(await (await request.get(`${api.multipartUploads}?olderThanSeconds=0`)).json()).uploads;
const percentOf = async (page: Page, name: string) =>
  Number(await page.getByTestId('upload').filter({ hasText: name }).getByRole('progressbar').getAttribute('aria-valuenow'));

/** The first PUT of part `partNumber` goes wrong with `spoil`, later ones go through; the result tells whether it happened. */
async function spoilFirstPut(page: Page, partNumber: number, spoil: (route: Route) => Promise<void>): Promise<() => boolean> {
  let spoiled = false;
  await page.route(
    (url) => url.searchParams.get('partNumber') === String(partNumber) && url.searchParams.get('x-id') === 'UploadPart',
    async (route) => {
      if (!spoiled && route.request().method() === 'PUT') {
        spoiled = true;
        await spoil(route);
        return;
      }
      await route.continue();
    },
  );
  return () => spoiled;
}

test('a 256 MiB file goes up in parallel parts, survives a failed part and a reload, and lands byte-identical', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const name = 'big-video.bin';
  const size = 256 * MiB; // 32 parts of 8 MiB
  const file = await bigFile(name, size);

  await page.goto('/');
  // The first PUT of part 2 fails once (as a dropped connection): the page must send it again.
  const failedOnce = await spoilFirstPut(page, 2, (route) => route.abort('connectionreset'));
  const sent = new Set<string>();
  page.on('request', (request) => {
    if (isPartPut(request)) sent.add(new URL(request.url()).searchParams.get('partNumber')!);
  });

  // Slow enough to see progress and to reload half-way (Chromium's own network emulation).
  let unthrottle = await throttleUploads(page, 24 * MiB);
  await page.getByTestId('file-input').setInputFiles(file.path);
  const upload = page.getByTestId('upload').filter({ hasText: name });
  await expect(upload).toContainText(/\d+% · [\d.]+ MiB of 256 MiB · [\d.]+ (MiB|KiB)\/s · .+ left/, { timeout: 30_000 });
  await expect.poll(() => percentOf(page, name), { timeout: 60_000 }).toBeGreaterThanOrEqual(35);
  await snap(page, testInfo, '01-uploading');
  expect(failedOnce(), `part PUTs sent so far: ${[...sent].sort((a, b) => Number(a) - Number(b)).join(', ')}`).toBe(true);

  // Reload mid-way: the in-flight parts are lost, the finished ones stay on storage.
  // Reloaded while still throttled: unthrottled first, the rest of the parts could all go up before
  // the reload takes effect on a busy machine, leaving nothing to resume.
  await page.reload();
  await unthrottle();
  const before = sent.size;
  expect(before).toBeGreaterThan(4);
  const stale = await staleUploads(page.request);
  expect(stale).toHaveLength(1);
  // The page remembers it, and says how to go on.
  const interrupted = page.getByTestId('interrupted-upload');
  await expect(interrupted).toHaveCount(1);
  await expect(interrupted).toContainText(`${name}256 MiB · started`);
  await expect(page.getByText('Choose the same file again to continue where it stopped')).toBeVisible();
  await snap(page, testInfo, '01b-interrupted');
  sent.clear();
  const progressSeen: number[] = [];

  unthrottle = await throttleUploads(page, 48 * MiB);
  await page.getByTestId('file-input').setInputFiles(file.path);
  const again = page.getByTestId('upload').filter({ hasText: name });
  // It continues from what storage has: the bar never starts at 0.
  await expect
    .poll(
      async () => {
        const percent = await percentOf(page, name);
        progressSeen.push(percent);
        return percent;
      },
      { timeout: 30_000, intervals: [50] },
    )
    .toBeGreaterThan(0);
  expect(progressSeen.filter((p) => p > 0)[0]).toBeGreaterThanOrEqual(20);
  await expect(again).toContainText('Uploaded · 256 MiB', { timeout: 120_000 });
  await expect(interrupted).toHaveCount(0);
  await unthrottle();
  await snap(page, testInfo, '02-uploaded');
  // Fewer parts went out the second time than the file has.
  expect(sent.size).toBeLessThan(32);
  expect(sent.size).toBeGreaterThan(0);
  // The same upload was completed: nothing is left behind on storage.
  expect(await staleUploads(page.request)).toEqual([]);

  // Bytes equal: download through a link.
  const files = FilePage.parse(await (await page.request.get(`${api.files}?limit=1000`)).json());
  const stored = files.files.find((f) => f.name === name)!;
  expect(stored.size).toBe(size);
  const link = DownloadLink.parse(await (await page.request.post(api.fileLink(stored.key), { data: { expiresIn: 600 } })).json());
  const downloaded = path.join(dir, 'downloaded.bin');
  const response = await page.request.get(link.url);
  expect(response.status()).toBe(200);
  const out = await open(downloaded, 'w');
  await out.write(await response.body());
  await out.close();
  expect(await sha256OfFile(downloaded)).toBe(file.sha256);
});

test('a big file chosen before the page has its settings still goes up in parts', async ({ page }) => {
  const name = 'early-bird.bin';
  const file = await bigFile(name, 24 * MiB); // 3 parts of 8 MiB, above the 16 MiB threshold
  const settings = await holdSettings(page);
  const partsSent = new Set<string>();
  page.on('request', (request) => {
    if (isPartPut(request)) partsSent.add(new URL(request.url()).searchParams.get('partNumber')!);
  });

  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file.path);
  const upload = page.getByTestId('upload').filter({ hasText: name });
  await expect(upload).toBeVisible();
  expect(settings.asked()).toBe(true);
  settings.release();
  await expect(upload).toContainText('Uploaded · 24 MiB', { timeout: 60_000 });
  expect([...partsSent].sort()).toEqual(['1', '2', '3']);
});

test('while a failed part is sent again the row says so instead of a speed, then the upload lands', async ({ page }) => {
  const name = 'bumpy.bin';
  const file = await bigFile(name, 24 * MiB);
  let broken = 0;
  await page.route(
    (url) => url.searchParams.get('partNumber') === '2' && url.searchParams.get('x-id') === 'UploadPart',
    async (route) => {
      if (route.request().method() === 'PUT' && broken < 3) {
        broken += 1;
        return route.abort('connectionreset');
      }
      await route.continue();
    },
  );
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file.path);
  const upload = page.getByTestId('upload').filter({ hasText: name });
  // Parts are hashed before they go: on a busy machine part 2 may start well after 5 s.
  await expect(upload).toContainText(/connection trouble: sending a part again \(attempt [2-4] of 6\)/, { timeout: 30_000 });
  await expect(upload).not.toContainText('left');
  await expect(upload).toContainText('Uploaded · 24 MiB', { timeout: 60_000 });
  expect(broken).toBe(3);
});

test('a Complete whose answer is lost is asked again, and the upload lands', async ({ page }) => {
  const name = 'lost-answer.bin';
  const file = await bigFile(name, 24 * MiB);
  let completes = 0;
  await page.route(`**${api.multipartComplete}`, async (route) => {
    completes += 1;
    if (completes > 1) return route.continue();
    // Storage completes the upload, but the answer never reaches the page: a proxy's 503 instead.
    const answer = await route.fetch();
    expect(answer.status()).toBe(200);
    await route.fulfill({ status: 503, json: { error: { code: 'storage_unavailable', message: 'Bad gateway on the way back.' } } });
  });

  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(file.path);
  const upload = page.getByTestId('upload').filter({ hasText: name });
  await expect(upload).toContainText('Uploaded · 24 MiB', { timeout: 60_000 });
  expect(completes).toBe(2);

  const files = FilePage.parse(await (await page.request.get(`${api.files}?limit=1000`)).json());
  const stored = files.files.find((f) => f.name === name)!;
  const link = DownloadLink.parse(await (await page.request.post(api.fileLink(stored.key), { data: { expiresIn: 600 } })).json());
  const response = await page.request.get(link.url);
  expect(response.status()).toBe(200);
  expect(
    createHash('sha256')
      .update(await response.body())
      .digest('hex'),
  ).toBe(file.sha256);
  expect(await staleUploads(page.request)).toEqual([]);
});

test('an interrupted upload can be discarded from the page: its parts are removed from storage', async ({ page }) => {
  const name = 'left-behind.bin';
  const file = await bigFile(name, 24 * MiB);
  await page.goto('/');
  const unthrottle = await throttleUploads(page, 4 * MiB);
  await page.getByTestId('file-input').setInputFiles(file.path);
  await expect.poll(() => staleUploads(page.request).then((uploads) => uploads.length)).toBe(1);
  await unthrottle();
  await page.reload();

  const interrupted = page.getByTestId('interrupted-upload').filter({ hasText: name });
  await interrupted.getByRole('button', { name: `Discard ${name}` }).click();
  await page.getByRole('dialog', { name: 'Discard this upload?' }).getByRole('button', { name: 'Discard' }).click();
  await expect(interrupted).toHaveCount(0);
  expect(await staleUploads(page.request)).toEqual([]);
  // Forgotten here too: after another reload it is not offered again.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Send files' })).toBeVisible();
  await expect(page.getByTestId('interrupted-upload')).toHaveCount(0);
});

// Resume, a part caught by its checksum, pause and cancel on both stores: the embedded one (parts
// checked by the CRC32 it answers) and a real S3 (Ceph RGW, parts checked by their ETag, the MD5 it
// received).
for (const target of STORE_TARGETS) {
  test.describe(`on ${target.name}`, () => {
    useStoreTarget(target);

    test('on resume, a part someone replaced on storage is found by its MD5 and sent again: the file lands as chosen', async ({ page }) => {
      const name = 'tampered.bin';
      const file = await bigFile(name, 24 * MiB); // 3 parts of 8 MiB
      await page.goto('/');
      // Part 1 goes up; parts 2 and 3 hang until the page is reloaded.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const laterParts = (url: URL) => url.searchParams.get('x-id') === 'UploadPart' && url.searchParams.get('partNumber') !== '1';
      await page.route(laterParts, async (route) => {
        await held;
        await route.abort().catch(() => {});
      });
      await page.getByTestId('file-input').setInputFiles(file.path);
      const partsOnStorage = async () => {
        const [upload] = await staleUploads(page.request);
        if (!upload) return [];
        const listed = await page.request.get(
          `${api.multipartParts}?${new URLSearchParams({ key: upload.key, uploadId: upload.uploadId })}`,
        );
        return (await listed.json()).parts as { partNumber: number }[];
      };
      await expect.poll(async () => (await partsOnStorage()).length, { timeout: 30_000 }).toBe(1);
      await page.reload();
      await page.unroute(laterParts);
      release();

      // Someone who can sign parts puts other bytes of the same length in part 1.
      // The page's resume record holds the upload's token, which signing needs.
      const [uploadToken] = await page.evaluate(() =>
        Object.keys(localStorage)
          .filter((name) => name.startsWith('postbox:multipart:'))
          .map((name) => (JSON.parse(localStorage.getItem(name)!) as { uploadToken: string }).uploadToken),
      );
      const signed = await page.request.post(api.multipartSign, { data: { uploadToken, partNumbers: [1] } });
      const forged = await page.request.put((await signed.json()).urls[0].url, { data: randomBytes(8 * MiB) });
      expect(forged.status()).toBe(200);

      const partPuts: string[] = [];
      page.on('request', (request) => {
        if (isPartPut(request)) partPuts.push(new URL(request.url()).searchParams.get('partNumber')!);
      });
      await page.getByTestId('file-input').setInputFiles(file.path);
      await expect(page.getByTestId('upload').filter({ hasText: name })).toContainText('Uploaded · 24 MiB', { timeout: 60_000 });
      expect(partPuts).toContain('1');

      expect(await storedSha256(page.request, name)).toBe(file.sha256);
    });

    test('a part that arrives damaged is caught by its checksum and sent again: the file lands as chosen', async ({ page }) => {
      const name = 'damaged-on-the-way.bin';
      const file = await bigFile(name, 24 * MiB); // 3 parts of 8 MiB
      // Part 2's first PUT reaches storage with one byte flipped (same length, so its signature still holds).
      const handle = await open(file.path, 'r');
      const damaged = Buffer.alloc(8 * MiB);
      await handle.read(damaged, 0, damaged.length, 8 * MiB);
      await handle.close();
      damaged[12345]! ^= 0x20;
      const answers: string[] = [];
      page.on('response', (response) => {
        const request = response.request();
        if (!isPartPut(request)) return;
        const withMd5 = request.headers()['content-md5'] ? ' with Content-MD5' : '';
        answers.push(`${new URL(response.url()).searchParams.get('partNumber')} ${response.status()}${withMd5}`);
      });
      const spoiled = await spoilFirstPut(page, 2, (route) => route.continue({ postData: damaged }));
      await page.goto('/');
      await page.getByTestId('file-input').setInputFiles(file.path);
      await expect(page.getByTestId('upload').filter({ hasText: name })).toContainText('Uploaded · 24 MiB', { timeout: 60_000 });
      expect(spoiled()).toBe(true);
      // Storage took the damaged bytes (200) and answered their CRC32 (the embedded store) or their MD5
      // as ETag (RGW), which the page found not to be its own. Part 2 went again: on RGW with its
      // Content-MD5, for storage itself to verify.
      expect(answers.filter((a) => a.startsWith('2 '))).toEqual(target.realS3 ? ['2 200', '2 200 with Content-MD5'] : ['2 200', '2 200']);

      expect(await storedSha256(page.request, name)).toBe(file.sha256);
    });

    test('pause keeps the parts, resume continues, cancel aborts the upload on storage', async ({ page }, testInfo) => {
      test.setTimeout(120_000);
      const name = 'pause-me.bin';
      const file = await bigFile(name, 64 * MiB);
      await page.goto('/');
      // Storage refuses the first PUT of part 1 as an expired URL would (403): the page asks for a fresh URL.
      const refused = await spoilFirstPut(page, 1, (route) =>
        route.fulfill({
          status: 403,
          headers: { 'access-control-allow-origin': '*', 'content-type': 'application/xml' },
          body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
        }),
      );
      const signed: number[][] = [];
      page.on('request', (request) => {
        if (request.url().endsWith(api.multipartSign)) signed.push(request.postDataJSON().partNumbers);
      });
      const unthrottle = await throttleUploads(page, 8 * MiB);
      // The last part waits until the test has cancelled: the upload must still be running (not completing) when Cancel is confirmed.
      let releaseLast!: () => void;
      const lastHeld = new Promise<void>((resolve) => (releaseLast = resolve));
      const lastPart = (url: URL) => url.searchParams.get('x-id') === 'UploadPart' && url.searchParams.get('partNumber') === '8';
      await page.route(lastPart, async (route) => {
        await lastHeld;
        await route.abort().catch(() => {});
      });
      // Part 7's first PUT waits for the pause (which drops it): after Resume there is always a part to
      // send besides the held one, however far the upload got before Pause under a busy machine.
      let pausedNow!: () => void;
      const pauseSeen = new Promise<void>((resolve) => (pausedNow = resolve));
      let part7Seen = false;
      const part7 = (url: URL) => url.searchParams.get('x-id') === 'UploadPart' && url.searchParams.get('partNumber') === '7';
      await page.route(part7, async (route) => {
        if (part7Seen) return route.continue();
        part7Seen = true;
        await pauseSeen;
        await route.abort().catch(() => {});
      });
      await page.getByTestId('file-input').setInputFiles(file.path);
      const upload = page.getByTestId('upload').filter({ hasText: name });
      await expect.poll(() => percentOf(page, name), { timeout: 30_000 }).toBeGreaterThanOrEqual(25);

      expect(refused()).toBe(true);
      // One batch for all 8 parts, then part 1 alone again after the 403.
      expect(signed.slice(0, 2)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8], [1]]);

      await upload.getByRole('button', { name: `Pause ${name}` }).click();
      await expect(upload.getByRole('status')).toContainText(/Paused · \d+% kept/);
      pausedNow();
      await expect(upload.getByRole('button', { name: `Resume ${name}` })).toBeFocused();
      await snap(page, testInfo, `01-paused-${target.key}`);
      const paused = await percentOf(page, name);
      expect(await staleUploads(page.request)).toHaveLength(1);

      await upload.getByRole('button', { name: `Resume ${name}` }).click();
      await expect.poll(() => percentOf(page, name), { timeout: 30_000 }).toBeGreaterThan(paused);
      await upload.getByRole('button', { name: `Cancel ${name}` }).click();
      // What was sent would be deleted: asked first, and 'Keep uploading' is where focus starts.
      const dialog = page.getByRole('dialog', { name: 'Cancel this upload?' });
      await expect(dialog.getByRole('button', { name: 'Keep uploading' })).toBeFocused();
      await snap(page, testInfo, `02-cancel-asked-${target.key}`);
      await dialog.getByRole('button', { name: 'Cancel upload' }).click();
      await expect(upload).toContainText('Upload cancelled.');
      // Focus goes to what replaced the button pressed, not to the page.
      await expect(upload.getByRole('button', { name: `Retry ${name}` })).toBeFocused();
      releaseLast();
      await page.unroute(lastPart);
      await unthrottle();
      await expect.poll(() => staleUploads(page.request), { timeout: 10_000 }).toEqual([]);
      const files = FilePage.parse(await (await page.request.get(`${api.files}?limit=1000`)).json());
      expect(files.files.map((f) => f.name)).not.toContain(name);
    });
  });
}
