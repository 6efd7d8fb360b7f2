import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { freePort } from './free-port.ts';

export interface TestRedis {
  url: string;
  /** Stops it (SIGTERM) and waits for the process to end: its data is gone (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP: it keeps its connections but answers nothing (a stuck or swapping Redis); `thaw` (SIGCONT) lets it go on. */
  freeze(): void;
  thaw(): void;
}

/** Whether Debian's redis-server is here (scripts/test.sh installs it). */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Our own redis-server on a free loopback port, no persistence, for a test that stops and starts it.
 * Ready when it says "Ready to accept connections" (a signal, not a sleep).
 */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child = started;
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      started.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server ended (${code}) before it was ready:\n${seen}`)));
    });
    started.stdout.resume();
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const ended = once(running, 'exit');
      running.kill('SIGTERM');
      running.kill('SIGCONT'); // a frozen one ends only once it runs again
      await ended;
    },
  };
}
