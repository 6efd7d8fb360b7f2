import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { ErrorBody } from '../../contract/api.ts';
import { AppError } from './app-error.ts';

/** body-parser's errors (express.json on the API, express.urlencoded on the share pages), by their `type`. */
const bodyParserErrors: Record<string, () => AppError> = {
  'entity.too.large': () => new AppError('body_too_large', 'The request body is too large.'),
  'entity.parse.failed': () => new AppError('invalid_json', 'The request body is not valid JSON (an object or an array).'),
  'charset.unsupported': () => new AppError('json_required', 'Send the request body as UTF-8 application/json.'),
  'encoding.unsupported': () => new AppError('json_required', 'Send the request body as UTF-8 application/json.'),
};

/**
 * Errors from Express (a path that does not decode) and from body-parser carry a 4xx `status`: the
 * client's fault, never a 500.
 */
function fromHttpError(err: unknown): AppError | undefined {
  const { status, type } = (err ?? {}) as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const known = typeof type === 'string' && Object.hasOwn(bodyParserErrors, type) ? bodyParserErrors[type]!() : undefined;
  if (known) return known;
  if (status === 413) return new AppError('body_too_large', 'The request body is too large.');
  if (status === 415) return new AppError('json_required', 'The request body is in a type, charset or encoding not read here.');
  return new AppError('invalid_request', 'The request could not be read.');
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
  return fromHttpError(err) ?? new AppError('internal_error', 'Something went wrong on our side.', { cause: err });
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
  // Whatever of a too-large body the client still sends is not read: the connection closes after the answer.
  if (error.code === 'body_too_large') res.setHeader('Connection', 'close');
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  res.status(error.status).json(body);
};
