import { hashBlobs, type PartHash } from './blob-hash.ts';

/** Parts to hash in one job: MD5s of up to four go through one SIMD pass (see hashBlobs). */
export interface HashRequest {
  id: number;
  blobs: Blob[];
  kind: PartHash;
}
export type HashAnswer = { id: number; hexes: string[] } | { id: number; error: string };

/** The part of a Worker this pool uses (tests give it in-process stand-ins). */
export interface HashWorker {
  postMessage(request: HashRequest): void;
  onmessage: ((event: MessageEvent<HashAnswer>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
}

/** `now`: a part about to be sent waits for it. `ahead`: a part to be sent later (taken only when no `now` job waits). */
export type HashPriority = 'now' | 'ahead';

type Waiter = (worker: HashWorker | undefined) => void;

/**
 * Hashes of parts in a few Web Workers, off the page's main thread: each job goes to an idle worker,
 * or waits for one (jobs for parts about to be sent first). A worker that fails (its script could not
 * load, say), even while idle, breaks the pool: its job and every waiting or later job are hashed in
 * the page instead, so an upload never depends on workers being available.
 */
export class HashWorkers {
  private readonly idle: HashWorker[] = [];
  private readonly waiting: Record<HashPriority, Waiter[]> = { now: [], ahead: [] };
  /** The job each busy worker has, to settle if that worker fails. */
  private readonly jobs = new Map<HashWorker, { request: HashRequest; settle: (hexes: string[] | Promise<string[]>) => void }>();
  private started = 0;
  private broken = false;
  private nextId = 1;

  constructor(
    private readonly spawn: () => HashWorker,
    private readonly size: number,
  ) {}

  /** Starts every worker now (each loads its script and compiles its hashes), before the first part needs one. */
  warm(): void {
    while (!this.broken && this.started < this.size) this.release(this.start());
  }

  /**
   * The hashes of these parts, in their order, hashed together in one worker. A job still waiting
   * for a worker when `signal` aborts is dropped (its upload stopped): it rejects and reads nothing.
   */
  async hash(blobs: Blob[], kind: PartHash, priority: HashPriority = 'now', signal?: AbortSignal): Promise<string[]> {
    const worker = this.broken ? undefined : await this.acquire(priority, signal);
    if (!worker) return hashBlobs(blobs, kind);
    try {
      return await this.run(worker, { id: this.nextId++, blobs, kind });
    } finally {
      this.release(worker);
    }
  }

  /** A new worker, with standing handlers: an error while it is idle breaks the pool too. */
  private start(): HashWorker {
    this.started++;
    const worker = this.spawn();
    worker.onmessage = ({ data }) => {
      const job = this.jobs.get(worker);
      if (!job || data.id !== job.request.id) return;
      this.jobs.delete(worker);
      job.settle('hexes' in data ? data.hexes : Promise.reject(new Error(`Hashing a part failed: ${data.error}`)));
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.breakPool();
      const job = this.jobs.get(worker);
      this.jobs.delete(worker);
      job?.settle(hashBlobs(job.request.blobs, job.request.kind)); // hashed here instead
    };
    return worker;
  }

  /** Workers cannot be relied on: every waiting job, and every later one, is hashed in the page. */
  private breakPool() {
    this.broken = true;
    this.idle.length = 0;
    for (const waiter of [...this.waiting.now.splice(0), ...this.waiting.ahead.splice(0)]) waiter(undefined);
  }

  private acquire(priority: HashPriority, signal?: AbortSignal): Promise<HashWorker | undefined> {
    if (signal?.aborted) return Promise.reject(new Error('The upload stopped.'));
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    if (this.started < this.size) return Promise.resolve(this.start());
    return new Promise((resolve, reject) => {
      const queue = this.waiting[priority];
      const drop = () => {
        queue.splice(queue.indexOf(waiter), 1);
        reject(new Error('The upload stopped.'));
      };
      const waiter: Waiter = (given) => {
        signal?.removeEventListener('abort', drop);
        resolve(given);
      };
      queue.push(waiter);
      signal?.addEventListener('abort', drop, { once: true });
    });
  }

  private release(worker: HashWorker) {
    if (this.broken) return;
    const next = this.waiting.now.shift() ?? this.waiting.ahead.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  private run(worker: HashWorker, request: HashRequest): Promise<string[]> {
    return new Promise<string[]>((settle) => {
      this.jobs.set(worker, { request, settle });
      worker.postMessage(request);
    });
  }
}

/** The page's pool: one worker per core, at most 4 (the parts in flight are about that many). */
export function pageHashWorkers(): HashWorkers {
  const cores = typeof navigator === 'undefined' ? 2 : navigator.hardwareConcurrency || 2;
  return new HashWorkers(
    () => new Worker(new URL('./hash.worker.ts', import.meta.url), { type: 'module' }),
    Math.min(4, Math.max(1, cores)),
  );
}
