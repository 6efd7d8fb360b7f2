import { pino, type Logger } from 'pino';
import type { Config } from './config/config.ts';

/** JSON lines on stdout; with LOG_FORMAT=pretty, pino-pretty's readable lines (in pino's transport worker). */
export function createLogger(level: Config['logLevel'], format: Config['logFormat'] = 'json'): Logger {
  if (format === 'pretty') return pino({ level, base: undefined, transport: { target: 'pino-pretty', options: { destination: 1 } } });
  return pino({ level, base: undefined });
}
