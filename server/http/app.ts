import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { errorHandler, notFoundHandler } from '../errors/error-handler.ts';
import type { InstallSecret } from '../secrets/install-secret.ts';
import type { Storage } from '../storage/storage.ts';
import { UploadsStore } from '../storage/uploads-store.ts';
import { Access } from './access.ts';
import { jsonBody } from './json-body.ts';
import { requestLogging } from './request-log.ts';
import { fileRoutes } from './routes/files.ts';
import { multipartRoutes } from './routes/multipart.ts';
import { sessionRoutes } from './routes/session.ts';
import { bundleApiRoute, createShareService, shareApiRoutes, sharePageRoutes } from './routes/shares.ts';
import { statusRoutes } from './routes/status.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { apiHeaders, knownHostsOnly, perClientLimit, sameOriginOnly, securityHeaders } from './security.ts';
import { storageRoute } from './storage-route.ts';
import { STORAGE_PATH } from '../storage/storage-origin.ts';

/** The built SPA (`npm run build`); absent in API-only test runs. */
export const CLIENT_DIR = path.resolve(import.meta.dirname, '../../dist/client');

export interface AppDeps {
  config: Config;
  storage: Storage;
  /** The per-install secret kept in the bucket: keys for session cookies and multipart upload tokens derive from it. */
  installSecret: InstallSecret;
  logger: Logger;
  clientDir?: string;
}

export function createApp(deps: AppDeps) {
  const { config, storage, logger, clientDir = CLIENT_DIR } = deps;
  const store = new UploadsStore(storage);
  const shares = createShareService(storage);
  const access = new Access(config.access, { installSecret: deps.installSecret, storage, publicUrl: config.publicUrl });
  const signingLimit = perClientLimit(config.rateLimitPerMinute, 'Too many requests from this client. Wait a moment and try again.');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);

  // A request id and req.log for every request, one line per API request; never headers (cookies,
  // tokens) and never bodies; API URLs carry keys, not signatures.
  app.use(requestLogging(logger, (url) => url.startsWith('/api/')));

  // The embedded store, for browsers: same origin and port as the page (see storage-route.ts).
  if (storage.handleStorageRequest) {
    app.use(STORAGE_PATH, storageRoute({ bucket: storage.bucket, allowedHosts: config.allowedHosts, handle: storage.handleStorageRequest }));
  }

  const apiRouter = express.Router();
  apiRouter.use(apiHeaders());
  apiRouter.use(knownHostsOnly(config.allowedHosts));
  apiRouter.use(sameOriginOnly(config.publicUrl ? [config.publicUrl] : []));
  // Open to anyone: whether storage is up, the upload limits.
  statusRoutes(apiRouter, config, storage, store);
  // Every body is a few hundred bytes but a Complete's, which lists up to 10,000 parts with their
  // ETags: that route reads its own, after sign-in.
  const multipart = multipartRoutes(config, storage, deps.installSecret);
  multipart.complete(apiRouter, [access.requireSignIn, signingLimit]);
  // A bundle lists up to 1,000 keys: it reads its own body too.
  bundleApiRoute(apiRouter, shares, config.publicUrl, [access.requireSignIn, signingLimit]);
  apiRouter.use(jsonBody(16 * 1024));
  // Open to anyone: signing in.
  sessionRoutes(apiRouter, access);
  // Everything below needs sign-in when access is locked, and signing is rate limited per client.
  apiRouter.use(access.requireSignIn);
  apiRouter.use((req, res, next) => (req.method === 'GET' ? next() : signingLimit(req, res, next)));
  uploadRoutes(apiRouter, config, storage);
  fileRoutes(apiRouter, storage, store, shares);
  multipart.routes(apiRouter, signingLimit);
  shareApiRoutes(apiRouter, shares, config.publicUrl, signingLimit);
  apiRouter.use(notFoundHandler);
  app.use('/api', apiRouter);
  app.use(securityHeaders(storage.cspSource));
  // Share links (/s/:id) are public pages: the link is the permission.
  app.use(
    sharePageRoutes(shares, {
      publicUrl: config.publicUrl,
      storageOrigin: storage.cspSource,
      opensPerMinute: config.rateLimitPerMinute,
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
