import { createServer } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../errors/error-handler.ts';
import { listenOnLoopback } from '../integration/loopback.ts';
import { jsonBody } from './json-body.ts';

const LIMIT = 1024;
let port: number;
let close: () => void;

beforeAll(async () => {
  const app = express();
  const logger = pino({ level: 'silent' });
  app.use((req, _res, next) => {
    req.log = logger;
    next();
  });
  app.use(jsonBody(LIMIT));
  app.post('/echo', (req, res) => {
    // null: taken whole by read(); true: streamed as it arrived.
    res.setHeader('X-Read', String(req.readableFlowing));
    res.json({ body: req.body ?? null });
  });
  app.use(errorHandler);
  ({ port, close } = await listenOnLoopback(createServer(app)));
});
afterAll(() => close?.());

/**
 * Sends a raw request and returns [status, parsed body]. `pieces` are written in turn with a pause
 * between them: one piece is a request whose headers and body arrive in the same packet (read
 * from the buffer whole), several make the body come after the headers (read as it arrives).
 */
async function send(pieces: (string | Buffer)[]): Promise<[number, unknown]> {
  return (await sendReading(pieces)).slice(0, 2) as [number, unknown];
}

/** send(), and how the body was read (the X-Read header of a 200). */
async function sendReading(pieces: (string | Buffer)[]): Promise<[number, unknown, string | undefined]> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const received: Buffer[] = [];
  socket.on('data', (chunk) => received.push(chunk));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  for (const [i, piece] of pieces.entries()) {
    if (i > 0) await sleep(30);
    socket.write(piece);
  }
  await ended;
  const text = Buffer.concat(received).toString('utf8');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const reading = /\r\nX-Read: (\w+)\r\n/i.exec(text)?.[1];
  return [status, JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), reading];
}

const head = (headers: Record<string, string | number>) =>
  `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
const json = (body: string | Buffer) => head({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
const chunked = (...chunks: string[]) => chunks.map((chunk) => `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
const CHUNKED = head({ 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });

const value = { name: 'Überweisung – März 2026.pdf', size: 42, list: [1, 2] };
const text = JSON.stringify(value);

// Every case runs with the body in the headers' packet (read whole) and with the body arriving later (streamed).
const deliveries = {
  'in the same packet as the headers': { deliver: (headers: string, body: string) => [headers + body], reading: 'null' },
  'after the headers, in two pieces': { deliver: (headers: string, body: string) => [headers, body.slice(0, 10), body.slice(10)], reading: 'true' },
};

describe.each(Object.entries(deliveries))('jsonBody, body %s', (_, { deliver, reading }) => {
  it('puts a JSON object or array in req.body', async () => {
    expect(await sendReading(deliver(json(text), text))).toEqual([200, { body: value }, reading]);
    expect(await send(deliver(json('[1,2,3] '), '[1,2,3] '))).toEqual([200, { body: [1, 2, 3] }]);
  });

  it('skips a byte order mark', async () => {
    const withBom = `\uFEFF${text}`;
    expect(await send(deliver(json(withBom), withBom))).toEqual([200, { body: value }]);
  });

  it('reads a chunked body', async () => {
    expect(await send(deliver(CHUNKED, chunked(text.slice(0, 7), text.slice(7))))).toEqual([200, { body: value }]);
  });

  it('refuses text that is not JSON, and JSON that is not an object or an array', async () => {
    for (const body of ['{"name":', '"a.txt"', '42', 'null']) {
      const [status, answer] = await send(deliver(json(body.padEnd(12)), body.padEnd(12)));
      expect([status, (answer as { error: { code: string } }).error.code]).toEqual([400, 'invalid_json']);
    }
  });

  it('refuses a chunked body past the limit', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(LIMIT) });
    const [status, answer] = await send(deliver(CHUNKED, chunked(big)));
    expect([status, (answer as { error: { code: string } }).error.code]).toEqual([413, 'body_too_large']);
  });

  it('refuses an empty chunked body as invalid JSON', async () => {
    const [status, answer] = await send(deliver(CHUNKED, chunked()));
    expect([status, (answer as { error: { code: string } }).error.code]).toEqual([400, 'invalid_json']);
  });
});

describe('jsonBody', () => {
  it('refuses a declared length past the limit before reading', async () => {
    const [status, answer] = await send([head({ 'Content-Type': 'application/json', 'Content-Length': LIMIT + 1 })]);
    expect([status, (answer as { error: { code: string } }).error.code]).toEqual([413, 'body_too_large']);
  });

  it('lets a request without a body through', async () => {
    expect(await send([head({ 'Content-Length': 0 })])).toEqual([200, { body: null }]);
  });
});
