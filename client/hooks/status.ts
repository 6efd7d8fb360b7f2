import { useQuery } from '@tanstack/react-query';
import { postboxApi } from '../api/postbox.ts';
import { queryKeys } from './query-keys.ts';

export function useUploadSettings() {
  return useQuery({ queryKey: queryKeys.settings(), queryFn: postboxApi.settings, staleTime: Infinity });
}

/** Polled, so the page notices when storage goes away or comes back. */
export function useHealth() {
  return useQuery({ queryKey: queryKeys.health(), queryFn: postboxApi.health, refetchInterval: 15_000 });
}
