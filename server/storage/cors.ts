import type { CORSRule } from '@aws-sdk/client-s3';

/**
 * The CORS rule a bucket needs for browsers on the app's origins: POST (form uploads), PUT,
 * GET/HEAD (downloads), and ETag exposed so a browser can read it after an upload.
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

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function corsConfigurationXml(origins: string[]): string {
  const rule = corsRule(origins);
  const elements = [
    ...rule.AllowedOrigins!.map((v) => `<AllowedOrigin>${escapeXml(v)}</AllowedOrigin>`),
    ...rule.AllowedMethods!.map((v) => `<AllowedMethod>${v}</AllowedMethod>`),
    ...rule.AllowedHeaders!.map((v) => `<AllowedHeader>${v}</AllowedHeader>`),
    ...rule.ExposeHeaders!.map((v) => `<ExposeHeader>${v}</ExposeHeader>`),
    `<MaxAgeSeconds>${rule.MaxAgeSeconds}</MaxAgeSeconds>`,
  ];
  return `<CORSConfiguration><CORSRule>${elements.join('')}</CORSRule></CORSConfiguration>`;
}
