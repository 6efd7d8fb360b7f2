import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { errorHandler, notFoundHandler } from '../errors/error-handler.ts';
import type { InstallSecret } from '../secrets/install-secret.ts';
import type { SharedRedis } from '../shared/redis.ts';
import type { Storage } from '../storage/storage.ts';
import { UploadsStore } from '../storage/uploads-store.ts';
import { OidcSignIn } from '../accounts/oidc-sign-in.ts';
import { Access } from './access.ts';
import { authRoutes } from './routes/auth.ts';
import { jsonBody } from './json-body.ts';
import { requestLogging } from './request-log.ts';
import { fileRoutes } from './routes/files.ts';
import { reserveQuota } from './routes/usage.ts';
import { multipartRoutes } from './routes/multipart.ts';
import { sessionRoutes } from './routes/session.ts';
import { bundleApiRoute, createShareService, shareApiRoutes, sharePageRoutes } from './routes/shares.ts';
import { statusRoutes } from './routes/status.ts';
import { usageRoutes } from './routes/usage.ts';
import { UsageBook } from '../people/usage.ts';
import { ApiTokens } from '../people/api-tokens.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { auditTokenUse } from './audit.ts';
import { PeopleCensus } from '../people/census.ts';
import { adminRoutes } from './routes/admin.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { thumbnailRoutes } from './routes/thumbnails.ts';
import { apiHeaders, knownHostsOnly, perClientLimit, sameOriginOnly, securityHeaders } from './security.ts';
import { storageRoute } from './storage-route.ts';
import { requestOwnerRoutes, requestVisitorRoutes } from './routes/requests.ts';
import { Notifier } from '../requests/notifier.ts';
import { RequestService } from '../requests/request-service.ts';
import { S3RequestStore } from '../requests/request-store.ts';
import { SharedLimits } from './shared-limits.ts';
import { STORAGE_PATH } from '../storage/storage-origin.ts';
import { Metrics } from '../metrics/metrics.ts';
import { metricsRoute, requestMetrics } from './metrics-route.ts';

/** The built SPA (`npm run build`); absent in API-only test runs. */
export const CLIENT_DIR = path.resolve(import.meta.dirname, '../../dist/client');

export interface AppDeps {
  config: Config;
  storage: Storage;
  /** The per-install secret kept in the bucket: keys for session cookies and multipart upload tokens derive from it. */
  installSecret: InstallSecret;
  logger: Logger;
  /** With REDIS_URL: the one Redis client; limits and revocations are then shared by every instance. */
  redis?: SharedRedis;
  clientDir?: string;
  /** Prometheus metrics (GET /metrics); a registry of its own is made when not given. */
  metrics?: Metrics;
  /** Request links' notifications; made from config when absent (tests pass their own to wait on it). */
  notifier?: Notifier;
}

/** Sign-ins (`/auth/login` and `/auth/callback` requests) per client per minute, with accounts. */
export const OIDC_SIGN_INS_PER_MINUTE = 30;

