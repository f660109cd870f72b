import pino, { type Logger } from 'pino';

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? 'torrentedge',
    level: options.level,
    // Never log credentials, whatever a caller passes in.
    redact: ['req.headers.authorization', 'headers.authorization', 'token'],
  });
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
