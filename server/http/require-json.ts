import type { RequestHandler } from 'express';
import { AppError } from '../errors/app-error.ts';

/** The API reads JSON only: a body of any other type is refused before it is parsed. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    next(new AppError('json_required', 'Send the request body as application/json.'));
    return;
  }
  next();
};
