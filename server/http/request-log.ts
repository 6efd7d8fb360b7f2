import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** What a log line says about the request. Never headers (cookies, tokens), never bodies. */
export interface LoggedRequest {
  id: string;
  method: string;
  url: string;
}

/** Share link ids work like passwords: a log line shows where they were, not what they are. Express routes in any case. */
export const redactShareIds = (url: string) => url.replace(/^(\/s|\/api\/shares)\/[^/?#]+/i, '$1/<id>');

/**
 * Given req and res themselves (`wrapSerializers: false`): pino-http would otherwise first copy each
 * into pino-std-serializers' objects (headers, addresses) that these drop anyway. The URL is the
 * one requested: pino-http binds it when the request arrives, before a router strips a mount path.
 */
const serializers = {
  req: (req: IncomingMessage & { id: string }): LoggedRequest => ({
    id: req.id,
    method: req.method ?? '',
    url: redactShareIds(req.url ?? ''),
  }),
  res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
};

/**
 * pino-http: a random id and `req.log` (its lines carry `req: { id, method, url }`) for every
 * request, and one line `{ req, res: { statusCode }, responseTime }` per request `shouldLog` picks,
 * when its response is done or aborted. A 5xx line carries no error: the error handler logs the
 * cause, once. The id is ours, never a client's header.
 */
export function requestLogging(logger: Logger, shouldLog: (url: string) => boolean): RequestHandler {
  return pinoHttp<IncomingMessage, ServerResponse>({
    logger,
    genReqId: () => randomUUID(),
    serializers,
    wrapSerializers: false,
    autoLogging: { ignore: (req) => !shouldLog(req.url ?? '') },
    customErrorObject: (_req, _res, _error, line: { res: ServerResponse; responseTime: number }) => ({
      res: line.res,
      responseTime: line.responseTime,
    }),
  });
}
