import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

export function useSession() {
  return useQuery({ queryKey: queryKeys.session(), queryFn: postboxApi.session, staleTime: 60_000 });
}

/** Signing in or out changes what every other query may see: refetch them all. */
export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (password: string) => postboxApi.signIn(password),
    onSuccess: () => queryClient.invalidateQueries(),
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => postboxApi.signOut(),
    onSuccess: () => queryClient.resetQueries(),
  });
}