export function createApp(deps: AppDeps) {
  const { config, logger, clientDir = CLIENT_DIR } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const storage = meteredStorage(deps.storage, metrics);
  const store = new UploadsStore(storage);
  const shares = createShareService({
    ...storage,
    signerFor: (origin) => metrics.meterSigner(deps.storage.signerFor(origin), 'share_download'),
  });
  const usage = new UsageBook(storage);
  const tokens = new ApiTokens(storage);
  const limits = new SharedLimits(deps.redis, logger);
  if (deps.redis) trackRedis(deps.redis, metrics);
  // OIDC sign-in (config requires PUBLIC_URL with it): many people, each with their own files.
  const signIn = config.oidc && config.publicUrl ? new OidcSignIn(config.oidc, config.publicUrl) : undefined;
  const access = new Access(config.access, {
    installSecret: deps.installSecret,
    storage,
    publicUrl: config.publicUrl,
    limits,
    accounts: signIn && config.oidc,
    admins: config.accounts.admins,
    personalTokens: tokens,
  });
  const notifier = deps.notifier ?? new Notifier({ ...config.requests, publicUrl: config.publicUrl, logger });
  const requests = new RequestService({
    store: new S3RequestStore(storage),
    storage,
    rules: config.uploads,
    reserveQuota: (upload, until) => reserveQuota(usage, config, upload, until),
    onArrived: (batch) => notifier.arrived(batch),
    localLinksClosed: config.oidc !== undefined,
  });
  const signingLimit = perClientLimit(config.rateLimitPerMinute, 'Too many requests from this client. Wait a moment and try again.', {
    store: limits.store('signing'),
    ...limits.failOpen(),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);

  // A request id and req.log for every request, one line per API request; never headers (cookies,
  // tokens) and never bodies; API URLs carry keys, not signatures.
  app.use(requestLogging(logger, (url) => url.startsWith('/api/')));
  app.use(requestMetrics(metrics));
  // Loopback or METRICS_TOKEN only (metrics-route.ts); outside /api: no Host or same-origin checks for scrapers.
  app.get('/metrics', metricsRoute(metrics, config.metricsToken));

  // The embedded store, for browsers: same origin and port as the page (see storage-route.ts).
  if (storage.handleStorageRequest) {
    app.use(
      STORAGE_PATH,
      storageRoute({ bucket: storage.bucket, allowedHosts: config.allowedHosts, handle: storage.handleStorageRequest }),
    );
  }

  const apiRouter = express.Router();
  apiRouter.use(apiHeaders());
  apiRouter.use(knownHostsOnly(config.allowedHosts));
  apiRouter.use(sameOriginOnly(config.publicUrl ? [config.publicUrl] : []));
  // Open to anyone: whether storage is up, the upload limits.
  statusRoutes(apiRouter, config, storage, store, limits);
  // Every body is a few hundred bytes but a Complete's, which lists up to 10,000 parts with their
  // ETags: that route reads its own, after sign-in.
  const multipart = multipartRoutes(config, storage, deps.installSecret, usage);
  multipart.complete(apiRouter, [access.requireSignIn, auditTokenUse, signingLimit]);
  // Open to anyone with a request link: what it asks for, a policy per file (docs/requests.md). A
  // visit's report lists up to 500 keys: these routes read their own bodies.
  requestVisitorRoutes(apiRouter, requests, { perMinute: config.rateLimitPerMinute, limits });
  // A bundle lists up to 1,000 keys: it reads its own body too.
  bundleApiRoute(apiRouter, shares, config.publicUrl, [access.requireSignIn, auditTokenUse, signingLimit]);
  apiRouter.use(jsonBody(16 * 1024));
  // Open to anyone: signing in.
  sessionRoutes(apiRouter, access, limits, signIn && (() => signIn.endSessionUrl(`${config.publicUrl}/`)));
  // Everything below needs sign-in when access is locked, and signing is rate limited per client.
  apiRouter.use(access.requireSignIn);
  apiRouter.use(auditTokenUse);
  apiRouter.use((req, res, next) => (req.method === 'GET' ? next() : signingLimit(req, res, next)));
  uploadRoutes(apiRouter, config, storage, usage);
  fileRoutes(apiRouter, config, storage, store, shares, usage);
  thumbnailRoutes(apiRouter, config, storage, store, usage);
  usageRoutes(apiRouter, config, usage);
  tokenRoutes(apiRouter, tokens);
  adminRoutes(apiRouter, new PeopleCensus({ storage, usage, deleteLinksOf: (key) => shares.deleteForFile(key) }));
  multipart.routes(apiRouter, signingLimit);
  shareApiRoutes(apiRouter, shares, config.publicUrl, signingLimit, store);
  requestOwnerRoutes(apiRouter, requests, config.publicUrl);
  apiRouter.use(notFoundHandler);
  app.use('/api', apiRouter);
  app.use(securityHeaders(storage.cspSource));
  // Each sign-in is a discovery, a token request and a JWKS check at the provider: bounded per client.
  const signInsPerClient = perClientLimit(
    config.rateLimitPerMinute === 0 ? 0 : OIDC_SIGN_INS_PER_MINUTE,
    'Too many sign-ins from this client. Wait a minute and try again.',
    {
      store: limits.store('oidc-sign-ins'),
      ...limits.failOpen(),
    },
  );
  if (signIn) app.use('/auth', signInsPerClient);
  if (signIn) app.use(authRoutes({ access, signIn, flowKey: () => deps.installSecret.key('oidc-flow') }));
  // Share links (/s/:id) are public pages: the link is the permission.
  app.use(
    sharePageRoutes(shares, {
      publicUrl: config.publicUrl,
      storageOrigin: storage.cspSource,
      opensPerMinute: config.rateLimitPerMinute,
      limits,
      visitKey: () => deps.installSecret.key('bundle-visit'),
    }),
  );

  if (existsSync(clientDir)) {
    app.use(express.static(clientDir, { index: false }));
    app.get('/{*path}', (_req, res) => {
      res.sendFile(path.join(clientDir, 'index.html'));
    });
  }

  app.use(errorHandler);
  return app;
}

/** The storage with its S3 calls timed and counted, and its signatures counted by kind. */
function meteredStorage(storage: Storage, metrics: Metrics): Storage {
  metrics.instrumentS3(storage.client);
  return { ...storage, signerFor: (origin) => metrics.meterSigner(storage.signerFor(origin)) };
}

/** postbox_redis_up follows the client: 0 from its first error until it is ready again. */
function trackRedis(redis: SharedRedis, metrics: Metrics): void {
  metrics.setRedisUp(redis.state === 'ready');
  redis.onChange((state) => metrics.setRedisUp(state === 'ready'));
}
