import { randomUUID } from 'node:crypto';
import type { Express, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'http' {
  interface IncomingMessage {
    /** A random id per request, in every log line about it. */
    id: string;
    /** The logger for this request: its lines carry `req: { id, method, url }`. */
    log: Logger;
  }
}

/** What a log line says about the request. Never headers (cookies, tokens), never bodies. */
export interface LoggedRequest {
  id: string;
  method: string;
  url: string;
}

const childLogger = Symbol('childLogger');
type LoggingRequest = Request & { [childLogger]?: Logger };

/** Share link ids work like passwords: a log line shows where they were, not what they are. */
const redactShareIds = (url: string) => url.replace(/^(\/s|\/api\/shares)\/[^/?#]+/i, '$1/<id>'); // Express routes in any case
const describe = (req: Request): LoggedRequest => ({ id: req.id, method: req.method, url: redactShareIds(req.originalUrl) });

/**
 * A request id for every request, `req.log`, and one line per request that `shouldLog` picks when
 * its response is done (or aborted): `{ req, res: { statusCode }, responseTime, msg }`, the line
 * pino-http wrote here before.
 *
 * pino-http made a child logger for every request (serializing the request into its bindings)
 * and added and removed three listeners; under load that cost ~45 µs of CPU per API request,
 * more than a third of the whole cost of the constant /api/settings route (npm run bench). Here a
 * request costs an id, one listener and the line itself; the child logger is made only when a
 * handler actually uses `req.log` (warnings and errors).
 */
export function requestLogging(app: Express, logger: Logger, shouldLog: (url: string) => boolean): RequestHandler {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: LoggingRequest): Logger {
      return (this[childLogger] ??= logger.child({ req: describe(this) }));
    },
  });

  return (req, res, next) => {
    req.id = randomUUID();
    if (shouldLog(req.url)) {
      const started = Date.now();
      res.once('close', () => {
        const line = { req: describe(req), res: { statusCode: res.statusCode }, responseTime: Date.now() - started };
        if (!res.writableFinished) logger.info(line, 'request aborted');
        else if (res.statusCode >= 500) logger.info(line, 'request errored'); // the error handler logs the cause, once
        else logger.info(line, 'request completed');
      });
    }
    next();
  };
}
