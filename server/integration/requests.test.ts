import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type FileRequestLink, type UploadPolicy } from '../../contract/api.ts';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Person } from '../people/person.ts';
import { RequestService } from '../requests/request-service.ts';
import { S3RequestStore } from '../requests/request-store.ts';
import { parseUploadKey } from '../signing/object-keys.ts';
import { postThroughPolicy, startTestPostbox, type TestPostbox } from './harness.ts';

const WEBHOOK_SECRET = 'operator-webhook-secret-0123456789';

/** Resolves, one at a time, with what a loopback server received: tests wait on arrivals, never on a clock. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];
  push(item: T) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }
  next(): Promise<T> {
    const item = this.items.shift();
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

interface Hook {
  headers: IncomingMessage['headers'];
  body: string;
}

let app: TestPostbox;
let hookServer: Server;
let smtp: SMTPServer;
const hooks = new Inbox<Hook>();
const mails = new Inbox<string>();
let failNextHooks = 0;

beforeAll(async () => {
  hookServer = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      // A receiver that is down at first: the delivery is retried.
      if (failNextHooks > 0) {
        failNextHooks -= 1;
        res.writeHead(503).end();
        hooks.push({ headers: { 'x-failed': '1', ...req.headers }, body });
        return;
      }
      res.writeHead(204).end();
      hooks.push({ headers: req.headers, body });
    });
  });
  hookServer.listen(0, '127.0.0.1');
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
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  app = await startTestPostbox({
    MAX_UPLOAD_BYTES: String(64 * 1024),
    RATE_LIMIT_PER_MINUTE: '0',
    REQUEST_WEBHOOK_URL: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`,
    REQUEST_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    REQUEST_MAIL_TO: 'requester@example.test',
  });
});
afterAll(async () => {
  await app?.stop();
  hookServer?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve()));
});

async function makeRequest(body: Record<string, unknown> = {}): Promise<FileRequestLink> {
  const created = await app.call('POST', api.requests, { expiresIn: 3600, ...body });
  expect(created.status).toBe(201);
  return created.body;
}

async function send(id: string, name: string, bytes: Uint8Array, extra: Record<string, unknown> = {}): Promise<UploadPolicy> {
  const signed = await app.call('POST', api.requestUploads(id), { name, size: bytes.length, type: 'text/plain', ...extra });
  expect(signed.status).toBe(201);
  expect((await postThroughPolicy(signed.body, bytes, name)).status).toBe(204);
  return signed.body;
}

describe('request links: the requester', () => {
  it('creates a link, lists it with what it received, and closes it', async () => {
    const link = await makeRequest({
      note: 'Please send the signed contract',
      maxFiles: 3,
      maxFileBytes: 1000,
      allowedTypes: ['text/plain'],
    });
    expect(link.url).toBe(`${app.url}/r/${link.id}`);
    expect(link.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(link).toMatchObject({ state: 'open', files: 0, bytes: 0, hasPassword: false, limits: { maxFiles: 3, maxFileBytes: 1000 } });

    const policy = await send(link.id, 'contract.txt', randomBytes(200), { visitorName: 'Ada' });
    expect(parseUploadKey(policy.key)).toMatchObject({ space: '', name: 'contract.txt' });
    const listed = (await app.call('GET', api.requests)).body.requests.find((r: FileRequestLink) => r.id === link.id);
    expect(listed).toMatchObject({ files: 1, bytes: 200, received: [{ key: policy.key, name: 'contract.txt', visitorName: 'Ada' }] });
    expect(listed.lastUploadAt).not.toBeNull();
    // The file is one of the requester's files, like any other.
    expect((await app.call('GET', api.files)).body.files.map((f: { key: string }) => f.key)).toContain(policy.key);

    expect((await app.call('DELETE', api.request(link.id))).status).toBe(204);
    const closed = await app.call('GET', api.requestPublic(link.id));
    expect(closed.body.state).toBe('closed');
    const refused = await app.call('POST', api.requestUploads(link.id), { name: 'late.txt', size: 10, type: 'text/plain' });
    expect([refused.status, refused.body.error.code]).toEqual([410, 'request_closed']);
  });

  it("refuses a per-file limit over the server's own and an expiry under an hour", async () => {
    const tooBig = await app.call('POST', api.requests, { expiresIn: 3600, maxFileBytes: 64 * 1024 + 1 });
    expect([tooBig.status, tooBig.body.error.code]).toEqual([400, 'invalid_request']);
    const badExpiry = await app.call('POST', api.requests, { expiresIn: 60 });
    expect([badExpiry.status, badExpiry.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it('answers 404 for a link that does not exist, and for a malformed id', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', '../shares/links/x', 'x']) {
      const answer = await app.call('GET', api.requestPublic(id));
      expect([answer.status, answer.body.error.code]).toEqual([404, 'not_found']);
    }
    expect((await app.call('DELETE', api.request('AAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(404);
  });
});

describe('request links: the visitor', () => {
  it('sees who asks, the note and the limits in plain words, and nothing else', async () => {
    const link = await makeRequest({
      note: 'Your photos',
      maxFiles: 2,
      maxFileBytes: 2048,
      maxTotalBytes: 3000,
      allowedTypes: ['image/*'],
    });
    const seen = await app.call('GET', api.requestPublic(link.id));
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ state: 'open', note: 'Your photos', filesLeft: 2, bytesLeft: 3000, passwordRequired: false });
    expect(seen.body.summary[0]).toBe('You can send up to 2 files of at most 2 KiB each.');
    expect(JSON.stringify(seen.body)).not.toMatch(/webhookSecret|received|space/);
  });

  it('is refused before signing: too big for the link, a type it does not take, over the total', async () => {
    const link = await makeRequest({ maxFiles: 5, maxFileBytes: 1000, maxTotalBytes: 1500, allowedTypes: ['text/plain'] });
    const big = await app.call('POST', api.requestUploads(link.id), { name: 'a.txt', size: 1001, type: 'text/plain' });
    expect([big.status, big.body.error.code]).toEqual([413, 'file_too_large']);
    const type = await app.call('POST', api.requestUploads(link.id), { name: 'a.png', size: 10, type: 'image/png' });
    expect([type.status, type.body.error.code]).toEqual([415, 'unsupported_type']);
    await send(link.id, 'one.txt', randomBytes(1000));
    const over = await app.call('POST', api.requestUploads(link.id), { name: 'two.txt', size: 600, type: 'text/plain' });
    expect([over.status, over.body.error.code]).toEqual([409, 'request_full']);
  });

  it('needs the password when the link has one', async () => {
    const link = await makeRequest({ password: 'correct horse' });
    expect((await app.call('GET', api.requestPublic(link.id))).body.passwordRequired).toBe(true);
    const none = await app.call('POST', api.requestUploads(link.id), { name: 'a.txt', size: 1, type: 'text/plain' });
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
    const wrong = await app.call('POST', api.requestUploads(link.id), {
      name: 'a.txt',
      size: 1,
      type: 'text/plain',
      password: 'wrong horse',
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'invalid_credentials']);
    await send(link.id, 'a.txt', randomBytes(1), { password: 'correct horse' });
  });

  it('cannot list, read or delete anything: those routes need sign-in or are not there', async () => {
    const locked = await startTestPostbox({ POSTBOX_PASSWORD: 'owner-password-1', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      for (const [method, path] of [
        ['GET', api.files],
        ['GET', api.requests],
        ['POST', api.uploads],
        ['DELETE', api.request('AAAAAAAAAAAAAAAAAAAAAA')],
      ]) {
        const answer = await locked.call(method!, path!, method === 'POST' ? { name: 'a', size: 1, type: 'text/plain' } : undefined);
        expect([path, answer.status]).toEqual([path, 401]);
      }
      // …while a visitor's routes answer without a session (404: no such link).
      expect((await locked.call('GET', api.requestPublic('AAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(404);
    } finally {
      await locked.stop();
    }
  });
});

describe('request links: telling the requester', () => {
  it('one signed webhook event and one e-mail per visit, only for files that are really in storage', async () => {
    const link = await makeRequest({ note: 'Tax papers' });
    const first = await send(link.id, 'w2.txt', randomBytes(300), { visitorName: 'Grace' });
    const second = await send(link.id, 'receipt.txt', randomBytes(400), { visitorName: 'Grace' });
    // Signed but never sent: not in the batch.
    const unsent = (await app.call('POST', api.requestUploads(link.id), { name: 'never.txt', size: 5, type: 'text/plain' }))
      .body as UploadPolicy;

    failNextHooks = 1;
    const visit = await app.call('POST', api.requestVisits(link.id), { keys: [first.key, second.key, unsent.key] });
    expect(visit.status).toBe(200);
    expect(new Set(visit.body.confirmed)).toEqual(new Set([first.key, second.key]));

    const failed = await hooks.next();
    expect(failed.headers['x-failed']).toBe('1');
    const hook = await hooks.next(); // the retry
    expect(hook.headers['x-postbox-delivery']).toBe(failed.headers['x-postbox-delivery']);
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(hook.body).digest('hex')}`;
    expect(hook.headers['x-postbox-signature']).toBe(expected);
    const event = JSON.parse(hook.body);
    expect(event).toMatchObject({ event: 'request.files_received', visitorName: 'Grace', request: { id: link.id, note: 'Tax papers' } });
    expect(event.files.map((f: { name: string }) => f.name).sort()).toEqual(['receipt.txt', 'w2.txt']);

    const mail = await mails.next();
    expect(mail).toMatch(/^To: requester@example\.test/m);
    expect(mail).toMatch(/2 files arrived from Grace/);
    expect(mail).toContain('w2.txt');
    expect(mail).toContain('receipt.txt');
    expect(mail).not.toContain('never.txt');

    // A replayed visit notifies nothing new; the next real one does.
    expect((await app.call('POST', api.requestVisits(link.id), { keys: [first.key] })).body.confirmed).toEqual([first.key]);
    const third = await send(link.id, 'late.txt', randomBytes(10));
    await app.call('POST', api.requestVisits(link.id), { keys: [third.key] });
    const next = JSON.parse((await hooks.next()).body);
    expect(next.files.map((f: { name: string }) => f.name)).toEqual(['late.txt']);
    expect(await mails.next()).toMatch(/A file arrived through your request link/);
  });

  it("a visit may report 500 long keys (past the API's 16 KiB body limit); more is refused", async () => {
    const link = await makeRequest();
    const long = (i: number) => `uploads/${'x'.repeat(2000)}${i}`;
    const keys = Array.from({ length: 500 }, (_, i) => long(i));
    const visit = await app.call('POST', api.requestVisits(link.id), { keys });
    expect([visit.status, visit.body.confirmed]).toEqual([200, []]);
    const tooMany = await app.call('POST', api.requestVisits(link.id), { keys: [...keys, long(500)] });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'invalid_request']);
  });

  it("a visit cannot confirm keys that are not this link's", async () => {
    const mine = await makeRequest();
    const theirs = await makeRequest();
    const policy = await send(theirs.id, 'theirs.txt', randomBytes(10));
    const visit = await app.call('POST', api.requestVisits(mine.id), { keys: [policy.key] });
    expect(visit.body.confirmed).toEqual([]);
  });
});

describe('request links: attacks', () => {
  const someone: Person = { id: 'ab'.repeat(8), space: `people/${'ab'.repeat(8)}/`, admin: false, name: 'Ada' };
  const serviceOn = (postbox: TestPostbox, now?: () => number) =>
    new RequestService({
      now,
      store: new S3RequestStore(postbox.storage),
      storage: postbox.storage,
      rules: { maxBytes: 64 * 1024, allowedTypes: ['*/*'], deniedTypes: [], expiresSeconds: 900 },
    });

  it("another person's link: files go to their space, and the local person can neither list nor close it", async () => {
    const service = serviceOn(app);
    const record = await service.create(someone, { expiresIn: 3600 });
    const policy = await send(record.id, 'for-ada.txt', randomBytes(20));
    expect(parseUploadKey(policy.key)?.space).toBe(someone.space);
    expect((await app.call('GET', api.requests)).body.requests.map((r: FileRequestLink) => r.id)).not.toContain(record.id);
    expect((await app.call('DELETE', api.request(record.id))).status).toBe(404);
    expect((await app.call('GET', api.files)).body.files.map((f: { key: string }) => f.key)).not.toContain(policy.key);
    expect((await app.call('GET', api.requestPublic(record.id))).body.requester).toBe('Ada');
  });

  it('only an admin may set a webhook (the server would POST wherever it points)', async () => {
    await expect(serviceOn(app).create(someone, { expiresIn: 3600, webhookUrl: 'http://169.254.169.254/latest' })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('a visitor name with line breaks and control characters is stored without them', async () => {
    const link = await makeRequest();
    const policy = await send(link.id, 'n.txt', randomBytes(5), { visitorName: 'Eve\r\nBcc: victim@example.test\u0000\u202e' });
    const object = await app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: policy.key }));
    expect(decodeURIComponent(object.Metadata!['visitor-name']!)).toBe('EveBcc: victim@example.test');
  });

  it('visitors are rate limited per link, whoever they are (4 addresses, limit 3)', async () => {
    const limited = await startTestPostbox({ RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: 'loopback' });
    try {
      const created = await limited.call('POST', api.requests, { expiresIn: 3600 });
      const answers = [];
      for (let i = 1; i <= 4; i++) {
        answers.push(
          (await limited.call('GET', api.requestPublic(created.body.id), undefined, { 'x-forwarded-for': `203.0.113.${i}` })).status,
        );
      }
      expect(answers).toEqual([200, 200, 200, 429]);
      // Another link is not affected.
      const other = await limited.call('POST', api.requests, { expiresIn: 3600 });
      expect((await limited.call('GET', api.requestPublic(other.body.id), undefined, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(
        200,
      );
    } finally {
      await limited.stop();
    }
  });
});

describe('request links: slots signed but never used', () => {
  it('are given back an hour after their policy expired, unless the file is in storage', async () => {
    let now = Date.now();
    const service = new RequestService({
      store: new S3RequestStore(app.storage),
      storage: app.storage,
      rules: { maxBytes: 64 * 1024, allowedTypes: ['*/*'], deniedTypes: [], expiresSeconds: 900 },
      now: () => now,
    });
    const owner: Person = { id: 'cd'.repeat(8), space: `people/${'cd'.repeat(8)}/`, admin: false };
    const record = await service.create(owner, { expiresIn: 24 * 3600, maxFiles: 2 });
    const file = { size: 10, type: 'text/plain' };
    const used = await service.sign(record, { name: 'used.txt', ...file }, app.url);
    expect((await postThroughPolicy(used, randomBytes(10))).status).toBe(204); // sent, never confirmed
    await service.sign(await service.open(record.id), { name: 'abandoned.txt', ...file }, app.url);
    await expect(service.sign(await service.open(record.id), { name: 'third.txt', ...file }, app.url)).rejects.toMatchObject({
      code: 'request_full',
    });

    now += 900_000 + 3600_000 - 1000; // not yet an hour past the policies' expiry
    await expect(service.sign(await service.open(record.id), { name: 'third.txt', ...file }, app.url)).rejects.toMatchObject({
      code: 'request_full',
    });
    now += 1000;
    await service.sign(await service.open(record.id), { name: 'third.txt', ...file }, app.url);
    const names = (await service.open(record.id)).received.map((f) => f.name);
    expect(names).toEqual(['used.txt', 'third.txt']);
  });
});
