import type { RequestHandler } from 'express';
import { AppError } from '../errors/app-error.ts';

/**
 * The API's body reader: a body must be UTF-8 `application/json`, uncompressed, at most `limitBytes`,
 * with an object or an array at the top (as express.json's strict mode); it lands in `req.body`.
 * A request without a body passes with `req.body` undefined.
 *
 * It replaces requireJsonBody + express.json(): body-parser, raw-body, iconv-lite and type-is cost
 * ~50 µs of CPU on every signing request here, a fifth of what signing adds to a request
 * (npm run bench); reading a few hundred bytes of JSON needs one read() (or, while the body is
 * still arriving, three listeners) and a JSON.parse.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    // Read already (by an earlier reader): waiting for an 'end' that has passed would never answer.
    if (req.readableEnded) return next();
    const { headers } = req;
    const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    if (headers['transfer-encoding'] === undefined && !declared) return next();
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (!isUtf8Json(headers['content-type']) || (encoding && encoding !== 'identity')) {
      return next(new AppError('json_required', 'Send the request body as UTF-8 application/json.'));
    }
    if (declared !== undefined && declared > limitBytes) return next(tooLarge(res));

    // A small body usually comes in the same packet as the headers (browsers, curl and autocannon
    // send it so), and Node parses it right after this middleware returns, before the check phase:
    // then one read() takes it whole, without flowing mode's listeners, resume() and ticks. That
    // took a signing request from 165 to 143 µs of CPU under npm run bench's load (A/B of two
    // servers). A body still on its way is read as it comes. (On the next tick it would be too
    // early: Node runs the tick queue after the headers' callback, before parsing the body.)
    setImmediate(readBody, req, res, next, limitBytes);
  };
}

type BodyHandler = Parameters<RequestHandler>;

function readBody(req: BodyHandler[0], res: BodyHandler[1], next: BodyHandler[2], limitBytes: number) {
  if (req.destroyed) return next(unreadable());
  if (!req.complete || req.readableFlowing) return streamBody(req, res, next, limitBytes);
  if (req.readableLength > limitBytes) {
    return next(tooLarge(res));
  }
  const whole: Buffer | null = req.read();
  next(parseInto(req, whole ?? Buffer.alloc(0)));
}

function streamBody(req: BodyHandler[0], res: BodyHandler[1], next: BodyHandler[2], limitBytes: number) {
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const settle = (error?: AppError) => {
    if (settled) return;
    settled = true;
    next(error);
  };
  req.on('data', (chunk: Buffer) => {
    if (settled) return; // past the limit: the rest is ignored until the connection closes
    received += chunk.length;
    if (received > limitBytes) {
      settle(tooLarge(res));
    } else {
      chunks.push(chunk);
    }
  });
  req.on('end', () => settle(parseInto(req, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received))));
  // An aborted request is destroyed with an error ('aborted').
  req.on('error', () => settle(unreadable()));
}

/** Sets req.body to the JSON in `bytes`; the error for anything but an object or an array. */
function parseInto(req: BodyHandler[0], bytes: Buffer): AppError | undefined {
  let body: unknown;
  try {
    const text = bytes.toString('utf8');
    body = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return invalidJson();
  }
  if (typeof body !== 'object' || body === null) return invalidJson();
  req.body = body;
  return undefined;
}

const invalidJson = () => new AppError('invalid_json', 'The request body is not valid JSON (an object or an array).');
const unreadable = () => new AppError('invalid_request', 'The request could not be read.');
/**
 * The error for a body past the limit. The connection closes after the answer: Node would otherwise
 * read and discard whatever the client still sends, up to its request timeout.
 */
function tooLarge(res: BodyHandler[1]): AppError {
  res.setHeader('Connection', 'close');
  return new AppError('body_too_large', 'The request body is too large.');
}

/** `application/json`, with no charset or a UTF-8 one (what express.json accepted: only `utf-*` charsets, of which browsers send utf-8). */
function isUtf8Json(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true;
  const [essence = '', ...params] = contentType.split(';');
  if (essence.trim().toLowerCase() !== 'application/json') return false;
  return params.every((param) => {
    const [name = '', value = ''] = param.split('=');
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-8"?$/i.test(value.trim());
  });
}
