import { createServer } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../integration/loopback.ts';
import { jsonInOneWrite } from './json-response.ts';

const big = { name: 'Überweisung – März 2026.pdf', text: 'ä'.repeat(1500), list: [1, 2, 3] };
let base: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.response.json = jsonInOneWrite;
  app.get('/big', (_req, res) => {
    res.status(201).json(big);
  });
  app.get('/typed', (_req, res) => {
    res.type('application/problem+json').json({ ok: true });
  });
  ({ base, close } = await listenOnLoopback(createServer(app)));
});
afterAll(() => close?.());

describe('jsonInOneWrite', () => {
  it('sends the JSON with its status, a UTF-8 JSON type and its length in bytes', async () => {
    const res = await fetch(`${base}/big`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(JSON.stringify(big).length); // counted in bytes, not characters
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(big);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await fetch(`${base}/big`, { method: 'HEAD' });
    expect(res.status).toBe(201);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(big)));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('keeps a content type set before', async () => {
    const res = await fetch(`${base}/typed`);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toEqual({ ok: true });
  });
});
