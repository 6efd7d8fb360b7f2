import type { z } from 'zod';
import { ErrorBody } from '../../contract/api.ts';
import { ApiError } from './errors.ts';

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Error statuses whose body is still the expected answer rather than an ErrorBody. */
  alsoAccept?: number[];
  headers?: Record<string, string>;
}

async function send(path: string, { method = 'GET', body, signal, alsoAccept = [], headers = {} }: RequestOptions): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (signal?.aborted) throw new ApiError('cancelled', 'Request cancelled.');
    throw new ApiError('network_error', (err as Error).message);
  }
  if (response.ok || alsoAccept.includes(response.status)) return response;

  const parsed = ErrorBody.safeParse(await response.json().catch(() => undefined));
  if (parsed.success) throw new ApiError(parsed.data.error.code, parsed.data.error.message);
  throw new ApiError(response.status >= 500 ? 'internal_error' : 'unexpected_response', `HTTP ${response.status}`);
}

/** Calls the API and checks the answer against the same schema the server answers with. */
export async function requestJson<S extends z.ZodType>(schema: S, path: string, options: RequestOptions = {}): Promise<z.infer<S>> {
  const response = await send(path, options);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new ApiError('unexpected_response', parsed.error.message);
  return parsed.data;
}

export async function requestNoContent(path: string, options: RequestOptions = {}): Promise<void> {
  await send(path, options);
}
