import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors/app-error.ts';
import { verifyPassword } from '../../shares/passwords.ts';
import { S3ShareStore } from '../../shares/s3-share-store.ts';
import {
  downloadStartedPage,
  gonePage,
  errorPage,
  missingPage,
  pageCsp,
  sharePage,
  tooManyOpensPage,
  tooManyTriesPage,
  unavailablePage,
} from '../../shares/share-pages.ts';
import { ShareService, type Downloaded, type Opened } from '../../shares/share-service.ts';
import { signDownloadLink } from '../../signing/download-links.ts';
import type { Storage } from '../../storage/storage.ts';
import { ShareRequest, type ShareLink, type ShareList } from '../../../contract/api.ts';
import { clientKey, FixedWindowLimiter, PasswordAttempts } from '../rate-limiter.ts';
import { requestOrigin } from '../request-origin.ts';
import { requireUploadKey } from '../upload-key.ts';

/** Share links kept in the bucket itself (shares/…), signing downloads with the storage's signer. */
export function createShareService(storage: Storage): ShareService {
  return new ShareService({
    store: new S3ShareStore(storage),
    storage,
    signDownload: ({ origin, ...input }) => signDownloadLink(storage.signerFor(origin), { bucket: storage.bucket, ...input }),
  });
}

/** Wrong passwords allowed per client address and per link in each window, before 429. */
export const PASSWORD_TRIES = { perClient: 10, perLink: 30, windowMs: 15 * 60_000 };

/** The JSON API, mounted inside /api (behind sign-in and the same-origin check). Links point at `publicUrl`, or at the request's own origin. */
/** `costlyRead` limits reads that cost storage a request per item, as signing is limited. */
export function shareApiRoutes(router: Router, service: ShareService, publicUrl: string | undefined, costlyRead: RequestHandler): void {
  const origin = (req: Request) => {
    const found = publicUrl ?? requestOrigin(req);
    if (!found) throw new AppError('invalid_request', 'The request does not say a valid host to build the link on (set PUBLIC_URL).');
    return found;
  };

  router.post('/files/:key/shares', async (req, res) => {
    const parts = requireUploadKey(req.params.key);
    const request = ShareRequest.parse(req.body);
    const linkOrigin = origin(req); // before the link exists: a refused request must create nothing
    const share = await service.create(req.params.key, parts, request);
    const link: ShareLink = service.toLink(share, linkOrigin);
    res.status(201).json(link);
  });

  router.get<{ key: string }>('/files/:key/shares', costlyRead, async (req, res) => {
    requireUploadKey(req.params.key);
    const shares = await service.list(req.params.key);
    const list: ShareList = { shares: shares.map((share) => service.toLink(share, origin(req))) };
    res.json(list);
  });

  router.delete('/shares/:id', async (req, res) => {
    if (!(await service.revoke(req.params.id))) throw new AppError('not_found', 'There is no such share link.');
    res.status(204).end();
  });
}

/**
 * The public pages at /s/:id, mounted on the app (no sign-in: the link is the permission).
 * GET shows the page (`?dl=1`: downloads at once when there is no password); POST downloads,
 * with `password` in a urlencoded body when the link has one. Downloads are redirects to a
 * presigned GET that lives 60 s; no file byte passes through Postbox.
 */
export function sharePageRoutes(
  service: ShareService,
  options: { storageOrigin: string; opensPerMinute: number; attempts?: PasswordAttempts },
): Router {
  const attempts = options.attempts ?? new PasswordAttempts(PASSWORD_TRIES);
  // Every open reads the link's record from storage: one client must not turn that into a flood
  // (or walk through guessed ids at storage's expense).
  const opens = options.opensPerMinute > 0 ? new FixedWindowLimiter({ limit: options.opensPerMinute, windowMs: 60_000 }) : undefined;
  const csp = pageCsp(options.storageOrigin);
  const router = Router();

  const html = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

  router.use('/s/:id', (req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Robots-Tag', 'noindex, nofollow');
    if (opens) {
      const client = clientKey(req.ip);
      const wait = opens.retryAfter(client);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        return void html(res, 429, tooManyOpensPage(wait));
      }
      opens.hit(client);
    }
    next();
  });

  /** Answers a link that does not work, or the download; false when the caller should show the page. */
  const answer = (res: Response, result: Opened | Downloaded, redirectStatus: 302 | 303): boolean => {
    if (result.kind === 'missing') html(res, 404, missingPage());
    else if (result.kind === 'gone') html(res, 410, gonePage(result.reason));
    else if (result.kind === 'download') res.redirect(redirectStatus, result.url);
    else return false;
    return true;
  };

  const guarded = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (res.headersSent) return void res.end();
      if (err instanceof AppError && err.code === 'storage_unavailable') {
        req.log.warn({ err: err.cause ?? err }, 'share link: storage unavailable');
        return void html(res, 503, unavailablePage());
      }
      if (err instanceof AppError && err.status < 500) return void html(res, err.status, errorPage()); // e.g. a Host not to sign for
      req.log.error({ err }, 'share link failed');
      html(res, 500, errorPage());
    }
  };

  router.get(
    '/s/:id',
    guarded(async (req, res) => {
      const opened = await service.open(String(req.params.id));
      if (answer(res, opened, 302) || opened.kind !== 'open') return;
      const askPassword = opened.share.password !== null;
      // HEAD never counts a download (link previewers send it).
      if (req.query.dl === '1' && !askPassword && req.method === 'GET') {
        answer(res, await service.download(opened.share.id, requestOrigin(req), opened), 302);
        return;
      }
      html(res, 200, sharePage({ share: opened.share, size: opened.size, askPassword }));
    }),
  );

  router.post(
    '/s/:id',
    express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 }),
    guarded(async (req, res) => {
      const opened = await service.open(String(req.params.id));
      if (answer(res, opened, 303) || opened.kind !== 'open') return;
      const { share, size } = opened;
      if (share.password) {
        const given: unknown = req.body?.password;
        if (typeof given !== 'string' || given === '') {
          html(res, 400, sharePage({ share, size, askPassword: true, passwordError: 'Enter the password to download this file.' }));
          return;
        }
        const client = clientKey(req.ip);
        const wait = attempts.begin(client, share.id);
        if (wait > 0) {
          res.setHeader('Retry-After', String(wait));
          html(res, 429, tooManyTriesPage(wait));
          return;
        }
        if (!(await verifyPassword(given, share.password))) {
          html(res, 403, sharePage({ share, size, askPassword: true, passwordError: 'That password is not right. Try again.' }));
          return;
        }
        attempts.succeeded(client, share.id);
      }
      const downloaded = await service.download(share.id, requestOrigin(req), opened);
      if (downloaded.kind === 'download') html(res, 200, downloadStartedPage(downloaded));
      else answer(res, downloaded, 303);
    }),
  );

  return router;
}
