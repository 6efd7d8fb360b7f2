import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { PartCheck } from '../../../contract/api.ts';
import { FakeServer, PART, depsFor, fakeTransport, fileOf, md5Of } from './fakes.test-support.ts';
import { base64OfHex } from './part-plan.ts';
import { MAX_ATTEMPTS, uploadMultipart, type MultipartProgress } from './orchestrator.ts';
import { URL_MARGIN_MS } from './part-urls.ts';
import { fileFingerprint } from './resume-record.ts';

const run = (file: File, deps: ReturnType<typeof depsFor>['deps'], options: { concurrency?: number; signal?: AbortSignal } = {}) => {
  const progress: MultipartProgress[] = [];
  const started: number[] = [];
  const result = uploadMultipart(
    file,
    {
      concurrency: options.concurrency ?? 3,
      signal: options.signal ?? new AbortController().signal,
      onProgress: (p) => progress.push(p),
      onStart: (bytes) => started.push(bytes),
    },
    deps,
  );
  return { result, progress, started };
};

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('the upload should have failed'),
    (err: unknown) => err as ApiError,
  );

const expectedParts = async (file: File) =>
  Promise.all(
    Array.from({ length: Math.ceil(file.size / PART) }, async (_, i) => ({
      partNumber: i + 1,
      etag: `"${await md5Of(file.slice(i * PART, (i + 1) * PART))}"`,
    })),
  );

