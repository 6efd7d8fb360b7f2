import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FILE_PREFIXES, type RetentionSettings } from './lifecycle.ts';

const DAY_MS = 24 * 3600 * 1000;

export interface SweepResult {
  deletedFiles: number;
  abortedUploads: number;
}

export interface SweeperOptions {
  client: S3Client;
  bucket: string;
  settings: RetentionSettings;
  now?: () => number;
  /** Objects or uploads listed per prefix and run at most: a big bucket is swept over several runs. */
  maxListedPerRun?: number;
  onSwept?: (result: SweepResult) => void;
  onError?: (err: unknown) => void;
}

/**
 * The bucket's lifecycle rules (lifecycle.ts), applied by Postbox itself where storage has no
 * lifecycle engine (the embedded store): files older than `fileDays`, multipart uploads begun more
 * than `abortIncompleteUploadsDays` ago, under the file prefixes only. Each run lists a bounded
 * number of objects; what it does not reach, a later run does.
 */
export class RetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepResult>;
  /** Where each prefix's listing goes on at the next run (a big bucket is walked across runs). */
  private readonly resumeAfter = new Map<string, string>();

  constructor(private readonly options: SweeperOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Sweeps every `intervalMs` (first at once) until stop(); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    const tick = () => {
      this.runOnce().then(
        (result) => this.options.onSwept?.(result),
        (err: unknown) => this.options.onError?.(err),
      );
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep; a sweep already under way is joined, never run twice at once. */
  runOnce(): Promise<SweepResult> {
    this.running ??= this.sweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(): Promise<SweepResult> {
    const result: SweepResult = { deletedFiles: 0, abortedUploads: 0 };
    const { fileDays, abortIncompleteUploadsDays } = this.options.settings;
    for (const prefix of FILE_PREFIXES) {
      result.abortedUploads += await this.abortOld(prefix, this.now() - abortIncompleteUploadsDays * DAY_MS);
      if (fileDays !== undefined) result.deletedFiles += await this.deleteOld(prefix, this.now() - fileDays * DAY_MS);
    }
    return result;
  }

  private get maxListed(): number {
    return this.options.maxListedPerRun ?? 1000;
  }

  private async deleteOld(prefix: string, before: number): Promise<number> {
    const { client, bucket } = this.options;
    // ListObjects (v1) with a marker: s3rver's v2 continuation tokens use a cipher call newer Node lacks.
    const answer = await client.send(
      new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: this.resumeAfter.get(prefix), MaxKeys: this.maxListed }),
    );
    const contents = answer.Contents ?? [];
    const last = contents.at(-1)?.Key;
    if (answer.IsTruncated && last) this.resumeAfter.set(prefix, last);
    else this.resumeAfter.delete(prefix);
    let deleted = 0;
    for (const object of contents) {
      if (!object.Key || !object.LastModified || object.LastModified.getTime() > before) continue;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      deleted++;
    }
    return deleted;
  }

  /** The embedded store lists every upload at once (no pages): at most `maxListed` old ones are aborted per run. */
  private async abortOld(prefix: string, before: number): Promise<number> {
    const { client, bucket } = this.options;
    const answer = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, MaxUploads: this.maxListed }));
    const old = (answer.Uploads ?? []).filter(
      (upload) => upload.Key && upload.UploadId && upload.Initiated && upload.Initiated.getTime() <= before,
    );
    for (const upload of old.slice(0, this.maxListed)) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
    }
    return Math.min(old.length, this.maxListed);
  }
}
