import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { expect, it } from 'vitest';
import { listenOnLoopback } from '../integration/loopback.ts';
import { requestLogging } from './request-log.ts';

it('logs where share link ids were, never the ids (they work like passwords)', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = express();
  app.use(requestLogging(app, pino(sink), (url) => url.startsWith('/api/')));
  app.delete('/api/shares/:id', (_req, res) => void res.status(204).end());
  app.get('/s/:id', (req, res) => {
    req.log.warn('share link: storage unavailable');
    res.status(503).end();
  });
  const { base, close } = await listenOnLoopback(createServer(app));
  try {
    expect((await fetch(`${base}/api/shares/SECRETID1234567890abcd`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/s/SECRETID1234567890abcd?dl=1`)).status).toBe(503);
    expect((await fetch(`${base}/S/SECRETID1234567890abcd`)).status).toBe(503); // Express matches paths in any case
    await new Promise((resolve) => setTimeout(resolve, 50)); // the request line is written on close
  } finally {
    close();
  }
  const urls = lines.map((line) => JSON.parse(line).req.url);
  expect(urls.sort()).toEqual(['/S/<id>', '/api/shares/<id>', '/s/<id>?dl=1']);
  expect(lines.join('')).not.toContain('SECRETID');
});
