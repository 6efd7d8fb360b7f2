import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';

/**
 * The Uppy 5 lane of `npm run bench:upload` (scripts/bench-upload.ts builds this page with Vite and
 * serves it under the app's origin; it is no part of the app). Multipart through @uppy/aws-s3, signed
 * by `benchS3`, a function the bench exposes from Node (it holds the S3 credentials).
 */

type BenchS3 = {
  (op: 'create', args: { name: string; type: string }): Promise<{ key: string; uploadId: string }>;
  (op: 'sign', args: { key: string; uploadId: string; partNumber: number }): Promise<{ url: string }>;
  (op: 'complete', args: { key: string; uploadId: string; parts: Array<{ PartNumber?: number; ETag?: string }> }): Promise<object>;
  (op: 'abort', args: { key: string; uploadId: string }): Promise<object>;
};

declare global {
  interface Window {
    benchS3: BenchS3;
    benchUpload: (partSize: number, limit: number) => Promise<void>;
  }
}

window.benchUpload = async (partSize, limit) => {
  const file = document.querySelector<HTMLInputElement>('#file')!.files![0]!;
  const uppy = new Uppy({ autoProceed: false }).use(AwsS3, {
    shouldUseMultipart: true,
    limit,
    getChunkSize: () => partSize,
    createMultipartUpload: (f) => window.benchS3('create', { name: f.name ?? 'file', type: f.type ?? 'application/octet-stream' }),
    signPart: (_f, { key, uploadId, partNumber }) => window.benchS3('sign', { key: key ?? '', uploadId, partNumber }),
    completeMultipartUpload: async (_f, { key, uploadId, parts }) => {
      await window.benchS3('complete', { key, uploadId, parts });
      return {};
    },
    listParts: () => [],
    abortMultipartUpload: async (_f, { key, uploadId }) => {
      await window.benchS3('abort', { key: key ?? '', uploadId: uploadId ?? '' });
    },
  });
  uppy.addFile({ name: file.name, type: file.type, data: file });
  const result = await uppy.upload();
  if (!result || result.failed?.length) throw new Error(`Uppy: ${result?.failed?.map((f) => String(f.error)).join('; ') ?? 'no result'}`);
  uppy.destroy();
};
