import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

/** What the person stores against their quota; refreshed with the file list. */
export function useUsage() {
  return useQuery({ queryKey: queryKeys.files.usage(), queryFn: postboxApi.usage });
}

export function useTokens() {
  return useQuery({ queryKey: queryKeys.tokens(), queryFn: postboxApi.listTokens });
}

export function useCreateToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => postboxApi.createToken(name),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.tokens() }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => postboxApi.revokeToken(id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.tokens() }),
  });
}
