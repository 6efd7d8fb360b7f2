import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.ts';
import { clientOf, retryAfterOf } from './rate-limiter.ts';
import { requestOrigin } from './request-origin.ts';

/**
 * Security headers of pages. The Content-Security-Policy lets the page talk to itself and the storage
 * (`storageSource`: 'self' for the embedded store under /storage, else the public endpoint's origin):
 * form posts and XHR uploads go there, nothing else does.
 */
export function securityHeaders(storageSource: string): RequestHandler {
  const reachable = [...new Set(["'self'", storageSource])];
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval': compiling WebAssembly (the hashes of multipart parts: hash-wasm, md5x4); not eval of scripts.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'"],
        // Previews and thumbnails in the own list: presigned inline GETs from the storage (PDFs open in a tab, never framed).
        imgSrc: [...reachable, 'data:'],
        mediaSrc: reachable,
        fontSrc: ["'self'"],
        connectSrc: reachable,
        formAction: reachable,
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    // An external store may be plain HTTP on this host name (MinIO on another port): HSTS would upgrade it.
    strictTransportSecurity: false,
  });
}

/**
 * The API's JSON answers get the headers OWASP's REST cheat sheet lists instead of the page set:
 * never sniffed as a document, never framed, never stored by a cache (answers carry signed URLs);
 * and, as for pages, not readable by another origin's no-cors request. Helmet's page set is mostly
 * about documents, which API answers are not.
 */
export function apiHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
}

/**
 * DNS rebinding: a page on a name its owner points at this server's address is same-origin with
 * the API, so it could list, upload, share and delete. Browsers send that name as the Host, so the
 * API answers only under known names and IP addresses. A trusted proxy's X-Forwarded-Host must be
 * known too, but never stands in for the Host: a page can send that header itself.
 */
export function knownHostsOnly(allowedHosts: '*' | readonly string[]): RequestHandler {
  if (allowedHosts === '*') return (_req, _res, next) => next();
  const allowed = new Set(allowedHosts);
  const known = (host: string | undefined) => {
    const name = (host ?? '').trim().toLowerCase().replace(/:\d+$/, '');
    return allowed.has(name) || isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0;
  };
  return (req, _res, next) => {
    const host = req.headers.host;
    // req.host is X-Forwarded-Host when TRUST_PROXY believes the sender, else the Host header.
    const forwardedHost = req.headers['x-forwarded-host'] === undefined ? host : req.host;
    if (known(host) && (forwardedHost === host || known(forwardedHost))) return next();
    next(new AppError('unknown_host', 'Postbox does not answer under this host name; set PUBLIC_URL or ALLOWED_HOSTS to serve it there.'));
  };
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF: a state-changing request from a browser must come from the app's own origin. Browsers say
 * where a request comes from (Sec-Fetch-Site, Origin); scripts send neither and authenticate with
 * a bearer token. Bodies must be JSON too (jsonBody), which a cross-site form cannot send.
 */
export function sameOriginOnly(extraOrigins: readonly string[] = []): RequestHandler {
  return (req, _res, next) => {
    if (!UNSAFE_METHODS.has(req.method)) return next();
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    const crossSite =
      site !== undefined ? site !== 'same-origin' && site !== 'none' : origin !== undefined && origin !== requestOrigin(req);
    if (crossSite && !(origin && extraOrigins.includes(origin))) {
      return next(new AppError('forbidden', 'Requests that change things must come from the Postbox page itself.'));
    }
    next();
  };
}

/**
 * Requests per minute per client (by IP, see TRUST_PROXY; IPv6 by /64); 429 rate_limited with
 * Retry-After past it. express-rate-limit counts in `store` (SharedLimits: Redis with REDIS_URL,
 * shared by every instance), else its MemoryStore (this instance's memory). When the store fails,
 * `passOnStoreError` lets the request through with a log line (fail open); without it the request
 * gets the store's error (503 limits_unavailable from RedisLimitStore: fail closed).
 */
export function perClientLimit(
  perMinute: number,
  message: string,
  shared: { store?: Store; passOnStoreError?: boolean; logger?: Pick<Logger, 'warn' | 'error'> } = {},
): RequestHandler {
  if (perMinute === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    // Our own answer: Retry-After and the JSON error, no RateLimit-* headers.
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: clientOf,
    store: shared.store,
    passOnStoreError: shared.passOnStoreError ?? false,
    ...(shared.logger && { logger: shared.logger }),
    handler: (req, res, next) => {
      res.setHeader('Retry-After', String(retryAfterOf(req)));
      next(new AppError('rate_limited', message));
    },
  });
}
