import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.ts';
import { verifyPassword } from '../../shares/passwords.ts';
import { S3ShareStore } from '../../shares/s3-share-store.ts';
import { PasswordThrottle, type PasswordAttempts } from '../../shares/password-throttle.ts';
import {
  crossSitePage,
  downloadStartedPage,
  errorPage,
  gonePage,
  missingPage,
  pageCsp,
  passwordInAddressPage,
  sharePage,
  tooManyOpensPage,
  tooManyTriesPage,
  unavailablePage,
  unreadableFormPage,
} from '../../shares/share-pages.ts';
import { ShareService, type Downloaded, type Opened } from '../../shares/share-service.ts';
import { signDownloadLink } from '../../signing/download-links.ts';
import type { Storage } from '../../storage/storage.ts';
import { ShareRequest, type ShareLink, type ShareList } from '../../../contract/api.ts';
import { rateLimit } from 'express-rate-limit';
import { clientOf, retryAfterOf } from '../rate-limiter.ts';
import { requestOrigin } from '../request-origin.ts';
import type { SharedLimits } from '../shared-limits.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';
import { parseUploadKey } from '../../signing/object-keys.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import { audit, linkFingerprint } from '../audit.ts';
import { ownerOfSpace } from '../../people/usage.ts';

/** Share links kept in the bucket itself (shares/…), signing downloads with the storage's signer. */
export function createShareService(storage: Storage): ShareService {
  return new ShareService({
    store: new S3ShareStore(storage),
    storage,
    signDownload: ({ origin, ...input }) => signDownloadLink(storage.signerFor(origin), { bucket: storage.bucket, ...input }),
  });
}

/** The JSON API, mounted inside /api (behind sign-in and the same-origin check). Links point at `publicUrl`, or at the request's own origin. */
/** `costlyRead` limits reads that cost storage a request per item, as signing is limited. */
/** `files` tells a missing file (404) from one without links, as another person's key answers 404. */
export function shareApiRoutes(
  router: Router,
  service: ShareService,
  publicUrl: string | undefined,
  costlyRead: RequestHandler,
  files?: Pick<UploadsStore, 'assertExists'>,
): void {
  const origin = (req: Request) => {
    const found = publicUrl ?? requestOrigin(req);
    if (!found) throw new AppError('invalid_request', 'The request does not say a valid host to build the link on (set PUBLIC_URL).');
    return found;
  };

  router.post('/files/:key/shares', async (req, res) => {
    const parts = requireOwnKey(res, req.params.key);
    const request = ShareRequest.parse(req.body);
    const linkOrigin = origin(req); // before the link exists: a refused request must create nothing
    const share = await service.create(req.params.key, parts, request);
    audit(res, 'share.create', { file: req.params.key, link: linkFingerprint(share.id) });
    const link: ShareLink = service.toLink(share, linkOrigin);
    res.status(201).json(link);
  });

  router.get<{ key: string }>('/files/:key/shares', costlyRead, async (req, res) => {
    requireOwnKey(res, req.params.key);
    const shares = await service.list(req.params.key);
    // Links are deleted before their file: none left may mean no file.
    if (shares.length === 0) await files?.assertExists(req.params.key);
    const list: ShareList = { shares: shares.map((share) => service.toLink(share, origin(req))) };
    res.json(list);
  });

  router.delete('/shares/:id', async (req, res) => {
    const space = personOf(res).space;
    const owns = (fileKey: string) => parseUploadKey(fileKey)?.space === space;
    if (!(await service.revoke(req.params.id, owns))) throw new AppError('not_found', 'There is no such share link.');
    audit(res, 'share.revoke', { link: linkFingerprint(req.params.id) });
    res.status(204).end();
  });
}

/**
 * Whether a POST to a share page comes from another site. Browsers say where a request comes from
 * (Sec-Fetch-Site, else Origin); only the link's own page ('same-origin') or the user themselves
 * ('none': typed, bookmarked) may use up a download. A request with neither header is not a
 * browser's cross-site request: curl and wget send none.
 */
export function isCrossSitePost(req: Request, publicUrl?: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  return origin !== undefined && origin !== requestOrigin(req) && origin !== publicUrl;
}

/** A browser navigating (the page's form) gets a page; curl, wget and scripts get the redirect to the file. */
const wantsPage = (req: Request) => req.headers['sec-fetch-dest'] === 'document' || /\btext\/html\b/.test(req.headers.accept ?? '');

/** A share page's POST body (urlencoded) when the link has a password: an empty one is not a try. */
const PasswordForm = z.object({ password: z.string().min(1) });

