import pino, { type Logger } from 'pino';

/** `destination` is a file descriptor (default 1, stdout); a benchmark that prints JSON on stdout logs to 2. */
export function createLogger(options: { level: string; name?: string; destination?: number }): Logger {
  const settings = {
    name: options.name ?? 'torrentedge',
    level: options.level,
    // Never log credentials, whatever a caller passes in.
    redact: ['req.headers.authorization', 'headers.authorization', 'token'],
  };
  return options.destination === undefined ? pino(settings) : pino(settings, pino.destination(options.destination));
}

export const silentLogger = (): Logger => pino({ level: 'silent' });
