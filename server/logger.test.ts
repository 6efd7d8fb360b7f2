import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** What a process logging one line with createLogger(level, format) writes to stdout. */
async function logged(format: string): Promise<string> {
  const script = `import { createLogger } from './server/logger.ts'; createLogger('info', '${format}').info({ req: { url: '/api/x' } }, 'hello');`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
  return stdout;
}

it('writes JSON lines by default', async () => {
  expect(JSON.parse(await logged('json'))).toMatchObject({ level: 30, msg: 'hello', req: { url: '/api/x' } });
});

it('writes readable lines with LOG_FORMAT=pretty', async () => {
  const text = await logged('pretty');
  expect(text).toMatch(/INFO.*hello/);
  expect(text).toContain('/api/x');
  expect(text).not.toContain('"level"');
});
