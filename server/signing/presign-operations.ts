import {
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SIGV4_MAX_EXPIRES_SECONDS } from '../../contract/api.ts';

type SignableCommand = Parameters<typeof getSignedUrl>[1];
// The SDK's command classes differ in their input types; the allowlist only needs to construct them.
type CommandClass = new (input: never) => unknown;

interface Operation {
  command: CommandClass;
  /** Whether the operation names an object (`--key`). */
  objectKey: boolean;
  /** Extra parameters that may be signed into the URL, by their SDK names. */
  params: Record<string, 'string' | 'number'>;
  /**
   * Methods `--method` may sign it for (boto3's HttpMethod): only ones that do what the operation
   * does. A GetObject signed for DELETE is a DeleteObject URL, which the allowlist exists to refuse.
   */
  methods: readonly string[];
}

/**
 * The guide's `create_presigned_url_expanded`, limited to an allowlist: only these operations
 * and these parameters can be signed. Used by the command-line tool only; no HTTP route reaches it.
 */
export const presignableOperations = {
  'get-object': {
    command: GetObjectCommand,
    objectKey: true,
    params: {
      VersionId: 'string',
      Range: 'string',
      PartNumber: 'number',
      ResponseContentType: 'string',
      ResponseContentDisposition: 'string',
      ResponseCacheControl: 'string',
    },
    methods: ['GET', 'HEAD'],
  },
  'head-object': {
    command: HeadObjectCommand,
    objectKey: true,
    params: { VersionId: 'string', PartNumber: 'number' },
    methods: ['HEAD', 'GET'],
  },
  'put-object': {
    command: PutObjectCommand,
    objectKey: true,
    params: { ContentType: 'string', ContentDisposition: 'string', CacheControl: 'string' },
    methods: ['PUT'],
  },
  'list-objects-v2': {
    command: ListObjectsV2Command,
    objectKey: false,
    params: { Prefix: 'string', Delimiter: 'string', MaxKeys: 'number', StartAfter: 'string', ContinuationToken: 'string' },
    methods: ['GET', 'HEAD'],
  },
  'get-bucket-location': { command: GetBucketLocationCommand, objectKey: false, params: {}, methods: ['GET'] },
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof presignableOperations;

export interface PresignRequest {
  operation: string;
  bucket: string;
  key?: string;
  params?: Record<string, string>;
  expiresIn: number;
  /** Signs the request with another HTTP method than the operation's own (boto3's HttpMethod). */
  method?: string;
}

export class PresignRequestError extends Error {}

function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(presignableOperations, name);
}

export async function presignOperation(client: S3Client, request: PresignRequest): Promise<string> {
  if (!isOperationName(request.operation)) {
    throw new PresignRequestError(`Unknown operation "${request.operation}". Allowed: ${Object.keys(presignableOperations).join(', ')}.`);
  }
  const operation: Operation = presignableOperations[request.operation];
  if (operation.objectKey && !request.key) throw new PresignRequestError(`${request.operation} needs --key.`);
  if (!operation.objectKey && request.key) throw new PresignRequestError(`${request.operation} takes no --key.`);
  if (!Number.isInteger(request.expiresIn) || request.expiresIn < 1 || request.expiresIn > SIGV4_MAX_EXPIRES_SECONDS) {
    throw new PresignRequestError(`--expires must be a whole number of seconds from 1 to ${SIGV4_MAX_EXPIRES_SECONDS}.`);
  }
  const method = request.method?.toUpperCase();
  if (method !== undefined && !operation.methods.includes(method)) {
    throw new PresignRequestError(`${request.operation} can be signed for ${operation.methods.join(' or ')} only.`);
  }

  const input: Record<string, string | number> = { Bucket: request.bucket, ...(request.key && { Key: request.key }) };
  for (const [name, value] of Object.entries(request.params ?? {})) {
    const kind = Object.hasOwn(operation.params, name) ? operation.params[name] : undefined;
    if (!kind) {
      const allowed = Object.keys(operation.params);
      throw new PresignRequestError(
        `${request.operation} does not allow --param ${name}.${allowed.length ? ` Allowed: ${allowed.join(', ')}.` : ''}`,
      );
    }
    if (kind === 'number' && !/^\d+$/.test(value)) throw new PresignRequestError(`--param ${name} must be a whole number.`);
    input[name] = kind === 'number' ? Number(value) : value;
  }

  const command = new operation.command(input as never) as SignableCommand;
  if (method) {
    command.middlewareStack.add(
      (next) => (args) => {
        (args.request as { method: string }).method = method;
        return next(args);
      },
      { step: 'build', name: 'overrideHttpMethod' },
    );
  }
  return getSignedUrl(client, command, { expiresIn: request.expiresIn });
}
