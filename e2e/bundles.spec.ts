import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import yauzl from 'yauzl';
import { MULTIPART_PORT } from '../playwright.config.ts';
import { snap } from './support.ts';

// The multipart app: no 5 MiB limit, big files go up in parts.
test.use({ baseURL: `http://127.0.0.1:${MULTIPART_PORT}` });

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

const sha256File = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
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

/** Resident memory of this test's Chromium, all its processes (KiB), from ps. */
function chromiumRssKiB(): number {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,comm=']).toString().trim().split('\n').map((line) => line.trim().split(/\s+/));
  const children = new Map<string, string[]>();
  for (const [pid, ppid] of rows) children.set(ppid!, [...(children.get(ppid!) ?? []), pid!]);
  const rss = new Map(rows.map(([pid, , kib]) => [pid!, Number(kib)]));
  let total = 0;
  const walk = (pid: string) => {
    for (const child of children.get(pid) ?? []) {
      total += rss.get(child) ?? 0;
      walk(child);
    }
  };
  walk(String(process.pid));
  return total;
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

test('three files in one link: rows, previews, Download all as a zip built in the browser', async ({ page, browser }, testInfo) => {
  test.setTimeout(600_000);
  const big = testInfo.outputPath('big.bin');
  const bigBytes = randomBytes(1_000_000);
  await writeFile(big, Buffer.concat(Array.from({ length: BIG_BYTES / 1_000_000 }, (_, i) => Buffer.concat([Buffer.from(String(i)), bigBytes.subarray(String(i).length)]))));
  const photo = { name: 'photo.png', mimeType: 'image/png', buffer: PNG_1x1 };
  const sound = { name: 'sound.wav', mimeType: 'audio/wav', buffer: wav() };
  // Newest first in the list: upload the big one first so the small ones sit above it.
  await upload(page, [big], ['big.bin']);
  await upload(page, [photo, sound], ['photo.png', 'sound.wav']);
  const names = ['sound.wav', 'photo.png', 'big.bin'];
  await snap(page, testInfo, 'bundle-01-selection');
  const url = await shareSelected(page, names);
  await expect(page.getByTestId('qr-code')).toBeVisible();
  await snap(page, testInfo, 'bundle-02-qr-panel');

  const recipient = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } })).newPage();
  await recipient.goto(url);
  await expect(recipient.locator('li.row')).toHaveCount(3);
  await expect(recipient.locator('img.thumb')).toHaveCount(1);
  await expect(recipient.locator('audio.preview')).toHaveCount(1);
  await expect.poll(() => recipient.locator('img.thumb').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
  await snap(recipient, testInfo, 'bundle-03-page-desktop');
  await recipient.setViewportSize({ width: 380, height: 800 });
  await snap(recipient, testInfo, 'bundle-04-page-380');
  await recipient.setViewportSize({ width: 1100, height: 900 });

  const cdp = await recipient.context().newCDPSession(recipient);
  await cdp.send('Performance.enable');
  const samples: { heap: number; rss: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { metrics } = await cdp.send('Performance.getMetrics');
      samples.push({ heap: metrics.find((m) => m.name === 'JSHeapUsedSize')!.value, rss: chromiumRssKiB() * 1024 });
      await recipient.waitForTimeout(250);
    }
  })();
  const started = Date.now();
  const [download] = await Promise.all([recipient.waitForEvent('download'), recipient.getByRole('button', { name: 'Download all (.zip)' }).click()]);
  const zipFile = testInfo.outputPath('bundle.zip');
  await download.saveAs(zipFile);
  const seconds = (Date.now() - started) / 1000;
  sampling = false;
  await sampler;
  await expect(recipient.locator('body')).toHaveAttribute('data-zip', 'done');

  const entries = await unzip(zipFile);
  expect([...entries.keys()].sort()).toEqual(['big.bin', 'photo.png', 'sound.wav']);
  expect(entries.get('big.bin')).toBe(await sha256File(big));
  expect(entries.get('photo.png')).toBe(createHash('sha256').update(PNG_1x1).digest('hex'));
  expect(entries.get('sound.wav')).toBe(createHash('sha256').update(sound.buffer).digest('hex'));

  const mb = (n: number) => (n / 1e6).toFixed(1);
  const heaps = samples.map((s) => s.heap);
  const rss = samples.map((s) => s.rss);
  const note = `zip of ${mb(BIG_BYTES)} MB + 2 small files in ${seconds.toFixed(1)} s; ${samples.length} samples; page JS heap ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))} MB; Chromium RSS (all processes) ${mb(Math.min(...rss))}–${mb(Math.max(...rss))} MB`;
  console.log(note);
  await testInfo.attach('memory', { body: note, contentType: 'text/plain' });
  // The page's heap never holds the files. The whole browser's RSS is only reported (docs/performance.md):
  // a renderer and the worker's process start while it is sampled, and it has not been shown flat.
  expect(Math.max(...heaps)).toBeLessThan(50e6);
  await snap(recipient, testInfo, 'bundle-05-after-zip');
});

test('hostile names land in the zip under safe names', async ({ page, browser }) => {
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
  const [download] = await Promise.all([recipient.waitForEvent('download'), recipient.getByRole('button', { name: 'Download all (.zip)' }).click()]);
  const zipFile = test.info().outputPath('names.zip');
  await download.saveAs(zipFile);
  const entries = [...(await unzip(zipFile)).keys()];
  expect(entries).toHaveLength(3);
  for (const name of entries) {
    expect(name).not.toMatch(/[/\\<>]|^\.|^CON\./i);
  }
  expect(entries).toContain('_CON.txt');
});
