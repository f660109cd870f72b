import pino, { type Logger } from 'pino';

/**
 * A logger for the components under test that keeps their last warning instead of printing it:
 * the relay logs an unacknowledged batch at warn and retries, so without this a run that never
 * publishes would only time out, with no reason given.
 */
export function createWarningTap(): { logger: Logger; last(): string | undefined; count(): number } {
  let last: string | undefined;
  let count = 0;
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string) {
        count += 1;
        last = summarize(line);
      },
    },
  );
  return { logger, last: () => last, count: () => count };
}

/** `msg: err.message` from a pino JSON line, or the line itself. */
function summarize(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return [entry.msg, entry.err?.message].filter((part) => part !== undefined).join(': ') || line.trim();
  } catch {
    return line.trim();
  }
}