describe('uploadMultipart', () => {
  it('sends every part once with its Content-MD5, completes with the ETags in order, and forgets its record', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server);
    const { deps } = depsFor(server, storage.transport);
    const file = fileOf(5 * PART + 17);
    const { result, progress, started } = run(file, deps);

    await expect(result).resolves.toEqual({ key: 'files/big.bin' });
    expect(storage.puts.map((p) => p.partNumber).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const md5Hex = await md5Of(file.slice(0, PART));
    const md5Base64 = btoa(String.fromCharCode(...md5Hex.match(/../g)!.map((pair) => parseInt(pair, 16))));
    expect(storage.puts.find((p) => p.partNumber === 1)?.contentMd5).toBe(md5Base64);
    expect(server.completes).toEqual([await expectedParts(file)]);
    expect(server.signed).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(started).toEqual([0]);
    expect(progress.at(-1)).toEqual({ loaded: file.size, total: file.size });
    expect(deps.records.fingerprints()).toEqual([]);
  });

  it('hashes parts four at a time, each group once, the next group while the parts before it go up (Content-MD5 uploads)', async () => {
    const server = new FakeServer();
    const order: string[] = [];
    const storage = fakeTransport(server);
    const transport: typeof storage.transport = (url, ...rest) => {
      order.push(`put ${new URL(url).searchParams.get('n')}`);
      return storage.transport(url, ...rest);
    };
    const { deps } = depsFor(server, transport);
    const file = fileOf(9 * PART);
    const parts = await Promise.all(Array.from({ length: 9 }, (_, i) => md5Of(file.slice(i * PART, (i + 1) * PART))));
    deps.hash = async (blobs, kind) => {
      expect(kind).toBe('md5');
      const hexes = await Promise.all(blobs.map(md5Of));
      order.push(`hash ${hexes.map((hex) => parts.indexOf(hex) + 1).join(',')}`);
      return hexes;
    };
    await run(file, deps, { concurrency: 4 }).result;
    expect(order.filter((step) => step.startsWith('hash'))).toEqual(['hash 1,2,3,4', 'hash 5,6,7,8', 'hash 9']);
    // Parts 5 to 8 are hashed before part 1 has gone up: the slot that frees first sends part 5 at once.
    expect(order.indexOf('hash 5,6,7,8')).toBeLessThan(order.indexOf('put 1'));
    expect(server.completes).toEqual([await expectedParts(file)]);
  });

  it("creates a new file's upload and sends its parts while its fingerprint is computed; the record comes after, and goes after that", async () => {
    const server = new FakeServer();
    const { deps } = depsFor(server, fakeTransport(server).transport);
    let release!: () => void;
    const fingerprinted = new Promise<void>((resolve) => (release = resolve));
    const fingerprint = deps.fingerprint;
    deps.fingerprint = async (file) => {
      await fingerprinted;
      return fingerprint(file);
    };
    const file = fileOf(2 * PART);
    const { result } = run(file, deps);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(server.created).toBe(1);
    expect(server.signed).toEqual([[1, 2]]);
    expect(deps.records.fingerprints()).toEqual([]);
    release();
    await expect(result).resolves.toEqual({ key: 'files/big.bin' });
    expect(server.completes).toHaveLength(1);
    expect(deps.records.fingerprints()).toEqual([]);
  });

  it('never has more parts in flight than its concurrency', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server);
    const { deps } = depsFor(server, storage.transport);
    await run(fileOf(12 * PART), deps, { concurrency: 2 }).result;
    expect(storage.puts).toHaveLength(12);
    expect(storage.maxInFlight()).toBe(2);
  });

  it('sends a failed part again after a backoff, saying which attempt it is on', async () => {
    const server = new FakeServer();
    // Part 2's connection breaks twice, then it goes through.
    const storage = fakeTransport(server, {
      script: (put, attempt) => (put.partNumber === 2 && attempt <= 2 ? { status: 0, etag: null, sentAnything: true } : undefined),
    });
    const { deps, waits } = depsFor(server, storage.transport);
    const file = fileOf(3 * PART);
    const { result, progress } = run(file, deps, { concurrency: 1 });

    await result;
    expect(storage.puts.map((p) => p.partNumber)).toEqual([1, 2, 2, 2, 3]);
    expect(waits).toHaveLength(2);
    expect(waits[1]!).toBeGreaterThan(waits[0]!);
    expect(progress.map((p) => p.retryAttempt).filter(Boolean)).toContain(3);
    expect(progress.at(-1)).toEqual({ loaded: file.size, total: file.size });
    expect(server.completes).toEqual([await expectedParts(file)]);
  });

  it(`gives up on a part after ${MAX_ATTEMPTS} attempts, keeping the upload (and its record) for Retry`, async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server, {
      script: (put) => (put.partNumber === 1 ? { status: 500, etag: null, storageCode: 'InternalError', sentAnything: true } : undefined),
    });
    const { deps } = depsFor(server, storage.transport);
    const file = fileOf(2 * PART);
    const error = await failureOf(run(file, deps, { concurrency: 1 }).result);

    expect(error).toMatchObject({ code: 'upload_rejected', storageCode: 'InternalError' });
    expect(storage.puts.filter((p) => p.partNumber === 1)).toHaveLength(MAX_ATTEMPTS);
    expect(storage.puts.filter((p) => p.partNumber === 2)).toHaveLength(0);
    expect(server.aborted).toEqual([]);
    expect(server.completes).toEqual([]);
    expect(deps.records.load(await fileFingerprint(file))).toMatchObject({ uploadId: 'upload-1' });
  });

  it('asks for a fresh URL when storage refuses one (403), without counting it as a failure', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server, {
      script: (put, attempt) =>
        put.partNumber === 1 && attempt === 1 ? { status: 403, etag: null, storageCode: 'AccessDenied', sentAnything: true } : undefined,
    });
    const { deps, waits } = depsFor(server, storage.transport);
    await run(fileOf(3 * PART), deps, { concurrency: 1 }).result;

    expect(server.signed).toEqual([[1, 2, 3], [1]]);
    const partOne = storage.puts.filter((p) => p.partNumber === 1);
    expect(partOne.map((p) => p.version)).toEqual([1, 2]);
    expect(waits).toEqual([]);
  });

  it('signs part URLs again before they expire, with the parts still to send', async () => {
    const server = new FakeServer();
    server.urlLifetimeMs = URL_MARGIN_MS + 30_000;
    // Each PUT takes 40 s of the fake clock: the URLs signed before it have less than the margin left after it.
    const storage = fakeTransport(server, {
      script: () => {
        server.clock.now += 40_000;
        return undefined;
      },
    });
    const { deps } = depsFor(server, storage.transport);
    await run(fileOf(3 * PART), deps, { concurrency: 1 }).result;

    expect(server.signed).toEqual([[1, 2, 3], [2, 3], [3]]);
    expect(storage.puts.map((p) => [p.partNumber, p.version])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it.each(PartCheck.options)(
    'resumes (%s): keeps the parts whose ETag is the MD5 of the local bytes and sends a replaced part again',
    async (partCheck) => {
      const server = Object.assign(new FakeServer(), { partCheck });
      const storage = fakeTransport(server);
      const { deps } = depsFor(server, storage.transport);
      const file = fileOf(4 * PART);
      await server.create();
      deps.records.save(await fileFingerprint(file), {
        key: 'files/big.bin',
        uploadId: 'upload-1',
        partSize: PART,
        partCheck,
        createdAt: server.clock.now,
        uploadToken: 't',
      });
      const partOne = `"${await md5Of(file.slice(0, PART))}"`;
      server.parts.set(1, { partNumber: 1, etag: partOne, size: PART });
      // Same length, other bytes: someone who could sign parts put them there.
      server.parts.set(2, { partNumber: 2, etag: `"${'0'.repeat(32)}"`, size: PART });
      // A short part 3 is not even a candidate.
      server.parts.set(3, { partNumber: 3, etag: `"${await md5Of(file.slice(2 * PART, 3 * PART))}"`, size: PART - 1 });

      const { result, started, progress } = run(file, deps, { concurrency: 1 });
      await result;

      expect(server.created).toBe(1);
      expect(started).toEqual([2 * PART]);
      expect(storage.puts.map((p) => p.partNumber)).toEqual([2, 3, 4]);
      expect(server.signed).toEqual([[2, 3, 4]]);
      expect(server.completes).toEqual([await expectedParts(file)]);
      expect(server.completes[0]![0]!.etag).toBe(partOne);
      expect(progress.at(-1)).toEqual({ loaded: file.size, total: file.size });
    },
  );

  it('starts a new upload when storage no longer has the recorded one', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server);
    const { deps } = depsFor(server, storage.transport);
    const file = fileOf(2 * PART);
    deps.records.save(await fileFingerprint(file), {
      key: 'files/old.bin',
      uploadId: 'lost',
      partSize: PART,
      partCheck: 'content-md5',
      createdAt: server.clock.now,
      uploadToken: 't',
    });

    await run(file, deps).result;
    expect(server.created).toBe(1);
    expect(storage.puts.map((p) => p.partNumber).sort()).toEqual([1, 2]);
  });

  it('keeps the uploadToken of the create answer in the resume record and hands it back', async () => {
    const server = new FakeServer();
    const created = server.create.bind(server);
    server.create = async () => ({ ...(await created()), uploadToken: 'opaque.token' });
    const seen: (string | undefined)[] = [];
    const signParts = server.signParts.bind(server);
    server.signParts = async (upload, numbers) => {
      seen.push(upload.uploadToken);
      return signParts(upload, numbers);
    };
    const pause = new AbortController();
    const storage = fakeTransport(server, {
      script: (put) => {
        if (put.partNumber !== 2) return undefined;
        queueMicrotask(() => pause.abort('pause'));
        return 'hold';
      },
    });
    const { deps } = depsFor(server, storage.transport);
    const file = fileOf(2 * PART);
    await failureOf(run(file, deps, { signal: pause.signal, concurrency: 2 }).result);

    expect(deps.records.load(await fileFingerprint(file))).toMatchObject({ uploadToken: 'opaque.token' });
    expect(seen).toEqual(['opaque.token']);
  });

  for (const reason of ['pause', 'cancel'] as const) {
    it(`${reason}: sends nothing once the signal aborts${reason === 'cancel' ? ', aborts the upload on storage and forgets it' : ' and keeps the upload'}`, async () => {
      const server = new FakeServer();
      const controller = new AbortController();
      // Part 4 never answers: it is in flight when the signal aborts.
      const storage = fakeTransport(server, {
        script: (put) => {
          if (put.partNumber !== 4) return undefined;
          queueMicrotask(() => controller.abort(reason));
          return 'hold';
        },
      });
      const { deps } = depsFor(server, storage.transport);
      const file = fileOf(8 * PART);
      // The fifth slot waits for part 5's MD5 (parts 5 to 8) when the signal aborts, and gets it after.
      const fifth = await md5Of(file.slice(4 * PART, 5 * PART));
      deps.hash = async (blobs) => {
        const hexes = await Promise.all(blobs.map(md5Of));
        if (hexes.includes(fifth)) await new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
        return hexes;
      };
      const error = await failureOf(run(file, deps, { signal: controller.signal, concurrency: 5 }).result);
      const putsWhenStopped = storage.puts.length;

      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe(reason === 'pause' ? 'paused' : 'cancelled');
      expect(storage.puts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
      expect(storage.puts.filter((p) => p.afterAbort)).toEqual([]);
      expect(server.completes).toEqual([]);
      const record = deps.records.load(await fileFingerprint(file));
      if (reason === 'pause') {
        expect(server.aborted).toEqual([]);
        expect(record).toMatchObject({ uploadId: 'upload-1' });
      } else {
        expect(server.aborted).toEqual(['files/big.bin']);
        expect(record).toBeUndefined();
      }
      // The upload has returned only after every part stopped: nothing more goes out.
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(storage.puts).toHaveLength(putsWhenStopped);
    });
  }

  it('forgets the upload when storage answers NoSuchUpload', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server, { script: () => ({ status: 404, etag: null, storageCode: 'NoSuchUpload', sentAnything: true }) });
    const { deps } = depsFor(server, storage.transport);
    const file = fileOf(2 * PART);
    const error = await failureOf(run(file, deps, { concurrency: 1 }).result);
    expect(error).toMatchObject({ code: 'upload_rejected', storageCode: 'NoSuchUpload' });
    expect(storage.puts).toHaveLength(1);
    expect(deps.records.load(await fileFingerprint(file))).toBeUndefined();
  });

  /** The bytes storage receives with one byte flipped (damaged on the way; same length, so the URL still takes them). */
  const damaged = async (body: Blob) => {
    const bytes = new Uint8Array(await body.arrayBuffer());
    bytes[7] = bytes[7]! ^ 0xff;
    return new Blob([bytes]);
  };

  /** A one-part upload whose bytes reach storage damaged on every try: how it failed, and what was sent. */
  const sentDamagedEveryTime = async (server: FakeServer) => {
    const file = fileOf(PART);
    const bad = await damaged(file);
    const storage = fakeTransport(server, { arrives: () => bad });
    const { deps } = depsFor(server, storage.transport);
    return { storage, error: await failureOf(run(file, deps).result) };
  };

  it.each(['answered-crc32', 'answered-md5'] as const)(
    '%s: sends each part without a Content-MD5 and completes once every answer storage gave is its own',
    async (partCheck) => {
      const server = Object.assign(new FakeServer(), { partCheck });
      const storage = fakeTransport(server);
      const { deps, waits } = depsFor(server, storage.transport);
      const file = fileOf(5 * PART + 9);
      await expect(run(file, deps).result).resolves.toEqual({ key: 'files/big.bin' });
      expect(storage.puts).toHaveLength(6);
      expect(storage.puts.every((p) => p.contentMd5 === undefined)).toBe(true);
      expect(server.completes).toEqual([await expectedParts(file)]);
      expect(waits).toEqual([]);
    },
  );

  describe('where storage answers the CRC32 it received (the embedded store)', () => {
    const crcServer = () => Object.assign(new FakeServer(), { partCheck: 'answered-crc32' as const });

    it('sends a part again when storage received other bytes, and completes with the good part', async () => {
      const server = crcServer();
      const file = fileOf(3 * PART);
      const second = await damaged(file.slice(PART, 2 * PART));
      const storage = fakeTransport(server, { arrives: (put, attempt, body) => (put.partNumber === 2 && attempt === 1 ? second : body) });
      const { deps, waits } = depsFor(server, storage.transport);
      const { result, progress } = run(file, deps);
      await expect(result).resolves.toEqual({ key: 'files/big.bin' });
      expect(storage.puts.filter((p) => p.partNumber === 2)).toHaveLength(2);
      expect(server.completes).toEqual([await expectedParts(file)]);
      expect(waits).toHaveLength(1);
      expect(progress.some((p) => p.retryAttempt === 2)).toBe(true);
      expect(Math.max(...progress.map((p) => p.loaded))).toBe(file.size); // the damaged part never counted as sent
    });

    it('gives up after MAX_ATTEMPTS damaged arrivals, as after as many BadDigest refusals, and completes nothing', async () => {
      const server = crcServer();
      const { storage, error } = await sentDamagedEveryTime(server);
      expect(error).toMatchObject({ code: 'upload_rejected', storageCode: 'BadDigest' });
      expect(storage.puts).toHaveLength(MAX_ATTEMPTS);
      expect(server.completes).toEqual([]);
    });

    it('refuses to count a part storage accepted without saying its CRC32', async () => {
      const server = crcServer();
      const storage = fakeTransport(server, { script: () => ({ status: 200, etag: '"x"', sentAnything: true }) });
      const { deps } = depsFor(server, storage.transport);
      expect(await failureOf(run(fileOf(PART), deps).result)).toMatchObject({ code: 'etag_hidden' });
      expect(server.completes).toEqual([]);
    });
  });

  describe('where storage answers the MD5 it received as the ETag (external stores)', () => {
    const etagServer = () => Object.assign(new FakeServer(), { partCheck: 'answered-md5' as const });

    it('sends a part before its MD5 is known: the ETag is checked once both are there', async () => {
      const server = etagServer();
      const storage = fakeTransport(server);
      const { deps } = depsFor(server, storage.transport);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const hash = deps.hash;
      deps.hash = async (...args) => {
        await held;
        return hash(...args);
      };
      const { result } = run(fileOf(3 * PART), deps);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(storage.puts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
      expect(server.completes).toEqual([]);
      release();
      await expect(result).resolves.toEqual({ key: 'files/big.bin' });
    });

    it('sends a part that arrived damaged again at once, with its Content-MD5, and keeps sending the others without', async () => {
      const server = etagServer();
      const file = fileOf(6 * PART);
      const second = await damaged(file.slice(PART, 2 * PART));
      const storage = fakeTransport(server, { arrives: (put, attempt, body) => (put.partNumber === 2 && attempt === 1 ? second : body) });
      const { deps, waits } = depsFor(server, storage.transport);
      const { result, progress } = run(file, deps, { concurrency: 1 });
      await expect(result).resolves.toEqual({ key: 'files/big.bin' });
      const md5 = base64OfHex(await md5Of(file.slice(PART, 2 * PART)));
      expect(storage.puts.map((p) => [p.partNumber, p.contentMd5 ?? null])).toEqual([
        [1, null],
        [2, null],
        [2, md5],
        [3, null],
        [4, null],
        [5, null],
        [6, null],
      ]);
      expect(server.completes).toEqual([await expectedParts(file)]);
      expect(waits).toEqual([]); // no backoff: the bytes went again with a check storage makes itself
      expect(Math.max(...progress.map((p) => p.loaded))).toBe(file.size); // the damaged part never counted as sent
    });

    it('gives up after MAX_ATTEMPTS refusals of a part storage keeps receiving damaged, and completes nothing', async () => {
      const server = etagServer();
      const { storage, error } = await sentDamagedEveryTime(server);
      expect(error).toMatchObject({ code: 'upload_rejected', storageCode: 'BadDigest' });
      // The first try, then MAX_ATTEMPTS with Content-MD5, each refused.
      expect(storage.puts.map((p) => p.contentMd5 !== undefined)).toEqual([false, ...Array<boolean>(MAX_ATTEMPTS).fill(true)]);
      expect(server.completes).toEqual([]);
    });

    it('where ETags are not MD5s (SSE-KMS), sends the parts in flight again with their Content-MD5, and the later ones with it from the start', async () => {
      const server = etagServer();
      const storage = fakeTransport(server, { etagOf: (md5) => `kms-${md5.slice(0, 8)}` });
      const { deps, waits } = depsFor(server, storage.transport);
      const file = fileOf(8 * PART);
      const { result, progress } = run(file, deps, { concurrency: 4 });
      await expect(result).resolves.toEqual({ key: 'files/big.bin' });
      const sent = (n: number) => storage.puts.filter((p) => p.partNumber === n).map((p) => p.contentMd5 !== undefined);
      for (const n of [1, 2, 3, 4]) expect(sent(n)).toEqual([false, true]);
      for (const n of [5, 6, 7, 8]) expect(sent(n)).toEqual([true]);
      expect(waits).toEqual([]);
      expect(progress.some((p) => p.retryAttempt)).toBe(false);
      expect(server.completes).toEqual([[1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ partNumber: n, etag: server.parts.get(n)!.etag }))]);
    });

    it('once an ETag was its MD5, counts no part whose ETag differs, even where a Content-MD5 was not enforced on the way', async () => {
      const server = etagServer();
      const file = fileOf(3 * PART);
      const second = await damaged(file.slice(PART, 2 * PART));
      // Part 2 arrives damaged twice, and storage (behind a proxy that drops the header) does not check its Content-MD5.
      const storage = fakeTransport(server, {
        ignoresContentMd5: true,
        arrives: (put, attempt, body) => (put.partNumber === 2 && attempt <= 2 ? second : body),
      });
      const { deps, waits } = depsFor(server, storage.transport);
      await expect(run(file, deps, { concurrency: 1 }).result).resolves.toEqual({ key: 'files/big.bin' });
      expect(storage.puts.filter((p) => p.partNumber === 2)).toHaveLength(3);
      expect(waits).toHaveLength(1); // the second damaged arrival counts as a failed try
      expect(server.completes).toEqual([await expectedParts(file)]);
      expect(storage.puts.find((p) => p.partNumber === 3)?.contentMd5).toBeUndefined(); // still checked by its ETag
    });
  });

  it('pauses at once while a part waits for its group to be hashed, and drops the hash jobs still waiting', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server);
    const { deps } = depsFor(server, storage.transport);
    const signals: AbortSignal[] = [];
    deps.hash = (_parts, _kind, _priority, signal) => {
      signals.push(signal);
      return new Promise(() => {}); // a group that takes for ever to read
    };
    const controller = new AbortController();
    const { result } = run(fileOf(8 * PART), deps, { signal: controller.signal, concurrency: 2 });
    await new Promise((resolve) => setTimeout(resolve, 0));
    controller.abort('pause');
    expect(await failureOf(result)).toMatchObject({ code: 'paused' });
    expect(storage.puts).toEqual([]);
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('says so when storage hides the ETag (a CORS rule without ExposeHeaders)', async () => {
    const server = new FakeServer();
    const storage = fakeTransport(server, { script: () => ({ status: 200, etag: null, sentAnything: true }) });
    const { deps } = depsFor(server, storage.transport);
    expect(await failureOf(run(fileOf(PART), deps).result)).toMatchObject({ code: 'etag_hidden' });
  });

  it('lets a Complete already sent finish when Cancel comes meanwhile: the file lands, nothing is aborted', async () => {
    const server = new FakeServer();
    let release!: () => void;
    server.completeHeld = new Promise<void>((resolve) => (release = resolve));
    const controller = new AbortController();
    server.onComplete = () => {
      controller.abort('cancel');
      release();
    };
    const { deps } = depsFor(server, fakeTransport(server).transport);
    await expect(run(fileOf(2 * PART), deps, { signal: controller.signal }).result).resolves.toEqual({ key: 'files/big.bin' });
    expect(server.aborted).toEqual([]);
    expect(server.completes).toHaveLength(1);
  });

  it('asks Complete again when its answer is lost, but not after a refusal', async () => {
    const server = new FakeServer();
    server.completeFailures = [new ApiError('storage_unavailable', 'Bad gateway.')];
    const { deps, waits } = depsFor(server, fakeTransport(server).transport);
    await run(fileOf(2 * PART), deps).result;
    expect(server.completes).toHaveLength(2);
    expect(waits).toHaveLength(1);

    const refused = new FakeServer();
    refused.completeFailures = [new ApiError('invalid_request', 'Parts do not match.')];
    const second = depsFor(refused, fakeTransport(refused).transport);
    expect(await failureOf(run(fileOf(2 * PART), second.deps).result)).toMatchObject({ code: 'invalid_request' });
    expect(refused.completes).toHaveLength(1);
  });
});
