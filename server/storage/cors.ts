import type { CORSRule } from '@aws-sdk/client-s3';

/**
 * The CORS rule an external bucket needs for browsers on the app's origins: POST (form uploads),
 * PUT, GET/HEAD (downloads), and ETag exposed so a browser can read it after an upload. The
 * embedded store needs none: browsers reach it under the app's own origin (/storage).
 */
export function corsRule(origins: string[]): CORSRule {
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 3600,
  };
}