/**
 * The public pages at /s/:id, mounted on the app (no sign-in: the link is the permission).
 * GET and HEAD only show the page (link previewers fetch every URL: nothing they fetch uses up a
 * download; an old `?dl=1` shows the page too). POST downloads, with `password` in a urlencoded
 * body when the link has one, and is refused from another site. A browser's form gets a page that
 * goes on to the file; anything else gets a 303 to it (`curl -L -d '' URL`, see docs/shares.md).
 * The file comes from a presigned GET that lives 60 s; no file byte passes through Postbox.
 */
export function sharePageRoutes(
  service: ShareService,
  options: { storageOrigin: string; opensPerMinute: number; attempts?: PasswordAttempts; publicUrl?: string; limits?: SharedLimits },
): Router {
  const attempts = options.attempts ?? options.limits?.passwordAttempts() ?? new PasswordThrottle();
  const html = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);
  // Every open reads the link's record from storage: one client must not turn that into a flood
  // (or walk through guessed ids at storage's expense).
  const opens =
    options.opensPerMinute > 0
      ? rateLimit({
          windowMs: 60_000,
          limit: options.opensPerMinute,
          standardHeaders: false,
          legacyHeaders: false,
          keyGenerator: clientOf,
          // Shared by every instance with REDIS_URL; fails open (a log line) while Redis is away.
          ...(options.limits && { store: options.limits.store('share-opens'), ...options.limits.failOpen() }),
          handler: (req, res) => {
            const wait = retryAfterOf(req);
            res.setHeader('Retry-After', String(wait));
            html(res, 429, tooManyOpensPage(wait));
          },
        })
      : undefined;
  const csp = pageCsp(options.storageOrigin);
  const parseForm = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 });
  const router = Router();

  router.use('/s/:id', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Robots-Tag', 'noindex, nofollow');
    next();
  });
  if (opens) router.use('/s/:id', opens);

  /** Answers a link that does not work; false when the link works. */
  const answerGone = (res: Response, result: Opened | Downloaded): boolean => {
    if (result.kind === 'missing') html(res, 404, missingPage());
    else if (result.kind === 'gone') html(res, 410, gonePage(result.reason));
    else return false;
    return true;
  };

  const guarded = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (res.headersSent) return void res.end();
      if (err instanceof AppError && (err.code === 'storage_unavailable' || err.code === 'limits_unavailable')) {
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
      if (answerGone(res, opened) || opened.kind !== 'open') return;
      html(res, 200, sharePage({ share: opened.share, size: opened.size, askPassword: opened.share.password !== null }));
    }),
  );

  router.post(
    '/s/:id',
    (req, res, next) => {
      if (isCrossSitePost(req, options.publicUrl)) return void html(res, 403, crossSitePage());
      // An address ends up in logs, histories and Referer headers: a password never belongs there.
      if (req.url.includes('?') && new URL(req.url, 'http://x').searchParams.has('password')) return void html(res, 400, passwordInAddressPage());
      parseForm(req, res, (err?: unknown) => {
        if (err === undefined) return next();
        const status = (err as { status?: number }).status;
        html(res, status === 413 ? 413 : 400, unreadableFormPage());
      });
    },
    guarded(async (req, res) => {
      const opened = await service.open(String(req.params.id));
      if (answerGone(res, opened) || opened.kind !== 'open') return;
      const { share, size } = opened;
      if (share.password) {
        const form = PasswordForm.safeParse(req.body);
        if (!form.success) {
          html(res, 400, sharePage({ share, size, askPassword: true, passwordError: 'Enter the password to download this file.' }));
          return;
        }
        const client = clientOf(req);
        const wait = await attempts.begin(client, share.id);
        if (wait > 0) {
          res.setHeader('Retry-After', String(wait));
          html(res, 429, tooManyTriesPage(wait));
          return;
        }
        if (!(await verifyPassword(form.data.password, share.password))) {
          html(res, 403, sharePage({ share, size, askPassword: true, passwordError: 'That password is not right. Try again.' }));
          return;
        }
        await attempts.succeeded(client, share.id);
      }
      const downloaded = await service.download(share.id, requestOrigin(req), opened);
      if (answerGone(res, downloaded) || downloaded.kind !== 'download') return;
      const owner = ownerOfSpace(parseUploadKey(downloaded.share.fileKey)?.space ?? '').id;
      audit(res, 'share.download', { person: null, owner, file: downloaded.share.fileKey, link: linkFingerprint(downloaded.share.id) });
      if (wantsPage(req)) html(res, 200, downloadStartedPage(downloaded));
      else res.redirect(303, downloaded.url);
    }),
  );

  return router;
}
