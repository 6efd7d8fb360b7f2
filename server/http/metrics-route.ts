import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../metrics/metrics.ts';
import { STORAGE_PATH } from '../storage/storage-origin.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Headers a proxy adds: a request that carries one came through a proxy, whatever its socket says. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

const isLoopbackAddress = (address: string | undefined) =>
  address !== undefined && (/^127\./.test(address) || /^::ffff:127\./i.test(address) || address === '::1');

export type MetricsVerdict = 'serve' | 'not_found' | 'unauthorized';

/**
 * Whether a scrape is served: with the right `Authorization: Bearer <METRICS_TOKEN>`, or from this
 * machine (the socket's address, never X-Forwarded-For) and not through a proxy: a proxy on the same
 * machine would make every visitor's request look local. Anyone else is told there is nothing here;
 * a wrong token, that it is wrong.
 */
export function metricsVerdict(
  request: { remoteAddress: string | undefined; headers: Record<string, string | string[] | undefined> },
  token: string | undefined,
): MetricsVerdict {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') {
    const bearer = /^Bearer (.+)$/i.exec(authorization)?.[1];
    return token && bearer && timingSafeEqual(digest(bearer), digest(token)) ? 'serve' : 'unauthorized';
  }
  const proxied = PROXY_HEADERS.some((name) => request.headers[name] !== undefined);
  return isLoopbackAddress(request.remoteAddress) && !proxied ? 'serve' : 'not_found';
}

/** `GET /metrics` in Prometheus's text format, for loopback or METRICS_TOKEN (see metricsVerdict). */
export function metricsRoute(metrics: Metrics, token: string | undefined): RequestHandler {
  return async (req, res) => {
    const verdict = metricsVerdict({ remoteAddress: req.socket.remoteAddress, headers: req.headers }, token);
    res.setHeader('Cache-Control', 'no-store');
    if (verdict === 'unauthorized') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="postbox-metrics"');
      return void res.status(401).type('text').send('Wrong metrics token.\n');
    }
    if (verdict === 'not_found') return void res.status(404).type('text').send('Not found.\n');
    const { contentType, body } = await metrics.scrape();
    res.type(contentType).send(body);
  };
}

/**
 * The route label of a finished request: its Express route pattern under the mount it was matched
 * in, never the URL (keys and share ids are in URLs). API routers restore `baseUrl` once a request
 * leaves them (an error on its way to the app's handler), so the mount comes from the path.
 */
export function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  const url = req.originalUrl;
  const mount = url === '/api' || url.startsWith('/api/') || url.startsWith('/api?') ? '/api' : '';
  if (typeof pattern === 'string') return mount + pattern;
  if (url === STORAGE_PATH || url.startsWith(`${STORAGE_PATH}/`) || url.startsWith(`${STORAGE_PATH}?`)) return STORAGE_PATH;
  if (url.startsWith('/s/')) return '/s/:id';
  return mount ? '/api (no route)' : '(no route)';
}

/** Counts and times every request by route pattern and status (429s also as rate-limit refusals). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      metrics.httpRequestDone(req.method, routeLabel(req), res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}
