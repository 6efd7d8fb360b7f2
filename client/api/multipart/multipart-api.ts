import { PartCheck, type UploadedPart, type UploadRequest } from '../../../contract/api.ts';
import { postboxApi } from '../postbox.ts';
import type { ResumeRecord } from './resume-record.ts';

/** An upload being sent: what its creation answered, and the file's size. */
export type OpenUpload = Omit<ResumeRecord, 'createdAt'> & { size: number };

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/**
 * The server calls the multipart orchestrator makes, in its own terms: the one place that knows
 * the wire shapes. Signing and completing name the upload by its `uploadToken` (the server takes
 * key, upload id and sizes from it); listing parts and aborting by key and upload id.
 */
export interface MultipartApi {
  create(request: UploadRequest, signal: AbortSignal): Promise<Omit<OpenUpload, 'size'>>;
  /** Throws ApiError `not_found` when storage no longer has the upload. */
  listParts(upload: OpenUpload, signal: AbortSignal): Promise<UploadedPart[]>;
  /** URLs for these parts, and when they expire (ms since the epoch). */
  signParts(upload: OpenUpload, partNumbers: number[], signal: AbortSignal): Promise<{ urls: Map<number, string>; expiresAt: number }>;
  complete(upload: OpenUpload, parts: CompletedPart[], signal: AbortSignal): Promise<void>;
  abort(upload: Pick<OpenUpload, 'key' | 'uploadId' | 'uploadToken'>): Promise<void>;
}

const refOf = ({ key, uploadId }: Pick<OpenUpload, 'key' | 'uploadId'>) => ({ key, uploadId });

export const postboxMultipartApi: MultipartApi = {
  async create(request, signal) {
    // Every check there is: this page does each (the server picks the one its store takes).
    const { key, uploadId, partSize, partCheck, uploadToken } = await postboxApi.createMultipart(request, PartCheck.options, signal);
    return { key, uploadId, partSize, partCheck, uploadToken };
  },
  listParts: async (upload, signal) => (await postboxApi.listParts(refOf(upload), signal)).parts,
  async signParts(upload, partNumbers, signal) {
    const answer = await postboxApi.signParts({ uploadToken: upload.uploadToken, partNumbers }, signal);
    return { urls: new Map(answer.urls.map((u) => [u.partNumber, u.url])), expiresAt: Date.parse(answer.expiresAt) };
  },
  complete: async (upload, parts, signal) => {
    await postboxApi.completeMultipart({ uploadToken: upload.uploadToken, parts }, signal);
  },
  abort: (upload) => postboxApi.abortMultipart(refOf(upload)),
};
