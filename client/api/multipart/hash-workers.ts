import { hashBlob, type PartHash } from './blob-hash.ts';

export interface HashRequest {
  id: number;
  blob: Blob;
  kind: PartHash;
}
export type HashAnswer = { id: number; hex: string } | { id: number; error: string };

/** The part of a Worker this pool uses (tests give it in-process stand-ins). */
export interface HashWorker {
  postMessage(request: HashRequest): void;
  onmessage: ((event: MessageEvent<HashAnswer>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
}

/**
 * Hashes of parts in a few Web Workers, off the page's main thread: each job goes to an idle worker,
 * or waits for one. A worker that fails (it could not start, say) fails its job, and later jobs
 * are hashed in the page instead, so an upload never depends on workers being available.
 */
export class HashWorkers {
  private readonly idle: HashWorker[] = [];
  private readonly waiting: Array<(worker: HashWorker) => void> = [];
  private started = 0;
  private broken = false;
  private nextId = 1;

  constructor(
    private readonly spawn: () => HashWorker,
    private readonly size: number,
  ) {}

  /** Starts every worker now (each loads its script and compiles its hashes), before the first part needs one. */
  warm(): void {
    while (!this.broken && this.started < this.size) {
      this.started++;
      this.release(this.spawn());
    }
  }

  async hash(blob: Blob, kind: PartHash): Promise<string> {
    if (this.broken) return hashBlob(blob, kind);
    const worker = await this.acquire();
    try {
      return await this.run(worker, { id: this.nextId++, blob, kind });
    } finally {
      this.release(worker);
    }
  }

  private acquire(): Promise<HashWorker> {
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    if (this.started < this.size) {
      this.started++;
      return Promise.resolve(this.spawn());
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: HashWorker) {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  private run(worker: HashWorker, job: HashRequest): Promise<string> {
    return new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.id !== job.id) return;
        if ('hex' in data) resolve(data.hex);
        else reject(new Error(`Hashing a part failed: ${data.error}`));
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        this.broken = true;
        resolve(hashBlob(job.blob, job.kind)); // the worker could not run: hash this part here, and the next ones
      };
      worker.postMessage(job);
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
