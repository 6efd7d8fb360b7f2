import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { ErrorBody } from '../http/contract.ts';
import { AppError } from './app-error.ts';

/** Body-parser errors carry a `type`; map the ones a client can cause to our codes. */
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return new AppError('invalid_json', 'The request body is not valid JSON.');
  if (type === 'entity.too.large') return new AppError('body_too_large', 'The request body is too large.');
  if (typeof type === 'string' && /^(encoding|charset)\.unsupported$|^request\.(aborted|size\.invalid)$/.test(type)) {
    return new AppError('invalid_request', 'The request body could not be read.');
  }
  return undefined;
}

/** "size: Too small: expected number to be >=0; type: Invalid input: expected string" */
function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return new AppError('invalid_request', describeIssues(err.issues));
  return fromBodyParser(err) ?? new AppError('internal_error', 'Something went wrong on our side.', { cause: err });
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `No API route for ${req.method} ${req.path}.`));
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const error = toAppError(err);
  if (error.status >= 500) {
    // Logged here and only here, with the underlying cause, so each failure is logged once.
    req.log.error({ err: error.cause ?? error, code: error.code }, error.message);
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  res.status(error.status).json(body);
};
