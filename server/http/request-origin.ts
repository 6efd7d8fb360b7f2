import type { Request } from 'express';
import { PLAIN_HOST } from '../config/config.ts';

/**
 * The origin a request was sent to: its Host, or X-Forwarded-Host and -Proto when TRUST_PROXY
 * believes the sender. Undefined when that host is not a plain host[:port] (a proxy that passes a
 * client's X-Forwarded-Host on unchecked would otherwise let it write any text into share links).
 */
export function requestOrigin(req: Request): string | undefined {
  const host = req.host;
  return host !== undefined && PLAIN_HOST.test(host) ? `${req.protocol}://${host}` : undefined;
}
