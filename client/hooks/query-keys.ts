/** Every query key comes from here, so invalidations cannot drift from the queries they target. */
export const queryKeys = {
  settings: () => ['settings'] as const,
  session: () => ['session'] as const,
  health: () => ['health'] as const,
  files: {
    all: () => ['files'] as const,
    list: () => ['files', 'list'] as const,
    /** Under files: whatever refreshes the list (an upload, a delete) refreshes the usage too. */
    usage: () => ['files', 'usage'] as const,
  },
  tokens: () => ['tokens'] as const,
  /** A file's short-lived inline preview URL (not under files: refreshing the list need not re-sign it). */
  preview: (key: string) => ['preview', key] as const,
  thumbnails: {
    all: () => ['thumbnails'] as const,
    /** Inline URLs of the thumbnails of these rows (one call for up to THUMBNAILS_PER_CALL). */
    forKeys: (keys: readonly string[]) => ['thumbnails', ...keys] as const,
  },
  multipartUploads: {
    all: () => ['multipart-uploads'] as const,
    /** Multipart uploads started at least `olderThanSeconds` ago and never completed or aborted. */
    stale: (olderThanSeconds: number) => ['multipart-uploads', 'stale', olderThanSeconds] as const,
  },
  shares: {
    all: () => ['shares'] as const,
    forFile: (key: string) => ['shares', 'file', key] as const,
  },
};
