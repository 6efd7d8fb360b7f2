import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Browser, type Page, type TestInfo } from '@playwright/test';
import { PNG } from 'pngjs';
import yauzl from 'yauzl';
import { snap, STORE_TARGETS, useStoreTarget } from './support.ts';

/** The big file's size: 300 MB by default (BUNDLE_BIG_MB to change it on a slow machine). */
const BIG_BYTES = Number(process.env.BUNDLE_BIG_MB ?? 300) * 1_000_000;

/** A 16×16 indigo square: an image the preview can show. */
const PNG_1x1 = (() => {
  const png = new PNG({ width: 16, height: 16 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([79, 70, 229, 255], i);
  return PNG.sync.write(png);
})();

/** A second of silence as 8-bit mono WAV: something the audio preview can load. */
function wav(): Buffer {
  const samples = 8000;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(8000, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, Buffer.alloc(samples, 128)]);
}

/** The big file, written once for all targets (1 MB at a time, hashed as it is written) and removed after them. */
let bigFile: Promise<{ file: string; sha256: string }> | undefined;
function theBigFile() {
  bigFile ??= (async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'postbox-e2e-')), 'big.bin');
    const handle = await open(file, 'w');
    const hash = createHash('sha256');
    const block = randomBytes(1_000_000);
    for (let i = 0; i < BIG_BYTES / 1_000_000; i++) {
      const chunk = Buffer.from(block);
      chunk.writeUInt32LE(i, 0); // every MB differs
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.close();
    return { file, sha256: hash.digest('hex') };
  })();
  return bigFile;
}
test.afterAll(async () => {
  if (bigFile) await rm(path.dirname((await bigFile).file), { recursive: true, force: true });
});

