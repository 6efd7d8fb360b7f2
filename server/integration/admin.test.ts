import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ShareLink } from '../../contract/api.ts';
import { loadConfig } from '../config/config.ts';
import { createShareService } from '../http/routes/shares.ts';
import { ApiTokens } from '../people/api-tokens.ts';
import { spaceFor, type Person } from '../people/person.ts';
import { parseUploadKey } from '../signing/object-keys.ts';
import { startPostbox, type RunningPostbox } from '../postbox.ts';
import { postThroughPolicy } from './harness.ts';

const personA: Person = { id: 'a1'.repeat(16), space: spaceFor('a1'.repeat(16)), admin: false };
const personB: Person = { id: 'b2'.repeat(16), space: spaceFor('b2'.repeat(16)), admin: false };

/** Every JSON line the app logs. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const auditLines = () => lines.filter((line) => line.audit === true);

let app: RunningPostbox;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-admin-'));
  // Open mode: the requests act for the local person, the admin of its own Postbox.
  const config = loadConfig({ PORT: '0', POSTBOX_DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: '0' });
  app = await startPostbox(config, pino({ level: 'info', base: undefined }, sink));
});
afterAll(async () => {
  await app?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(app.url + urlPath, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();

  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A file in a person's space, as their browser's POST would leave it. */
async function putFile(person: Person, name: string, bytes: number): Promise<string> {
  const key = `${person.space}uploads/0000000000${name.length % 10}-${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}/text/plain/${name}`;
  await app.storage.client.send(new PutObjectCommand({ Bucket: app.storage.bucket, Key: key, Body: new Uint8Array(bytes) }));
  return key;
}

async function localUpload(name: string, text: string): Promise<string> {
  const signed = await call('POST', api.uploads, { name, size: text.length, type: 'text/plain' });
  expect((await postThroughPolicy(signed.body, Buffer.from(text), name)).status).toBe(204);
  return signed.body.key as string;
}

describe('admin API', () => {
  it("lists each person's files, bytes and live share links; removes one person's files and links; audits it", async () => {
    const legacy = await localUpload('before accounts.txt', 'old bytes');
    const a1 = await putFile(personA, 'a-one.txt', 10);
    await putFile(personA, 'a-two.txt', 20);
    await putFile(personB, 'b-one.txt', 5);
    const shares = createShareService(app.storage);
    const live = await shares.create(a1, parseUploadKey(a1)!, { expiresIn: 3600 });
    const revoked = await shares.create(a1, parseUploadKey(a1)!, { expiresIn: 3600 });
    await shares.revoke(revoked.id);

    const listed = await call('GET', api.adminPeople);
    expect(listed.status).toBe(200);
    const rows = Object.fromEntries((listed.body.people as { id: string }[]).map((row) => [row.id, row]));
    expect(rows[personA.id]).toMatchObject({ files: 2, usedBytes: 30, shareLinks: 1 });
    expect(rows[personB.id]).toMatchObject({ files: 1, usedBytes: 5, shareLinks: 0 });
    expect(rows.local).toMatchObject({ files: 1, usedBytes: 'old bytes'.length, shareLinks: 0 });

    const removed = await call('DELETE', api.adminPersonFiles(personA.id));
    expect(removed).toEqual({ status: 200, body: { files: 2, shareLinks: 2 } });
    expect(await shares.store.get(live.id)).toBeUndefined();
    const after = await call('GET', api.adminPeople);
    expect((after.body.people as { id: string; files: number }[]).find((row) => row.id === personA.id)?.files).toBe(0);
    expect((after.body.people as { id: string; files: number }[]).find((row) => row.id === personB.id)?.files).toBe(1);
    expect(await app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: legacy }))).toBeTruthy();

    expect(auditLines()).toContainEqual(
      expect.objectContaining({ person: 'local', action: 'admin.remove-files', owner: personA.id, files: 2, shareLinks: 2 }),
    );
    expect(JSON.stringify(lines)).not.toContain(live.id);
  });

  it('gives a file from before accounts to a person: copied into their space, the original and its links gone', async () => {
    const legacy = await localUpload('report.txt', 'legacy report');
    const link = (await call('POST', api.fileShares(legacy), { expiresIn: 3600 })).body as ShareLink;
    const given = await call('POST', api.adminLegacyOwner(legacy), { personId: personB.id });
    expect(given.status).toBe(201);
    expect(given.body.key).toBe(`${personB.space}${legacy}`);
    const copied = await app.storage.client.send(new GetObjectCommand({ Bucket: app.storage.bucket, Key: given.body.key }));
    expect(await copied.Body!.transformToString()).toBe('legacy report');
    await expect(app.storage.client.send(new HeadObjectCommand({ Bucket: app.storage.bucket, Key: legacy }))).rejects.toThrow();
    expect((await fetch(link.url)).status).toBe(404);

    expect((await call('POST', api.adminLegacyOwner(given.body.key), { personId: personA.id })).status).toBe(404);
    expect((await call('POST', api.adminLegacyOwner(legacy), { personId: 'not-hex' })).status).toBe(400);
  });

  it('refuses people who are not admins (a personal token of a person), and stays 403 for every admin route', async () => {
    const { token } = await new ApiTokens(app.storage).create(personA, 'script');
    const headers = { authorization: `Bearer ${token}` };
    const attempts = [
      await call('GET', api.adminPeople, undefined, headers),
      await call('DELETE', api.adminPersonFiles(personB.id), undefined, headers),
      await call('POST', api.adminLegacyOwner('uploads/0000000000a-0123456789abcdef/text/plain/x.txt'), { personId: personA.id }, headers),
    ];
    expect(attempts.map((a) => [a.status, a.body.error.code])).toEqual(Array(3).fill([403, 'forbidden']));
    expect(auditLines()).toContainEqual(expect.objectContaining({ person: personA.id, action: 'token.use' }));
    expect(JSON.stringify(lines)).not.toContain(token);
  });
});

describe('audit lines', () => {
  it('say who created, used and revoked share links and tokens, and who deleted what; never a share id or token', async () => {
    lines.length = 0;
    const key = await localUpload('audited.txt', 'audited bytes');
    const link = (await call('POST', api.fileShares(key), { expiresIn: 3600 })).body as ShareLink;
    expect((await fetch(link.url, { method: 'POST', redirect: 'manual' })).status).toBe(303);
    expect((await call('DELETE', api.share(link.id))).status).toBe(204);
    const token = (await call('POST', api.tokens, { name: 'ci' })).body as { id: string; token: string };
    expect((await call('GET', api.files, undefined, { authorization: `Bearer ${token.token}` })).status).toBe(200);
    expect((await call('DELETE', api.token(token.id))).status).toBe(204);
    expect((await call('DELETE', api.file(key))).status).toBe(204);

    const audited = auditLines().map(({ person, action }) => [person, action]);
    expect(audited).toEqual([
      ['local', 'share.create'],
      [null, 'share.download'],
      ['local', 'share.revoke'],
      ['local', 'token.create'],
      ['local', 'token.use'],
      ['local', 'token.revoke'],
      ['local', 'file.delete'],
    ]);
    const fingerprints = auditLines()
      .filter((line) => String(line.action).startsWith('share.'))
      .map((line) => line.link);
    expect(new Set(fingerprints).size).toBe(1);
    expect(auditLines().find((line) => line.action === 'share.download')).toMatchObject({ owner: 'local', file: key });
    expect(auditLines().find((line) => line.action === 'file.delete')).toMatchObject({ file: key, owner: 'local' });
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(link.id);
    expect(everything).not.toContain(token.token);
  });
});
