import { MULTIPART_SIGN_BATCH } from '../../../contract/api.ts';
import { ApiError } from '../errors.ts';

/** Ask for fresh part URLs when they have less than this left. */
export const URL_MARGIN_MS = 60_000;

type Sign = (partNumbers: number[]) => Promise<{ urls: Map<number, string>; expiresAt: number }>;

/**
 * Part URLs, signed in batches (one rate-limited request per batch of up to 100), one batch at a
 * time. A URL about to expire, or dropped because storage refused it, is signed again with the
 * next parts still to send that need one.
 */
export class PartUrls {
  private readonly urls = new Map<number, { url: string; expiresAt: number }>();
  private signing: Promise<void> | undefined;

  constructor(
    private readonly sign: Sign,
    /** Part numbers, in order, that will still be sent (not sent, not waiting to be checked). */
    private readonly stillToSend: () => Iterable<number>,
    private readonly now: () => number,
  ) {}

  private fresh(n: number) {
    const cached = this.urls.get(n);
    return cached && cached.expiresAt - this.now() > URL_MARGIN_MS ? cached.url : undefined;
  }

  async urlFor(n: number): Promise<string> {
    for (;;) {
      const url = this.fresh(n);
      if (url) return url;
      if (this.signing) {
        await this.signing; // another part's batch: it may have signed this one too
        continue;
      }
      this.signing = this.signBatch(n).finally(() => (this.signing = undefined));
      await this.signing;
      // Signed for this part just now: use it even if the server signs for less than the margin.
      const signed = this.urls.get(n);
      if (signed && signed.expiresAt > this.now()) return signed.url;
      throw new ApiError('unexpected_response', `The server signed no usable URL for part ${n}.`);
    }
  }

  /** Signs this part's URL now, if it has none, for a `urlFor` to come (which signs again if this fails). */
  prefetch(n: number): void {
    this.urlFor(n).catch(() => {});
  }

  /** Storage refused this URL (expired, or signed for something else): sign it again before the next try. */
  drop(n: number): void {
    this.urls.delete(n);
  }

  private async signBatch(n: number): Promise<void> {
    const batch = new Set([n]);
    for (const m of this.stillToSend()) {
      if (batch.size >= MULTIPART_SIGN_BATCH) break;
      if (!this.fresh(m)) batch.add(m);
    }
    const answer = await this.sign([...batch].sort((a, b) => a - b));
    for (const [partNumber, url] of answer.urls) this.urls.set(partNumber, { url, expiresAt: answer.expiresAt });
  }
}