/** Every entry of a zip on disk: name → sha256 of its bytes (streamed, so a 300 MB entry is fine). */
function unzip(file: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, string>();
    yauzl.open(file, { lazyEntries: true, decodeStrings: true }, (err, zip) => {
      if (err) return reject(err);
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (error, stream) => {
          if (error) return reject(error);
          const hash = createHash('sha256');
          stream.on('data', (chunk: Buffer) => hash.update(chunk));
          stream.on('end', () => {
            entries.set(entry.fileName, hash.digest('hex'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

async function upload(page: Page, files: (string | { name: string; mimeType: string; buffer: Buffer })[], names: string[]) {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(files as never);
  for (const name of names) await expect(page.getByTestId('file-row').filter({ hasText: name }).first()).toBeVisible({ timeout: 240_000 });
}

async function shareSelected(page: Page, names: string[]): Promise<string> {
  await page.getByLabel(`Select ${names[0]}`, { exact: true }).click();
  // Shift-click selects the range up to the last one.
  await page.getByLabel(`Select ${names.at(-1)}`, { exact: true }).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-bar')).toContainText(`${names.length} selected`);
  await page.getByRole('button', { name: 'Share selected' }).click();
  await page.getByRole('button', { name: 'Create share link' }).click();
  const field = page.getByLabel(`Share link for ${names.length} files`, { exact: true });
  await expect(field).toHaveValue(/\/s\/[A-Za-z0-9_-]{22}$/);
  return field.inputValue();
}

/** Three files (one of BIG_BYTES) in one link, opened in a fresh context: rows, previews, Download all unzipped and compared. */
async function threeFilesInOneLink(page: Page, browser: Browser, testInfo: TestInfo) {
  const big = await theBigFile();
  const photo = { name: 'photo.png', mimeType: 'image/png', buffer: PNG_1x1 };
  const sound = { name: 'sound.wav', mimeType: 'audio/wav', buffer: wav() };
  // Newest first in the list: upload the big one first so the small ones sit above it.
  await upload(page, [big.file], ['big.bin']);
  await upload(page, [photo, sound], ['photo.png', 'sound.wav']);
  const names = ['sound.wav', 'photo.png', 'big.bin'];
  await snap(page, testInfo, 'bundle-01-selection');
  const url = await shareSelected(page, names);
  await expect(page.getByTestId('qr-code')).toBeVisible();
  await snap(page, testInfo, 'bundle-02-qr-panel');

  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  const recipient = await context.newPage();
  await recipient.goto(url);
  await expect(recipient.locator('li.row')).toHaveCount(3);
  await expect(recipient.locator('img.thumb')).toHaveCount(1);
  await expect(recipient.locator('audio.preview')).toHaveCount(1);
  await expect.poll(() => recipient.locator('img.thumb').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
  await snap(recipient, testInfo, 'bundle-03-page-desktop');
  await recipient.setViewportSize({ width: 380, height: 800 });
  await snap(recipient, testInfo, 'bundle-04-page-380');
  await recipient.setViewportSize({ width: 1100, height: 900 });

  // The page's heap while the zip is written: the page never holds a file byte. The whole browser's
  // memory is measured by `npm run bench:zip` (docs/performance.md).
  const cdp = await recipient.context().newCDPSession(recipient);
  await cdp.send('Performance.enable');
  const heaps: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { metrics } = await cdp.send('Performance.getMetrics');
      heaps.push(metrics.find((m) => m.name === 'JSHeapUsedSize')!.value);
      await recipient.waitForTimeout(250);
    }
  })();
  const started = Date.now();
  const [download] = await Promise.all([
    recipient.waitForEvent('download'),
    recipient.getByRole('button', { name: 'Download all (.zip)' }).click(),
  ]);
  const zipFile = await download.path(); // read where the browser wrote it: no copy of 300 MB
  const seconds = (Date.now() - started) / 1000;
  sampling = false;
  await sampler;
  await expect(recipient.locator('body')).toHaveAttribute('data-zip', 'done');

  const entries = await unzip(zipFile);
  expect([...entries.keys()].sort()).toEqual(['big.bin', 'photo.png', 'sound.wav']);
  expect(entries.get('big.bin')).toBe(big.sha256);
  expect(entries.get('photo.png')).toBe(createHash('sha256').update(PNG_1x1).digest('hex'));
  expect(entries.get('sound.wav')).toBe(createHash('sha256').update(sound.buffer).digest('hex'));

  const mb = (n: number) => (n / 1e6).toFixed(1);
  const note = `zip of ${mb(BIG_BYTES)} MB + 2 small files in ${seconds.toFixed(1)} s; page JS heap ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))} MB`;
  console.log(note);
  await testInfo.attach('zip', { body: note, contentType: 'text/plain' });
  expect(Math.max(...heaps)).toBeLessThan(50e6);
  await snap(recipient, testInfo, 'bundle-05-after-zip');
  await context.close(); // its downloads go with it
}

/** `../../evil.txt`, `CON.txt` and a markup name: shown as text, zipped under safe names. */
async function hostileNames(page: Page, browser: Browser) {
  const files = [
    { name: '../../evil.txt', mimeType: 'text/plain', buffer: Buffer.from('evil') },
    { name: 'CON.txt', mimeType: 'text/plain', buffer: Buffer.from('console') },
    { name: '<b>x</b>.txt', mimeType: 'text/plain', buffer: Buffer.from('markup') },
  ];
  await upload(page, files, ['evil.txt', 'CON.txt', 'x<']);
  const shown = await page.getByTestId('file-row').locator('.file__name').allTextContents();
  const names = shown.slice(0, 3);
  const url = await shareSelected(page, [names[0]!, names[1]!, names[2]!]);
  const recipient = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await recipient.goto(url);
  await expect(recipient.locator('main b, main script:not([src])')).toHaveCount(0);
  const [download] = await Promise.all([
    recipient.waitForEvent('download'),
    recipient.getByRole('button', { name: 'Download all (.zip)' }).click(),
  ]);
  const zipFile = test.info().outputPath('names.zip');
  await download.saveAs(zipFile);
  const entries = [...(await unzip(zipFile)).keys()];
  expect(entries).toHaveLength(3);
  for (const name of entries) {
    expect(name).not.toMatch(/[/\\<>]|^\.|^CON\./i);
  }
  expect(entries).toContain('_CON.txt');
}

for (const target of STORE_TARGETS) {
  test.describe(`bundles on ${target.name}`, () => {
    useStoreTarget(target);

    test('three files in one link: rows, previews, Download all as a zip built in the browser', async ({ page, browser }, testInfo) => {
      test.setTimeout(600_000);
      await threeFilesInOneLink(page, browser, testInfo);
    });

    test('hostile names land in the zip under safe names', async ({ page, browser }) => {
      await hostileNames(page, browser);
    });
  });
}
