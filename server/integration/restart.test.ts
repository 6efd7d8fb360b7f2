import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type FilePage, type UploadPolicy } from '../../contract/api.ts';
import { postThroughPolicy } from './harness.ts';

/** The real process (`server/main.ts`), as `npm start` runs it: stops cleanly on SIGTERM, keeps its files. */
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-restart-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function startProcess(): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const child = spawn('node_modules/.bin/tsx', ['server/main.ts'], {
    env: { ...process.env, PORT: '0', EMBEDDED_S3_PORT: '0', POSTBOX_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: string[] = [];
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      logs.push(line);
      const match = /Postbox is serving on (http:\/\/\S+)"/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before serving:\n${logs.join('\n')}`)));
  });
  return { child, url, logs };
}

it('stops cleanly on SIGTERM and finds its files again after a restart', async () => {
  const first = await startProcess();
  const signed = (await (
    await fetch(first.url + api.uploads, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kept.txt', size: 4, type: 'text/plain' }),
    })
  ).json()) as UploadPolicy;
  expect((await postThroughPolicy(signed, Buffer.from('kept'))).status).toBe(204);

  first.child.kill('SIGTERM');
  const [code] = await once(first.child, 'exit');
  expect(code).toBe(0);
  expect(first.logs.join('\n')).toContain('SIGTERM: finishing in-flight requests, then stopping');
  expect(first.logs.join('\n')).toContain('stopped cleanly');
  // No log line carries a signature.
  expect(first.logs.join('\n')).not.toContain('X-Amz-Signature');

  const second = await startProcess();
  try {
    const list = (await (await fetch(second.url + api.files)).json()) as FilePage;
    expect(list.files.map((f: { name: string }) => f.name)).toEqual(['kept.txt']);
  } finally {
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
  }
});
