import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BundleRequest, ShareLink, ShareList, ShareRequest } from '../../contract/api.ts';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

/** Download counts change while the panel is open: poll gently, and refetch on focus (the default). */
const REFRESH_MS = 10_000;

/** A file's share links, newest first. */
export function useShares(fileKey: string) {
  return useQuery({
    queryKey: queryKeys.shares.forFile(fileKey),
    queryFn: () => postboxApi.listShares(fileKey),
    refetchInterval: REFRESH_MS,
  });
}

export function useCreateShare(fileKey: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: ShareRequest) => postboxApi.createShare(fileKey, request),
    onSuccess: (link: ShareLink) => {
      // Show it at once, then let the list catch up with the server.
      queryClient.setQueryData<ShareList>(queryKeys.shares.forFile(fileKey), (list) =>
        list ? { shares: [link, ...list.shares.filter((s) => s.id !== link.id)] } : { shares: [link] },
      );
      return queryClient.invalidateQueries({ queryKey: queryKeys.shares.forFile(fileKey) });
    },
  });
}

export function useRevokeShare(fileKey: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => postboxApi.revokeShare(id),
    onSuccess: (_result, id) => {
      queryClient.setQueryData<ShareList>(queryKeys.shares.forFile(fileKey), (list) =>
        list ? { shares: list.shares.filter((s) => s.id !== id) } : list,
      );
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.shares.forFile(fileKey) }),
  });
}

/** One link for several files: each file's list of links gains it. */
export function useCreateBundle() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: BundleRequest) => postboxApi.createBundle(request),
    onSuccess: (_link, request) =>
      Promise.all(request.keys.map((key) => queryClient.invalidateQueries({ queryKey: queryKeys.shares.forFile(key) }))),
  });
}
