import type { Request } from 'express';

/** The origin a request was sent to: its Host, or X-Forwarded-Host and -Proto when TRUST_PROXY believes them. */
export const requestOrigin = (req: Request) => `${req.protocol}://${req.host}`;
