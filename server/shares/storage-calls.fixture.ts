import type { S3Client } from '@aws-sdk/client-s3';

/**
 * For tests: records the name of every command `client` sends (GetObjectCommand, ListObjectsCommand…)
 * until `stop`. It uses the SDK's documented middleware stack; the calls still go to the real store.
 */
export function recordStorageCalls(client: S3Client): { calls: string[]; count(command: string): number; stop(): void } {
  const name = `recordStorageCalls-${Math.random().toString(36).slice(2)}`;
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    calls,
    count: (command) => calls.filter((call) => call === command).length,
    stop: () => void client.middlewareStack.remove(name),
  };
}
