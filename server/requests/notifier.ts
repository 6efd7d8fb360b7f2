import { createHmac, randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { formatBytes } from '../../contract/api.ts';
import type { ArrivedBatch } from './request-service.ts';

export interface NotifierOptions {
  /** The operator's webhook (REQUEST_WEBHOOK_URL), told about every link's arrivals, signed with `webhookSecret`. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** SMTP_URL: mail goes to the owner's e-mail, else to `mailTo`. */
  smtpUrl?: string;
  mailFrom: string;
  mailTo?: string;
  /** Where links point (PUBLIC_URL), else the origin the visit came to. */
  publicUrl?: string;
  logger: Logger;
  /** Waits before each retry of a webhook delivery (ms); the default backs off 1 s, 5 s, 30 s, 2 min, 10 min. */
  retryDelaysMs?: readonly number[];
  fetch?: typeof fetch;
}

export interface ArrivedEvent {
  event: 'request.files_received';
  deliveryId: string;
  request: { id: string; url: string; note: string | null };
  visitorName: string | null;
  files: { key: string; name: string; size: number; type: string }[];
  at: string;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
const WEBHOOK_TIMEOUT_MS = 10_000;

/** GitHub's form: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Tells requesters that files arrived: a signed webhook POST (retried with backoff) and one e-mail
 * per visit. Runs in the background: `arrived` returns at once, so the visitor never waits on it;
 * `idle()` resolves when everything queued so far is delivered or given up (for shutdown and tests).
 */
export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly mailer;

  constructor(private readonly options: NotifierOptions) {
    this.mailer = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  }

  arrived(batch: ArrivedBatch): void {
    const event = this.eventOf(batch, batch.origin);
    const body = JSON.stringify(event);
    const targets: { url: string; secret: string }[] = [];
    if (batch.record.webhookUrl) targets.push({ url: batch.record.webhookUrl, secret: batch.record.webhookSecret });
    if (this.options.webhookUrl && this.options.webhookSecret)
      targets.push({ url: this.options.webhookUrl, secret: this.options.webhookSecret });
    for (const target of targets) this.track(this.deliver(target.url, target.secret, body, event.deliveryId));
    const to = batch.record.owner.email ?? this.options.mailTo;
    if (this.mailer && to) this.track(this.mail(to, event));
  }

  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  close(): void {
    this.mailer?.close();
  }

  private eventOf(batch: ArrivedBatch, origin: string | undefined): ArrivedEvent {
    const base = this.options.publicUrl ?? origin ?? '';
    return {
      event: 'request.files_received',
      deliveryId: randomUUID(),
      request: { id: batch.record.id, url: `${base}/r/${batch.record.id}`, note: batch.record.note },
      visitorName: batch.visitorName,
      files: batch.files.map(({ key, name, size, type }) => ({ key, name, size, type })),
      at: new Date().toISOString(),
    };
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.options.logger.warn({ err }, 'request notification failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async deliver(url: string, secret: string, body: string, deliveryId: string): Promise<void> {
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const send = this.options.fetch ?? fetch;
    for (let attempt = 0; ; attempt++) {
      let status: number | string;
      try {
        const response = await send(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Postbox-Webhook',
            'x-postbox-event': 'request.files_received',
            'x-postbox-delivery': deliveryId,
            'x-postbox-signature': signatureOf(secret, body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return;
        status = response.status;
      } catch (err) {
        status = (err as Error).name;
      }
      if (attempt >= delays.length) throw new Error(`webhook gave up after ${attempt + 1} tries (last: ${status})`);
      this.options.logger.info({ deliveryId, status, attempt: attempt + 1 }, 'request webhook failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }

  private async mail(to: string, event: ArrivedEvent): Promise<void> {
    const count = event.files.length === 1 ? 'A file' : `${event.files.length} files`;
    const who = event.visitorName ? ` from ${event.visitorName}` : '';
    const lines = event.files.map((file) => `- ${file.name} (${formatBytes(file.size)})`);
    await this.mailer!.sendMail({
      from: this.options.mailFrom,
      to,
      subject: `${count} arrived${who} through your request link`,
      text: [
        `${count} arrived${who} through your request link${event.request.note ? ` "${event.request.note}"` : ''}:`,
        '',
        ...lines,
        '',
        `Request link: ${event.request.url}`,
        'The files are in your Postbox.',
      ].join('\n'),
    });
  }
}
