import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';

/**
 * The origin browsers talk to for this bucket (where forms post and links point), resolved by the
 * SDK's own endpoint rules as the presigners do: path-style, virtual-hosted or a custom endpoint.
 */
export async function storageOrigin(signingClient: S3Client, bucket: string): Promise<string> {
  const endpoint = await getEndpointFromInstructions({ Bucket: bucket, Key: 'k' }, PutObjectCommand, signingClient.config);
  return new URL(endpoint.url.href).origin;
}
