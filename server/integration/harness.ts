import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../config/config.ts';
import type { UploadPolicy } from '../../contract/api.ts';
import { startPostbox, type RunningPostbox } from '../postbox.ts';

export interface TestPostbox extends RunningPostbox {
  /** Calls the API: JSON in, status and parsed JSON out (any: tests read the fields they assert on, of every endpoint's answer). */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers of all endpoints; no-unsafe-* are off for tests
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** The real app on a random port, with its own embedded S3 (or the storage `env` names) and data folder. */
export async function startTestPostbox(env: Record<string, string> = {}): Promise<TestPostbox> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'postbox-test-'));
  const config = loadConfig({ PORT: '0', POSTBOX_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
  const postbox = await startPostbox(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));

  return {
    ...postbox,
    async call(method, urlPath, body, headers = {}) {
      const response = await fetch(postbox.url + urlPath, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async stop() {
      await postbox.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Posts a file through a presigned POST the way the browser's form does: fields first, the file last. */
export async function postThroughPolicy(policy: UploadPolicy, bytes: Uint8Array, filename = 'file'): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields)) form.append(name, value);
  form.append('file', new Blob([Buffer.from(bytes)]), filename);
  return fetch(policy.url, { method: 'POST', body: form });
}
