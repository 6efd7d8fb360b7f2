import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { SMTPServer } from 'smtp-server';
import { api, type FileRequestList } from '../contract/api.ts';
import {
  E2E_REQUESTS_MAX_UPLOAD_BYTES,
  REQUESTS_HOOK_PORT,
  REQUESTS_PASSWORD,
  REQUESTS_PORT,
  REQUESTS_SMTP_PORT,
  REQUESTS_WEBHOOK_SECRET,
} from '../playwright.config.ts';
import { decodeQrPng, makeFile, sha256, snap, throttleUploads } from './support.ts';

const base = `http://127.0.0.1:${REQUESTS_PORT}`;

/** What the loopback receivers got; each waiter resolves on the next arrival (no clock). */
const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];
const mails: string[] = [];
let arrived: () => void = () => {};
const nextArrival = () => new Promise<void>((resolve) => (arrived = resolve));
let hookServer: Server;
let smtp: SMTPServer;

test.beforeAll(async () => {
  hookServer = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(204).end();
      arrived();
    });
  });
  hookServer.listen(REQUESTS_HOOK_PORT, '127.0.0.1');
  await once(hookServer, 'listening');
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => {
        mails.push(text);
        callback();
        arrived();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(REQUESTS_SMTP_PORT, '127.0.0.1', resolve));
});
test.afterAll(async () => {
  hookServer?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve()));
});

async function signIn(page: Page) {
  await page.goto(base + '/');
  await page.getByLabel('Password').fill(REQUESTS_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByText('Drop files here to upload')).toBeVisible();
}

