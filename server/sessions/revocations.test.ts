import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CreateBucketCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors/app-error.ts';
import { startThrowawayS3, type ThrowawayS3 } from '../integration/throwaway-s3.ts';
import { createS3Client } from '../storage/s3-client.ts';
import { REVOKED_PREFIX, SessionRevocations } from './revocations.ts';
import { newSessionId } from './session-token.ts';

// The embedded store always; a real S3 too when a Ceph RGW is running (scripts/ceph-rgw.sh, see rgw.test.ts).
const rgw = process.env.POSTBOX_RGW_ENDPOINT;
const stores = ['embedded', ...(rgw ? ['Ceph RGW'] : [])];

describe.each(stores)('SessionRevocations on %s', (store) => {
  let client: S3Client;
  let bucket: string;
  let throwaway: ThrowawayS3 | undefined;
  let endpoint: string;
  let credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  beforeAll(async () => {
    bucket = `revocations-${Date.now().toString(36)}`;
    if (store === 'embedded') {
      throwaway = await startThrowawayS3(bucket);
      client = throwaway.client;
      endpoint = throwaway.endpoint;
      credentials = await client.config.credentials();
    } else {
      endpoint = rgw ?? '';
      credentials = {
        accessKeyId: process.env.POSTBOX_RGW_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.POSTBOX_RGW_SECRET_ACCESS_KEY ?? '',
      };
      client = createS3Client(
        { region: 'us-east-1', endpoint: rgw, forcePathStyle: true, credentials },
        { maxAttempts: 3, retryMode: 'standard', timeoutMs: 10_000 },
      );
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  });
  afterAll(async () => {
    if (throwaway) await throwaway.stop();
    else client?.destroy();
  });
  const revocations = (now?: () => number, on = client) => new SessionRevocations(on, bucket, { cacheMs: 2000, maxAgeSeconds: 3600, now });
  /** A client of its own (through `via`, a switchable proxy, if given) that records the name of every command it sends. */
  const countingClient = (via?: Proxy) => {
    const own = via
      ? new S3Client({
          region: 'us-east-1',
          endpoint,
          forcePathStyle: true,
          credentials,
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({ httpAgent: via.agent }),
        })
      : createS3Client(
          { region: 'us-east-1', endpoint, forcePathStyle: true, credentials },
          { maxAttempts: 1, retryMode: 'standard', timeoutMs: 60_000 },
        );
    const sent: string[] = [];
    own.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const count = (name: string) => sent.filter((n) => n === name).length;
    return { client: own, count };
  };

  it('records a revocation in the bucket, outside uploads/ and shares/, where another instance finds it', async () => {
    const id = newSessionId();
    const here = revocations();
    const there = revocations();
    expect(await there.isRevoked(id)).toBe(false);
    await here.revoke(id);
    expect(await here.isRevoked(id)).toBe(true);
    expect(await revocations().isRevoked(id)).toBe(true);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`postbox/revoked-sessions/${id}`);
  });

  it('sweeps records older than the longest session, and keeps younger ones', async () => {
    let now = Date.now();
    const instance = revocations(() => now);
    await instance.revoke(newSessionId());
    expect(await instance.sweep()).toBe(0);
    now += 3661_000;
    expect(await instance.sweep()).toBeGreaterThanOrEqual(1);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: REVOKED_PREFIX }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('keeps refusing a revoked session, without asking the store again, however much time passes', async () => {
    let now = Date.now();
    const { client: own, count } = countingClient();
    const instance = revocations(() => now, own);
    const id = newSessionId();
    await instance.revoke(id);
    now += 365 * 86400_000;
    expect(await instance.isRevoked(id)).toBe(true);
    expect(count('HeadObjectCommand')).toBe(0);
    own.destroy();
  });

  it('reuses a "not revoked" answer for exactly cacheMs, then asks the store again', async () => {
    let now = Date.now();
    const { client: own, count } = countingClient();
    const instance = revocations(() => now, own);
    const id = newSessionId();
    expect(await instance.isRevoked(id)).toBe(false);
    expect(count('HeadObjectCommand')).toBe(1);
    now += 1999;
    expect(await instance.isRevoked(id)).toBe(false);
    expect(count('HeadObjectCommand')).toBe(1);
    // Revoked elsewhere: this instance sees it once its answer has expired.
    await revocations().revoke(id);
    now += 1;
    expect(await instance.isRevoked(id)).toBe(true);
    expect(count('HeadObjectCommand')).toBe(2);
    own.destroy();
  });

  it('turns an unreachable store into 503 storage_unavailable (never "not revoked"), and does not remember the failure', async () => {
    const proxy = await switchableProxy(endpoint);
    const { client: own } = countingClient(proxy);
    const instance = revocations(undefined, own);
    const id = newSessionId();
    proxy.mode = 'down';
    const refused = (work: Promise<unknown>) =>
      expect(work).rejects.toSatisfy((e) => e instanceof AppError && e.code === 'storage_unavailable');
    await refused(instance.isRevoked(id));
    await refused(instance.revoke(id));
    proxy.mode = 'up';
    expect(await instance.isRevoked(id)).toBe(false);
    own.destroy();
    await proxy.close();
  });

  it('a missing record means not revoked', async () => {
    expect(await revocations().isRevoked(newSessionId())).toBe(false);
  });

  it('bounds the cache: at 10,001 ids it drops the oldest 1,000, which are looked up again; the rest are reused', async () => {
    // The store never answers (each request is held before it is signed: 10,001 real ones take ~20 s), so every
    // lookup stays pending and cached; a cached answer is the very promise handed out before, a new lookup a new one.
    const { client: own } = countingClient();
    own.middlewareStack.add(() => () => new Promise(() => {}), { step: 'initialize', name: 'neverAnswer', priority: 'low' });
    const now = Date.now();
    const instance = revocations(() => now, own);
    const ask = (id: string | undefined) => instance.isRevoked(id ?? '');
    const ids = Array.from({ length: 10_001 }, () => newSessionId());
    const first = ids.slice(0, 10_000).map(ask);
    expect(ask(ids[0])).toBe(first[0]); // 10,000 fit
    const last = ask(ids[10_000]);
    expect(ask(ids[10_000])).toBe(last);
    expect(ask(ids[999])).not.toBe(first[999]);
    expect(ask(ids[1000])).toBe(first[1000]);
    expect(ask(ids[1001])).toBe(first[1001]);
    own.destroy();
  });

  it('sweeps from revoke at most once an hour', async () => {
    let now = Date.now();
    const { client: own, count } = countingClient();
    const instance = revocations(() => now, own);
    // The sweep runs in the background; a later command on the same client is sent after its listing.
    const revokeAndSettle = async () => {
      await instance.revoke(newSessionId());
      await own.send(new HeadBucketCommand({ Bucket: bucket }));
    };
    await revokeAndSettle();
    expect(count('ListObjectsV2Command')).toBe(1);
    now += 3600_000;
    await revokeAndSettle();
    expect(count('ListObjectsV2Command')).toBe(1);
    now += 1;
    await revokeAndSettle();
    expect(count('ListObjectsV2Command')).toBe(2);
    own.destroy();
  });

  it('sweeps a record exactly when it is older than the longest session plus a minute', async () => {
    const id = newSessionId();
    const key = REVOKED_PREFIX + id;
    await revocations().revoke(id);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    const written = listed.Contents?.[0]?.LastModified?.getTime() ?? NaN;
    let now = written + (3600 + 60) * 1000;
    const instance = revocations(() => now);
    await instance.sweep();
    expect(await revocations().isRevoked(id)).toBe(true);
    now += 1;
    await instance.sweep();
    expect(await revocations().isRevoked(id)).toBe(false);
  });

  // Equivalent mutants: `Contents ?? []` → `["Stryker was here"]` (a string has no Key, so it is skipped) and the
  // `!object.Key || !object.LastModified` guard (S3 always sends both); the record's body 'revoked' → '' (only its existence counts).
  // Open: `while (token)` → `while (false)` (a second listing page) needs 1,001 records; the embedded store answered
  // InternalError while they were written or listed, so it is not tested here.
});

interface Proxy {
  /** An HTTP agent whose connections go through the proxy (requests still name the store's host, which it checks). */
  agent: Agent;
  /** up: pass through; down: refuse connections. */
  mode: 'up' | 'down';
  close(): Promise<void>;
}

/** A TCP proxy in front of the store, to take it down and bring it back without restarting it. */
async function switchableProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (proxy.mode === 'down') return void socket.destroy();
    const upstream = connect(Number(port), hostname);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyPort = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: false, maxSockets: 1 });
  agent.createConnection = () => connect(proxyPort, '127.0.0.1');
  const proxy: Proxy = {
    agent,
    mode: 'up',
    async close() {
      agent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}
