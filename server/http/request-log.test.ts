import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { errorHandler } from '../errors/error-handler.ts';
import { listenOnLoopback, type Listening } from '../integration/loopback.ts';
import { jsonBody } from './json-body.ts';
import { requestLogging } from './request-log.ts';

const SHARE_ID = 'SECRETID1234567890abcd';
const TOKEN = 'Bearer TOKEN-never-logged-0123456789';
const COOKIE = 'postbox_session=COOKIE-never-logged';
const PASSWORD = 'PASSWORD-never-logged';

/** A line pino-http wrote, parsed: what the tests read by name is typed, the rest goes to toMatchObject and Object.keys. */
interface LogLine {
  msg: string;
  req: { id: string; url: string };
  res: { statusCode: number };
  err?: { message: string };
  [field: string]: unknown;
}

let lines: LogLine[] = [];
let waiting: { count: number; resolve: () => void } | undefined;
/** Resolves once the log holds `count` lines: the request line is written when the response is done, after the client may have it. */
const logLines = (count: number) =>
  new Promise<LogLine[]>((resolve) => {
    const done = () => resolve(lines);
    if (lines.length >= count) done();
    else waiting = { count, resolve: done };
  });

const sink = new Writable({
  write(chunk, _encoding, callback) {
    lines.push(JSON.parse(String(chunk)));
    if (waiting && lines.length >= waiting.count) waiting.resolve();
    callback();
  },
});

let server: Listening;
beforeAll(async () => {
  const app = express();
  app.use(requestLogging(pino({ base: undefined }, sink), (url) => url.startsWith('/api/')));
  app.use('/api', jsonBody(1024));
  app.post('/api/session', (_req, res) => void res.status(204).end());
  app.delete('/api/shares/:id', (_req, res) => void res.status(204).end());
  app.get('/api/broken', () => {
    throw new AppError('storage_unavailable', 'Storage is down.', { cause: new Error('connect ECONNREFUSED') });
  });
  app.get('/s/:id', (req, res) => {
    req.log.warn('share link: storage unavailable');
    res.status(503).end();
  });
  app.get('/page', (_req, res) => void res.send('page'));
  app.use(errorHandler);
  server = await listenOnLoopback(createServer(app));
});
afterAll(() => server?.close());
beforeEach(() => {
  lines = [];
});

it('logs where share link ids were, never the ids (they work like passwords)', async () => {
  expect((await fetch(`${server.base}/api/shares/${SHARE_ID}`, { method: 'DELETE' })).status).toBe(204);
  expect((await fetch(`${server.base}/s/${SHARE_ID}?dl=1`)).status).toBe(503);
  expect((await fetch(`${server.base}/S/${SHARE_ID}`)).status).toBe(503); // Express matches paths in any case
  const logged = await logLines(3);
  expect(logged.map((line) => line.req.url).sort()).toEqual(['/S/<id>', '/api/shares/<id>', '/s/<id>?dl=1']);
  expect(JSON.stringify(logged)).not.toContain('SECRETID');
});

it('logs one line per API request with id, method, URL, status and time: never headers, cookies, tokens or bodies', async () => {
  const response = await fetch(`${server.base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: TOKEN, cookie: COOKIE, 'x-request-id': 'client-chosen-id' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  expect(response.status).toBe(204);
  const [line] = await logLines(1);
  expect(Object.keys(line!).sort()).toEqual(['level', 'msg', 'req', 'res', 'responseTime', 'time']);
  expect(line).toMatchObject({
    level: 30,
    msg: 'request completed',
    req: { method: 'POST', url: '/api/session' },
    res: { statusCode: 204 },
  });
  expect(Object.keys(line!.req).sort()).toEqual(['id', 'method', 'url']);
  expect(line!.req.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(Object.keys(line!.res)).toEqual(['statusCode']);
  const text = JSON.stringify(lines);
  for (const secret of ['TOKEN-never', 'COOKIE-never', PASSWORD, 'client-chosen-id']) expect(text).not.toContain(secret);
});

it('logs no line for pages, only for the API', async () => {
  expect((await fetch(`${server.base}/page`)).status).toBe(200);
  expect((await fetch(`${server.base}/api/shares/x`, { method: 'DELETE' })).status).toBe(204);
  const logged = await logLines(1);
  expect(logged.map((line) => line.req.url)).toEqual(['/api/shares/<id>']);
});

it('logs a failure once with its cause (the error handler), and the request line without it', async () => {
  expect((await fetch(`${server.base}/api/broken`)).status).toBe(503);
  const logged = await logLines(2);
  const [cause, request] = [logged.find((line) => line.err), logged.find((line) => line.msg === 'request errored')];
  expect(cause).toMatchObject({
    level: 50,
    code: 'storage_unavailable',
    err: { message: 'connect ECONNREFUSED' },
    req: { url: '/api/broken' },
  });
  expect(request).toMatchObject({ res: { statusCode: 503 }, req: { id: cause!.req.id } });
  expect(request!.err).toBeUndefined();
});
