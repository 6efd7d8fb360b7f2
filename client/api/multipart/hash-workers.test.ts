import { crc32, md5 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { hashBlobs } from './blob-hash.ts';
import { HashWorkers, type HashAnswer, type HashRequest, type HashWorker } from './hash-workers.ts';

const md5Of = (text: string) => md5(text);

/** An in-process stand-in for md5.worker.ts: it answers each job when the test releases it. */
class FakeWorker implements HashWorker {
  onmessage: ((event: MessageEvent<HashAnswer>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  readonly jobs: HashRequest[] = [];
  constructor(private readonly log: { running: number; most: number }) {}
  postMessage(request: HashRequest) {
    this.jobs.push(request);
    this.log.running++;
    this.log.most = Math.max(this.log.most, this.log.running);
  }
  async answer(answer?: Partial<HashAnswer>) {
    const job = this.jobs.shift()!;
    this.log.running--;
    const data = answer ? ({ id: job.id, ...answer } as HashAnswer) : { id: job.id, hexes: await hashBlobs(job.blobs, job.kind) };
    this.onmessage?.({ data } as MessageEvent<HashAnswer>);
  }
  fail() {
    this.jobs.shift();
    this.log.running--;
    this.onerror?.({ preventDefault() {} } as ErrorEvent);
  }
}

function pool(size: number) {
  const log = { running: 0, most: 0 };
  const workers: FakeWorker[] = [];
  const hashes = new HashWorkers(() => {
    const worker = new FakeWorker(log);
    workers.push(worker);
    return worker;
  }, size);
  return { hashes, workers, log };
}

/** One part's hash, as a job of one part. */
const hashOne = (hashes: HashWorkers, blob: Blob, kind: 'md5' | 'crc32', priority?: 'now' | 'ahead') =>
  hashes.hash([blob], kind, priority).then(([hex]) => hex);

/** Lets posted jobs and answers settle (promise callbacks only; no timers). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('HashWorkers', () => {
  it('answers each part with its own MD5, with at most `size` workers hashing at once', async () => {
    const { hashes, workers, log } = pool(2);
    const parts = ['one', 'two', 'three', 'four', 'five'];
    const answers = Promise.all(parts.map((text) => hashOne(hashes, new Blob([text]), 'md5')));
    for (let done = 0; done < parts.length; done++) {
      await settle();
      await workers.find((w) => w.jobs.length > 0)!.answer();
    }
    expect(await answers).toEqual(await Promise.all(parts.map(md5Of)));
    expect(workers).toHaveLength(2);
    expect(log.most).toBe(2);
  });

  it('hashes the parts of one job together in one worker, and answers their hashes in order', async () => {
    const { hashes, workers } = pool(2);
    const parts = ['one', 'two', 'three', 'four', 'five'];
    const answer = hashes.hash(
      parts.map((text) => new Blob([text])),
      'md5',
    );
    await settle();
    expect(workers.map((w) => w.jobs.length)).toEqual([1]);
    await workers[0]!.answer();
    expect(await answer).toEqual(await Promise.all(parts.map(md5Of)));
  });

  it('drops a job still waiting for a worker when its upload stops: it reads nothing, and the others go on', async () => {
    const { hashes, workers } = pool(1);
    const busy = hashOne(hashes, new Blob(['busy']), 'md5');
    const stop = new AbortController();
    const dropped = hashes.hash([new Blob(['stopped'])], 'md5', 'now', stop.signal);
    const kept = hashOne(hashes, new Blob(['kept']), 'md5');
    await settle();
    stop.abort();
    await expect(dropped).rejects.toThrow('The upload stopped.');
    await workers[0]!.answer();
    expect(await busy).toBe(await md5Of('busy'));
    await settle();
    expect(workers[0]!.jobs.map((job) => job.blobs[0]!.size)).toEqual([4]); // 'kept', not 'stopped'
    await workers[0]!.answer();
    expect(await kept).toBe(await md5Of('kept'));
  });

  it('fails the part whose hashing failed, and keeps the worker for the next part', async () => {
    const { hashes, workers } = pool(1);
    const failed = hashOne(hashes, new Blob(['a']), 'md5');
    await settle();
    await workers[0]!.answer({ error: 'NotReadableError' });
    await expect(failed).rejects.toThrow(/NotReadableError/);
    const next = hashOne(hashes, new Blob(['b']), 'md5');
    await settle();
    await workers[0]!.answer();
    expect(await next).toBe(await md5Of('b'));
    expect(workers).toHaveLength(1);
  });

  it('hashes in the page when a worker cannot run, this part and every later one', async () => {
    const { hashes, workers } = pool(2);
    const first = hashOne(hashes, new Blob(['first']), 'md5');
    await settle();
    workers[0]!.fail();
    expect(await first).toBe(await md5Of('first'));
    expect(await hashOne(hashes, new Blob(['second']), 'md5')).toBe(await md5Of('second'));
    expect(workers.flatMap((w) => w.jobs)).toEqual([]);
    expect(workers).toHaveLength(1);
  });

  it('warms up every worker before the first part, once, and hands parts to the warmed ones', async () => {
    const { hashes, workers } = pool(2);
    hashes.warm();
    hashes.warm();
    expect(workers).toHaveLength(2);
    const answers = Promise.all(['x', 'y', 'z'].map((text) => hashOne(hashes, new Blob([text]), 'crc32')));
    for (let done = 0; done < 3; done++) {
      await settle();
      await workers.find((w) => w.jobs.length > 0)!.answer();
    }
    expect(await answers).toEqual(await Promise.all(['x', 'y', 'z'].map((text) => crc32(text))));
    expect(workers).toHaveLength(2);
  });

  it('notices a warmed worker that fails while idle (its script did not load): parts are hashed in the page, nothing hangs', async () => {
    const { hashes, workers } = pool(2);
    hashes.warm();
    workers[1]!.onerror?.({ preventDefault() {} } as ErrorEvent);
    expect(await hashOne(hashes, new Blob(['after']), 'md5')).toBe(await md5Of('after'));
    expect(workers.flatMap((w) => w.jobs)).toEqual([]);
  });

  it('hashes in the page the jobs that waited for a worker that then failed', async () => {
    const { hashes, workers } = pool(1);
    const first = hashOne(hashes, new Blob(['first']), 'md5');
    const second = hashOne(hashes, new Blob(['second']), 'md5');
    await settle();
    workers[0]!.fail();
    expect(await Promise.all([first, second])).toEqual([await md5Of('first'), await md5Of('second')]);
  });

  it('gives a free worker to a part about to be sent before one hashed ahead, whatever came first', async () => {
    const { hashes, workers } = pool(1);
    const busy = hashOne(hashes, new Blob(['busy']), 'md5');
    const order: string[] = [];
    const ahead = hashOne(hashes, new Blob(['ahead']), 'md5', 'ahead').then(() => order.push('ahead'));
    const now = hashOne(hashes, new Blob(['now']), 'md5').then(() => order.push('now'));
    await settle();
    await workers[0]!.answer();
    await busy;
    await settle();
    expect(workers[0]!.jobs.map((job) => job.blobs[0]!.size)).toEqual([3]); // 'now'
    await workers[0]!.answer();
    await settle();
    await workers[0]!.answer();
    await Promise.all([ahead, now]);
    expect(order).toEqual(['now', 'ahead']);
  });
});