test('a request link: a visitor with no session sends two files (a third refused before sending); the requester sees them, told by webhook and mail', async ({
  page,
  browser,
}, testInfo) => {
  // Throttled uploads, two browser contexts and a reload on a machine shared with others' runs.
  test.setTimeout(150_000);
  await signIn(page);
  const panel = page.getByRole('region', { name: 'Request files' });
  await panel.getByLabel('What you ask for').fill('Please send the signed contract and your ID');
  await panel.getByLabel('Files at most').fill('5');
  await panel.getByLabel(/MiB per file/).fill('0.5');
  await panel.getByLabel('Password (optional)').fill('visitor pass 1');
  await panel.getByRole('button', { name: 'Make request link' }).click();
  const row = panel.getByTestId('request-row').filter({ hasText: 'Please send the signed contract' });
  await expect(row).toContainText('Open · 0 of 5 files');
  const url = await row.getByLabel('Request link').inputValue();
  expect(url).toMatch(new RegExp(`^${base}/r/[A-Za-z0-9_-]{22}$`));
  await snap(page, testInfo, 'requests-01-requester-list-empty');
  // Its QR code, drawn in the page, decodes to the link (the PNG offered for printing, read back here).
  await row.getByRole('button', { name: 'QR code' }).click();
  const png = await row.getByTestId('qr-code').getByRole('link', { name: 'Download PNG' }).getAttribute('href');
  expect(decodeQrPng(png!)).toBe(url);
  await snap(page, testInfo, 'requests-01b-request-qr');
  await row.getByRole('button', { name: 'Hide QR code' }).click();

  // A second browser context: no cookies, no session.
  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  const pageErrors: string[] = [];
  visitor.on('pageerror', (error) => pageErrors.push(error.message));
  const opened = await visitor.goto(url);
  expect(opened!.headers()['content-security-policy']).toContain("script-src 'self'");
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('You are asked for files');
  await expect(visitor.getByText('Please send the signed contract and your ID')).toBeVisible();
  await expect(visitor.getByText('You can send up to 5 files of at most 512 KiB each.')).toBeVisible();
  await snap(visitor, testInfo, 'requests-02-visitor-empty');

  // Wrong password: refused by the server, said next to the field.
  await visitor.getByLabel('Password').fill('not the password');
  await visitor.getByTestId('request-file-input').setInputFiles(makeFile('nope.txt', 10, 'text/plain'));
  await expect(visitor.getByRole('alert').filter({ hasText: 'That password is not right.' }).first()).toBeVisible();
  await snap(visitor, testInfo, 'requests-03-visitor-wrong-password');

  // Three files: one over the link's limit is refused before anything is sent.
  const contract = makeFile('Signed contract – Grüße.pdf', 300_000, 'application/pdf');
  const id = makeFile('id-card.png', 200_000, 'image/png');
  const big = makeFile('holiday-video.bin', 600_000, 'application/octet-stream');
  await visitor.getByLabel('Password').fill('visitor pass 1');
  await visitor.getByLabel('Your name (optional)').fill('Grace Hopper');
  const signRequests: string[] = [];
  visitor.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/uploads')) signRequests.push(request.postData() ?? '');
  });
  const restore = await throttleUploads(visitor, 200_000);
  const notified = nextArrival();
  await visitor.getByTestId('request-file-input').setInputFiles([contract, id, big]);
  const bigItem = visitor.getByTestId('request-item').filter({ hasText: big.name });
  await expect(bigItem).toHaveAttribute('data-state', 'refused');
  await expect(bigItem).toContainText('Too large: this link takes files of at most 512 KiB.');
  await expect(visitor.getByTestId('request-item').filter({ hasText: contract.name })).toHaveAttribute('data-state', 'uploading');
  await snap(visitor, testInfo, 'requests-04-visitor-uploading-and-refused');
  await restore();
  await expect(visitor.getByTestId('request-receipt')).toContainText(id.name, { timeout: 30_000 });
  await expect(visitor.getByTestId('request-receipt')).toContainText(contract.name);
  await expect(visitor.getByTestId('request-item').filter({ hasText: contract.name })).toHaveAttribute('data-state', 'done');
  expect(signRequests.some((body) => body.includes(big.name))).toBe(false);
  await snap(visitor, testInfo, 'requests-05-visitor-done');
  expect(pageErrors).toEqual([]);

  // The webhook and the mail for this visit (one of each, for the batch).
  await notified;
  while (hooks.length < 1 || mails.length < 1) await nextArrival();
  const hook = hooks.at(-1)!;
  expect(hook.headers['x-postbox-signature']).toBe(
    `sha256=${createHmac('sha256', REQUESTS_WEBHOOK_SECRET).update(hook.body).digest('hex')}`,
  );
  const event = JSON.parse(hook.body);
  expect(event.visitorName).toBe('Grace Hopper');
  expect(event.files.map((f: { name: string }) => f.name).sort()).toEqual([contract.name, id.name].sort());
  const mail = mails.at(-1)!;
  expect(mail).toMatch(/2 files arrived from Grace Hopper/);
  expect(mail).toContain('id-card.png');

  // The requester: two files, marked with the request, byte for byte the ones sent.
  await page.bringToFront();
  await page.reload();
  for (const file of [contract, id]) {
    const fileRow = page.getByTestId('file-row').filter({ hasText: file.name });
    await expect(fileRow.getByTestId('file-via')).toHaveText(
      'Received through “Please send the signed contract and your ID” from Grace Hopper',
      {
        timeout: 20_000,
      },
    );
  }
  await expect(page.getByTestId('file-row').filter({ hasText: big.name })).toHaveCount(0);
  await expect(row).toContainText('Open · 2 of 5 files');
  await snap(page, testInfo, 'requests-06-requester-received');
  const list = (await (await page.request.get(base + api.requests)).json()) as FileRequestList;
  const received = list.requests[0]!.received;
  for (const file of [contract, id]) {
    const key = received.find((r) => r.name === file.name)!.key;
    const link = await (await page.request.post(base + api.fileLink(key), { data: { expiresIn: 300 } })).json();
    const bytes = await (await page.request.get(link.url)).body();
    expect(sha256(bytes)).toBe(sha256(file.buffer));
  }
  expect(E2E_REQUESTS_MAX_UPLOAD_BYTES).toBeGreaterThan(big.buffer.length); // refused by the link's limit, not the server's

  // Closed: the visitor's page says so.
  await row.getByRole('button', { name: 'Close' }).click();
  await expect(row).toContainText('Closed');
  await visitor.reload();
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('This request link was closed');
  await snap(visitor, testInfo, 'requests-07-visitor-closed');
  await visitorContext.close();
});
