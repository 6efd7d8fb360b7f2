import type { Request, RequestHandler, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import {
  CreateFileRequest,
  RequestUploadRequest,
  RequestVisit,
  type FileRequestList,
  type RequestVisitResult,
} from '../../../contract/api.ts';
import { AppError } from '../../errors/app-error.ts';
import { refusalFor, stateOf, toPublic, type RequestRecord } from '../../requests/request-record.ts';
import type { RequestService } from '../../requests/request-service.ts';
import { PasswordThrottle, type PasswordAttempts } from '../../shares/password-throttle.ts';
import { verifyPassword } from '../../shares/passwords.ts';
import { jsonBody } from '../json-body.ts';
import { clientOf, retryAfterOf } from '../rate-limiter.ts';
import { requestOrigin } from '../request-origin.ts';
import { personOf } from '../upload-key.ts';
import { perClientLimit } from '../security.ts';
import type { SharedLimits } from '../shared-limits.ts';

/** A visit lists up to REQUEST_MAX_FILES keys of up to 2048 characters: its own body limit, read after the rate limits. */
const VISIT_BODY_MAX_BYTES = 1.25 * 1024 * 1024;
const UPLOAD_BODY_MAX_BYTES = 16 * 1024;

const linkOrigin = (req: Request, publicUrl: string | undefined) => {
  const found = publicUrl ?? requestOrigin(req);
  if (!found) throw new AppError('invalid_request', 'The request does not say a valid host to build the link on (set PUBLIC_URL).');
  return found;
};

/** The requester's side, inside /api behind sign-in: the requester is `personOf(res)`. */
export function requestOwnerRoutes(router: Router, service: RequestService, publicUrl: string | undefined): void {
  router.post('/requests', async (req, res) => {
    const input = CreateFileRequest.parse(req.body);
    const origin = linkOrigin(req, publicUrl);
    const record = await service.create(personOf(res), input);
    res.status(201).json(service.toLink(record, origin));
  });

  router.get('/requests', async (req, res) => {
    const origin = linkOrigin(req, publicUrl);
    const list: FileRequestList = { requests: (await service.list(personOf(res))).map((record) => service.toLink(record, origin)) };
    res.json(list);
  });

  router.delete('/requests/:id', async (req, res) => {
    await service.close(personOf(res), req.params.id);
    res.status(204).end();
  });
}

/** Per link: many visitors (or one walking through addresses) must not turn one link into a flood. */
function perLinkLimit(perMinute: number, limits?: SharedLimits): RequestHandler {
  if (perMinute === 0) return (_req, _res, next) => next();
  return rateLimit({
    ...(limits ? { store: limits.store('request-links'), ...limits.failOpen() } : {}),
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (req) => `request:${String(req.params.id)}`,
    handler: (req, res, next) => {
      res.setHeader('Retry-After', String(retryAfterOf(req)));
      next(new AppError('rate_limited', 'This request link is getting too many requests. Wait a moment and try again.'));
    },
  });
}

/**
 * The visitor's side, inside /api but before sign-in (the link is the permission): what the link
 * asks for, a policy per file, and "this visit is done". Visitors never list, read or delete.
 * Mounted before the API's body reader: each route reads its own body, after the rate limits.
 */
export function requestVisitorRoutes(
  router: Router,
  service: RequestService,
  options: { perMinute: number; attempts?: PasswordAttempts; limits?: SharedLimits },
): void {
  const shared = options.limits;
  const attempts = options.attempts ?? shared?.passwordAttempts() ?? new PasswordThrottle();
  const limits = [
    perClientLimit(
      options.perMinute,
      'Too many requests from this client. Wait a moment and try again.',
      shared ? { store: shared.store('request-visitors'), ...shared.failOpen() } : {},
    ),
    perLinkLimit(options.perMinute, shared),
  ];

  /** Throws unless the link has no password or `password` is it (wrong tries throttled as share passwords are). */
  const checkPassword = async (req: Request, record: RequestRecord, password: string | undefined): Promise<void> => {
    if (!record.password) return;
    if (!password) throw new AppError('unauthorized', 'This request link needs its password.');
    const client = clientOf(req);
    const wait = await attempts.begin(client, `request:${record.id}`);
    if (wait > 0) throw new AppError('rate_limited', `Too many wrong passwords. Try again in ${wait} s.`);
    if (!(await verifyPassword(password, record.password))) throw new AppError('invalid_credentials', 'That password is not right.');
    await attempts.succeeded(client, `request:${record.id}`);
  };

  router.get('/requests/:id/public', ...limits, async (req, res) => {
    const record = await service.open(String(req.params.id));
    res.json(toPublic(record, Date.now()));
  });

  router.post('/requests/:id/uploads', ...limits, jsonBody(UPLOAD_BODY_MAX_BYTES), async (req, res) => {
    const input = RequestUploadRequest.parse(req.body);
    const record = await service.open(String(req.params.id));
    const state = stateOf(record, Date.now());
    if (state === 'closed' || state === 'expired') throw refusalFor(state);
    await checkPassword(req, record, input.password);
    res.status(201).json(await service.sign(record, input, requestOrigin(req)));
  });

  router.post('/requests/:id/visits', ...limits, jsonBody(VISIT_BODY_MAX_BYTES), async (req, res) => {
    const input = RequestVisit.parse(req.body);
    // Closing the link does not undo what was sent: the visit is still reported.
    const record = await service.open(String(req.params.id));
    await checkPassword(req, record, input.password);
    const result: RequestVisitResult = { confirmed: await service.visit(record, input.keys, requestOrigin(req)) };
    res.json(result);
  });
}
