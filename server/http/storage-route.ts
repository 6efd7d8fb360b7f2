import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors/app-error.ts';
import { knownHostsOnly } from './security.ts';

/**
 * Headers on every answer of the store: a file served under the app's own origin must never act
 * as a page of it (an uploaded HTML file opened by its link would otherwise run with the app's
 * origin), nor be embedded elsewhere. s3rver drops them from its XML error answers.
 */
function storageHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox; frame-ancestors 'none'");
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
}

const ENCODED_SEPARATOR = /%(2f|5c)|\\/i;

/** A dot segment, raw or percent-encoded: s3rver would join it into a file path. */
function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    if (!/^(\.|%2e)+$/i.test(segment)) return false;
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

/** Whether the request carries a SigV4 signature (query or header) or is a form POST (its policy's signature is checked). */
function carriesSignature(req: Request, query: string): boolean {
  if (new URLSearchParams(query).has('X-Amz-Signature')) return true;
  if (/^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? '')) return true;
  return req.method === 'POST' && /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '') && query === '';
}

/**
 * Only what a browser is given reaches the store: the one bucket, paths without dot segments or
 * encoded separators (keys the server makes have none; s3rver decodes keys into file paths), and
 * requests that carry a signature. Checking those signatures is the store's business
 * (embedded-*.ts); this refuses the anonymous and the malformed before it is asked.
 */
function storageRequestsOnly(bucket: string): RequestHandler {
  return (req, _res, next) => {
    const queryAt = req.url.indexOf('?');
    const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : req.url.slice(queryAt + 1);
    if (path !== `/${bucket}` && !path.startsWith(`/${bucket}/`)) {
      return next(new AppError('not_found', `Only the bucket ${bucket} is served here.`));
    }
    if (ENCODED_SEPARATOR.test(path) || hasDotSegment(path)) {
      return next(new AppError('invalid_request', 'Storage paths have no dot segments and no encoded slashes.'));
    }
    if (!carriesSignature(req, query)) {
      return next(new AppError('forbidden', 'Storage answers signed requests only: use a link or upload form Postbox made.'));
    }
    next();
  };
}

/**
 * The embedded store for browsers, mounted by the app at /storage: under the app's own origin and
 * port, behind the same host check as the API, and outside the API's session, JSON and limits
 * (a signed URL or policy is the permission, never a cookie: the store does not see the cookie).
 */
export function storageRoute(options: {
  bucket: string;
  allowedHosts: '*' | readonly string[];
  handle: (req: IncomingMessage, res: ServerResponse) => void;
}): RequestHandler[] {
  return [
    knownHostsOnly(options.allowedHosts),
    storageRequestsOnly(options.bucket),
    storageHeaders(),
    (req, res) => {
      delete req.headers.cookie;
      options.handle(req, res);
    },
  ];
}
