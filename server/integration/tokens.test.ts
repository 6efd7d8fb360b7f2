import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../contract/api.ts';
import { ApiTokens, TOKENS_PREFIX } from '../people/api-tokens.ts';
import { spaceFor, type Person } from '../people/person.ts';
import { startTestPostbox, type TestPostbox } from './harness.ts';

const PASSWORD = 'correct horse battery staple';
const RECIPE_DOC = path.resolve(import.meta.dirname, '../../docs/accounts-admin.md');
const someone: Person = { id: 'cd'.repeat(16), space: spaceFor('cd'.repeat(16)), admin: false, email: 'someone@example.com' };

let app: TestPostbox;
let cookie: string;
beforeAll(async () => {
  app = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD, RATE_LIMIT_PER_MINUTE: '0' });
  const signedIn = await app.call('POST', api.session, { password: PASSWORD });
  cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
});
afterAll(() => app?.stop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every object under postbox/tokens/, as text. */
async function storedTokenRecords(): Promise<string[]> {
  const { bucket, client } = app.storage;
  const listing = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: TOKENS_PREFIX }));
  return Promise.all(
    (listing.Contents ?? []).map(async ({ Key }) =>
      (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString(),
    ),
  );
}

describe('personal API tokens', () => {
  it('are made from a session, shown once, stored hashed, work as the bearer, and stop working when revoked', async () => {
    const created = await app.call('POST', api.tokens, { name: 'backup script' }, { cookie });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      name: 'backup script',
      token: expect.stringMatching(/^pbt_/),
      createdAt: expect.any(String),
    });
    const { id, token } = created.body as { id: string; token: string };

    const listed = await app.call('GET', api.tokens, undefined, { cookie });
    expect(listed.body.tokens).toEqual([{ id, name: 'backup script', createdAt: created.body.createdAt }]);
    const records = await storedTokenRecords();
    expect(records).toHaveLength(2);
    for (const record of records) expect(record).not.toContain(token.slice(4));

    expect((await app.call('GET', api.files, undefined, bearer(token))).status).toBe(200);
    const bred = await app.call('POST', api.tokens, { name: 'another' }, bearer(token));
    expect([bred.status, bred.body.error.code]).toEqual([403, 'forbidden']);

    expect((await app.call('DELETE', api.token(id), undefined, { cookie })).status).toBe(204);
    expect((await app.call('GET', api.files, undefined, bearer(token))).status).toBe(401);
    expect((await app.call('DELETE', api.token(id), undefined, { cookie })).status).toBe(404);
    expect(await storedTokenRecords()).toEqual([]);
  });

  it("are scoped to their person: another person's token lists and revokes only its own", async () => {
    const tokens = new ApiTokens(app.storage);
    const theirs = await tokens.create(someone, 'their laptop');
    const mine = await app.call('POST', api.tokens, { name: 'mine' }, { cookie });

    const theirList = await app.call('GET', api.tokens, undefined, bearer(theirs.token));
    expect(theirList.body.tokens.map((t: { name: string }) => t.name)).toEqual(['their laptop']);
    expect((await app.call('DELETE', api.token(mine.body.id), undefined, bearer(theirs.token))).status).toBe(404);
    expect((await app.call('DELETE', api.token(theirs.id), undefined, { cookie })).status).toBe(404);
    expect((await app.call('GET', api.files, undefined, bearer(mine.body.token))).status).toBe(200);

    expect(await tokens.lookup(theirs.token)).toEqual({ person: { ...someone, admin: false }, tokenId: theirs.id });
    await tokens.revoke(someone, theirs.id);
    await app.call('DELETE', api.token(mine.body.id), undefined, { cookie });
  });

  it('wrong tokens shaped like personal ones still count against the per-client budget', async () => {
    const fresh = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD });
    try {
      const fake = `pbt_${'A'.repeat(43)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await fresh.call('GET', api.files, undefined, bearer(fake))).status);
      expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    } finally {
      await fresh.stop();
    }
  });
});

describe('the curl recipe in docs/accounts-admin.md', () => {
  it('uploads a file with a personal token and prints a share link that serves its bytes', async () => {
    const doc = await readFile(RECIPE_DOC, 'utf8');
    const script = /<!-- recipe: token-upload -->\n```sh\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(script).toBeTruthy();
    const recipeApp = await startTestPostbox({ POSTBOX_PASSWORD: PASSWORD, RATE_LIMIT_PER_MINUTE: '0' });
    const dir = await mkdtemp(path.join(tmpdir(), 'postbox-recipe-'));
    try {
      const session = (await recipeApp.call('POST', api.session, { password: PASSWORD })).headers.get('set-cookie')!.split(';')[0]!;
      const { token } = (await recipeApp.call('POST', api.tokens, { name: 'recipe' }, { cookie: session })).body as { token: string };
      const file = path.join(dir, 'report "final"; v2.txt');
      await writeFile(file, 'the bytes of the report\n');
      const { stdout } = await promisify(execFile)('bash', ['-c', script!], {
        env: { PATH: process.env.PATH, POSTBOX_URL: recipeApp.url, POSTBOX_TOKEN: token, FILE: file, TYPE: 'text/plain' },
      });
      const link = stdout.trim().split('\n').at(-1)!;
      expect(link).toMatch(new RegExp(`^${recipeApp.url}/s/`));
      const download = await fetch(link, { method: 'POST', redirect: 'follow' });
      expect(await download.text()).toBe('the bytes of the report\n');
    } finally {
      await recipeApp.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
