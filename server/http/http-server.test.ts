import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../integration/loopback.ts';
import { createAppServer } from './http-server.ts';

const app = express();
app.use(express.json());
app.post('/echo/:name', (req, res) => {
  res.status(201).set('X-Name', req.params.name).json({ body: req.body, host: req.hostname });
});
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' });
});
app.get('/fails', () => {
  throw new Error('boom');
});
const born: Array<{ request: boolean; response: boolean }> = [];
let base: string;
let close: () => void;

beforeAll(async () => {
  const server = createAppServer(app);
  // Runs before Express's own listener: sees the objects as Node made them.
  server.prependListener('request', (req, res) => {
    born.push({ request: Object.getPrototypeOf(req) === app.request, response: Object.getPrototypeOf(res) === app.response });
  });
  ({ base, close } = await listenOnLoopback(server));
});
afterAll(() => close?.());

describe('createAppServer', () => {
  it("makes each request and response with the app's prototypes, so Express has none to change", async () => {
    born.length = 0;
    await fetch(`${base}/echo/a`, { method: 'POST' });
    await fetch(`${base}/nowhere`);
    expect(born).toEqual([
      { request: true, response: true },
      { request: true, response: true },
    ]);
  });

  it('serves the app as Node and Express would: routes, params, bodies, headers, HEAD, 404 and 500', async () => {
    const res = await fetch(`${base}/echo/r%C3%A9sum%C3%A9`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-name')).toBe('résumé');
    expect(await res.json()).toEqual({ body: { a: [1, 2] }, host: '127.0.0.1' });

    // A response knows a HEAD request only from the request Node passes to its constructor.
    const head = await fetch(`${base}/hello`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/fails`)).status).toBe(500);
  });
});
