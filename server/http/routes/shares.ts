import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.ts';
import { verifyPassword } from '../../shares/passwords.ts';
import { S3ShareStore } from '../../shares/s3-share-store.ts';
import { PasswordThrottle, type PasswordAttempts } from '../../shares/password-throttle.ts';
import { readVisit, signVisit, VISIT_COOKIE, VISIT_SECONDS, type Visit } from '../../shares/bundle-visit.ts';
import { isBundle, isRevoked, type LiveShare } from '../../shares/share-record.ts';
import { signPreviewLink } from '../../signing/preview-links.ts';
import { parseUploadKey } from '../../signing/object-keys.ts';
import {
  bundleLockedPage,
  bundlePage,
  bundlePageCsp,
  zipExpiredPage,
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
import { DOWNLOAD_URL_SECONDS, ShareService, type Downloaded, type Opened } from '../../shares/share-service.ts';
import { signDownloadLink } from '../../signing/download-links.ts';
import type { Storage } from '../../storage/storage.ts';
import { BundleRequest, SHARE_BUNDLE_MAX_FILES, ShareRequest, type ShareLink, type ShareList } from '../../../contract/api.ts';
import { rateLimit } from 'express-rate-limit';
import { clientOf, retryAfterOf } from '../rate-limiter.ts';
import { requestOrigin } from '../request-origin.ts';
import type { SharedLimits } from '../shared-limits.ts';
import type { UploadsStore } from '../../storage/uploads-store.ts';
import { audit, linkFingerprint } from '../audit.ts';
import { ownerOfSpace } from '../../people/usage.ts';
import { jsonBody } from '../json-body.ts';
import { personOf, requireOwnKey } from '../upload-key.ts';

/** Share links kept in the bucket itself (shares/…), signing downloads with the storage's signer. */
export function createShareService(storage: Storage): ShareService {
  return new ShareService({
    store: new S3ShareStore(storage),
    storage,
    signDownload: ({ origin, ...input }) => signDownloadLink(storage.signerFor(origin), { bucket: storage.bucket, ...input }),
    signPreview: ({ origin, ...input }) => signPreviewLink(storage.signerFor(origin), { bucket: storage.bucket, ...input }),
  });
}

/** A bundle request lists up to SHARE_BUNDLE_MAX_FILES keys: more than the API's usual 16 KiB body. */
export const BUNDLE_BODY_MAX_BYTES = SHARE_BUNDLE_MAX_FILES * 2100 + 4096;

/** Where this Postbox is reached, for the links it makes. */
const linkOriginOf = (req: Request, publicUrl: string | undefined) => {
  const found = publicUrl ?? requestOrigin(req);
  if (!found) throw new AppError('invalid_request', 'The request does not say a valid host to build the link on (set PUBLIC_URL).');
  return found;
};

/**
 * `POST /api/shares`: one link for several of the requester's own files. Mounted before the API's
 * 16 KiB body reader (it reads its own), behind `guards` (sign-in, the signing limit).
 */
export function bundleApiRoute(router: Router, service: ShareService, publicUrl: string | undefined, guards: RequestHandler[]): void {
  router.post('/shares', ...guards, jsonBody(BUNDLE_BODY_MAX_BYTES), async (req, res) => {
    const { keys, ...request } = BundleRequest.parse(req.body);
    const files = keys.map((key) => ({ key, parts: requireOwnKey(res, key) }));
    const linkOrigin = linkOriginOf(req, publicUrl); // before the link exists: a refused request must create nothing
    const person = personOf(res);
    const share = await service.createBundle(files, request, { id: person.id, space: person.space });
    audit(res, 'share.create', { files: keys.length, link: linkFingerprint(share.id) });
    const link: ShareLink = service.toLink(share, linkOrigin);
    res.status(201).json(link);
  });
}

/** Whose a link is: its owner's space, or (records from before accounts) its file key's. */
const ownerSpaceOf = (share: LiveShare) => share.owner?.space ?? parseUploadKey(share.fileKey)?.space;

/** A bundle's files given to a recipient (a Download, or a batch of the zip's): one audit line, no share id. */
const auditBundleDownload = (res: Response, share: LiveShare, files: number) =>
  audit(res, 'share.download', { person: null, owner: ownerOfSpace(ownerSpaceOf(share) ?? '').id, files, link: linkFingerprint(share.id) });

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
  const origin = (req: Request) => linkOriginOf(req, publicUrl);

  router.post('/files/:key/shares', async (req, res) => {
    const parts = requireOwnKey(res, req.params.key);
    const request = ShareRequest.parse(req.body);
    const linkOrigin = origin(req); // before the link exists: a refused request must create nothing
    const person = personOf(res);
    const share = await service.create(req.params.key, parts, request, { id: person.id, space: person.space });
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
    // Only the owner's: another person's link answers as a link that does not exist.
    const found = await service.find(req.params.id);
    if (found && !isRevoked(found) && ownerSpaceOf(found) !== personOf(res).space)
      throw new AppError('not_found', 'There is no such share link.');
    if (!(await service.revoke(req.params.id))) throw new AppError('not_found', 'There is no such share link.');
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
/** A bundle page's POST: the password (to open it), and which file to download (its index). */
const BundleForm = z.object({
  password: z.string().min(1).optional(),
  file: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});
/** The zip worker's request: presigned GETs for these files of the bundle (indexes), a batch at a time. */
const ZipRequest = z.strictObject({ indexes: z.array(z.number().int().min(0).max(SHARE_BUNDLE_MAX_FILES)).min(1).max(50) });

/** The browser scripts of a bundle page (server/shares/assets), and client-zip's module, read once. */
const ASSETS_DIR = path.resolve(import.meta.dirname, '../../shares/assets');
const asset = (file: string) => readFileSync(file, 'utf8');
const SCRIPTS: Record<string, () => string> = {
  'bundle-page.js': () => asset(path.join(ASSETS_DIR, 'bundle-page.js')),
  'zip-sw.js': () => asset(path.join(ASSETS_DIR, 'zip-sw.js')),
  'client-zip.js': () => asset(createRequire(import.meta.url).resolve('client-zip')),
};

/** Serves the bundle page's scripts under /s/_/ (no share id is `_`). */
function scriptRoutes(router: Router, storageOrigin: string): void {
  const cache = new Map<string, string>();
  router.get('/s/_/:file', (req, res, next) => {
    const load = Object.hasOwn(SCRIPTS, req.params.file) ? SCRIPTS[req.params.file] : undefined;
    if (!load) return next();
    if (!cache.has(req.params.file)) cache.set(req.params.file, load());
    // The service worker runs under this policy: scripts of this origin, fetches to Postbox and the storage.
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'self'; connect-src 'self' ${storageOrigin}`);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/javascript').send(cache.get(req.params.file));
  });
}

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
  options: {
    storageOrigin: string;
    opensPerMinute: number;
    attempts?: PasswordAttempts;
    publicUrl?: string;
    limits?: SharedLimits;
    /** Signs bundle visits (bundle-visit.ts); a random key per process when absent. */
    visitKey?: () => Promise<Buffer>;
  },
): Router {
  const randomKey = randomBytes(32);
  const visitKey = options.visitKey ?? (() => Promise.resolve(randomKey));
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
  scriptRoutes(router, options.storageOrigin);
  // A zip address the worker did not answer (the worker was stopped, or the page was not the start).
  router.get('/s/_/zip/:token', (_req, res) => void html(res.setHeader('Cache-Control', 'no-store'), 404, zipExpiredPage()));

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
      const id = String(req.params.id);
      const visit = await visitOf(req, id);
      const opened = await service.open(id, { visitCounted: visit?.counted });
      if (answerGone(res, opened) || opened.kind !== 'open') return;
      if (isBundle(opened.share)) return showBundle(req, res, opened.share, visit);
      html(res, 200, sharePage({ share: opened.share, size: opened.size, askPassword: opened.share.password !== null }));
    }),
  );

  router.post(
    '/s/:id',
    (req, res, next) => {
      if (isCrossSitePost(req, options.publicUrl)) return void html(res, 403, crossSitePage());
      // An address ends up in logs, histories and Referer headers: a password never belongs there.
      if (req.url.includes('?') && new URL(req.url, 'http://x').searchParams.has('password'))
        return void html(res, 400, passwordInAddressPage());
      parseForm(req, res, (err?: unknown) => {
        if (err === undefined) return next();
        const status = (err as { status?: number }).status;
        html(res, status === 413 ? 413 : 400, unreadableFormPage());
      });
    },
    guarded(async (req, res) => {
      const id = String(req.params.id);
      const visit = await visitOf(req, id);
      const opened = await service.open(id, { visitCounted: visit?.counted });
      if (answerGone(res, opened) || opened.kind !== 'open') return;
      if (isBundle(opened.share)) return postBundle(req, res, opened, visit);
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

  /** The visit this request's cookie proves for link `id`, if any. */
  const visitOf = async (req: Request, id: string) =>
    readVisit(await visitKey(), parseCookies(req.headers.cookie ?? '')[VISIT_COOKIE], id, Date.now());

  const newVisit = (share: LiveShare): Visit => ({
    shareId: share.id,
    expiresAt: Math.floor(Date.now() / 1000) + VISIT_SECONDS,
    unlocked: share.password === null,
    counted: false,
  });

  const keepVisit = async (req: Request, res: Response, visit: Visit) => {
    const cookie = serializeCookie(VISIT_COOKIE, signVisit(await visitKey(), visit), {
      httpOnly: true,
      // Lax: the visit survives following the link again; POSTs from elsewhere are refused anyway (isCrossSitePost).
      sameSite: 'lax',
      secure: req.secure,
      path: `/s/${visit.shareId}`,
      maxAge: Math.max(0, visit.expiresAt - Math.floor(Date.now() / 1000)),
    });
    res.append('Set-Cookie', cookie);
  };

  /**
   * A bundle's page: the password form until the visit has given it; then the files, with previews
   * unless the link counts downloads and this visit has not been counted yet (a preview is the file).
   */
  async function showBundle(
    req: Request,
    res: Response,
    share: LiveShare & { files: NonNullable<LiveShare['files']> },
    visit: Visit | undefined,
  ) {
    if (share.password !== null && !visit?.unlocked) return void html(res, 200, bundleLockedPage({ share }));
    const previews =
      share.maxDownloads === null || visit?.counted ? await service.previews(share, requestOrigin(req)) : new Map<number, string>();
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', bundlePageCsp(options.storageOrigin, nonce));
    html(res, 200, bundlePage({ share, previews, nonce }));
  }

  /** A bundle page's form: the password (opens the visit), or a file's Download (counts the visit once). */
  async function postBundle(req: Request, res: Response, opened: Opened & { kind: 'open' }, visit: Visit | undefined) {
    const { share } = opened;
    const form = BundleForm.safeParse(req.body);
    if (!form.success) return void html(res, 400, unreadableFormPage());
    let current = visit ?? newVisit(share);
    if (!current.unlocked) {
      if (form.data.password === undefined)
        return void html(res, 400, bundleLockedPage({ share, passwordError: 'Enter the password to open these files.' }));
      const client = clientOf(req);
      const wait = await attempts.begin(client, share.id);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        return void html(res, 429, tooManyTriesPage(wait));
      }
      if (!share.password || !(await verifyPassword(form.data.password, share.password))) {
        return void html(res, 403, bundleLockedPage({ share, passwordError: 'That password is not right. Try again.' }));
      }
      await attempts.succeeded(client, share.id);
      current = { ...current, unlocked: true };
    }
    if (form.data.file === undefined) {
      await keepVisit(req, res, current);
      return void res.redirect(303, `/s/${share.id}`);
    }
    const downloaded = await service.downloadBundleFile(opened, Number(form.data.file), requestOrigin(req), current.counted);
    if (answerGone(res, downloaded) || downloaded.kind !== 'download') return;
    await keepVisit(req, res, { ...current, counted: true });
    auditBundleDownload(res, share, 1);
    // Straight to the file (an attachment: the list stays on screen); more files of this visit count no more.
    res.redirect(303, downloaded.url);
  }

  const jsonError = (res: Response, status: number, code: string, message: string) =>
    void res.status(status).json({ error: { code, message } });
  const parseZipBody = express.json({ limit: '4kb', strict: true, type: 'application/json' });

  // The zip worker's batches of presigned GETs (assets/zip-sw.js): counted once per visit, as a file's Download.
  router.post(
    '/s/:id/zip',
    (req, res, next) => {
      if (isCrossSitePost(req, options.publicUrl)) return jsonError(res, 403, 'forbidden', 'Start Download all from the link itself.');
      parseZipBody(req, res, (err?: unknown) =>
        err === undefined ? next() : jsonError(res, 400, 'invalid_request', 'That request could not be read.'),
      );
    },
    guarded(async (req, res) => {
      const id = String(req.params.id);
      const request = ZipRequest.safeParse(req.body);
      if (!request.success) return jsonError(res, 400, 'invalid_request', 'That request could not be read.');
      const visit = await visitOf(req, id);
      const opened = await service.open(id, { visitCounted: visit?.counted });
      if (opened.kind === 'missing' || (opened.kind === 'open' && !isBundle(opened.share)))
        return jsonError(res, 404, 'not_found', 'There is no such link.');
      if (opened.kind === 'gone') return jsonError(res, 410, 'not_found', 'This link no longer works.');
      const current = visit ?? newVisit(opened.share);
      if (!current.unlocked) return jsonError(res, 403, 'forbidden', 'Enter the password on the page first.');
      const urls: string[] = [];
      let counted = current.counted;
      for (const index of request.data.indexes) {
        const downloaded = await service.downloadBundleFile(opened, index, requestOrigin(req), counted);
        if (downloaded.kind !== 'download') return jsonError(res, 410, 'not_found', 'A file of this link is no longer available.');
        counted = true;
        urls.push(downloaded.url);
      }
      await keepVisit(req, res, { ...current, counted: true });
      auditBundleDownload(res, opened.share, urls.length);
      res.setHeader('Content-Type', 'application/json');
      res.json({ urls, expiresAt: new Date(Date.now() + DOWNLOAD_URL_SECONDS * 1000).toISOString() });
    }),
  );

  return router;
}
