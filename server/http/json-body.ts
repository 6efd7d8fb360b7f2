import express, { type Request, type RequestHandler } from 'express';
import { AppError } from '../errors/app-error.ts';

/**
 * The API's body reader: express.json for UTF-8 `application/json`, uncompressed, at most
 * `limitBytes`, with an object or an array at the top (strict); it lands in `req.body`. A request
 * without a body passes with `req.body` undefined. body-parser's own errors (too large, malformed,
 * another charset or encoding) become AppErrors in errors/error-handler.ts.
 *
 * Checked here first, because express.json would not refuse them: another content type (it would
 * skip the body), a charset other than UTF-8 (it decodes any `utf-*`), and a declared length past
 * the limit (it would read and discard the whole body before answering).
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ type: 'application/json', strict: true, inflate: false, limit: limitBytes });
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (req.is('application/json') !== 'application/json' || !isUtf8(req.headers['content-type'])) {
      return next(new AppError('json_required', 'Send the request body as UTF-8 application/json.'));
    }
    if (Number(req.headers['content-length']) > limitBytes) return next(new AppError('body_too_large', 'The request body is too large.'));
    parse(req, res, next);
  };
}

/** A body to read: chunked, or a Content-Length above 0 (browsers send `Content-Length: 0` for a POST without one). */
const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;

/** No charset parameter, or UTF-8 (what browsers send). */
function isUtf8(contentType = ''): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1];
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}
