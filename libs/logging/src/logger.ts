import type { LoggerService } from '@nestjs/common';
import { pino, type Logger as Pino } from 'pino';

/** Paths masked in every log line: credentials must never reach the logs. */
export const REDACT_PATHS = ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.secretKey', 'redis.password'];

/** The process's JSON logger. */
export function createPino(level: string, name: string): Pino {
  return pino({ level, name, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } });
}

/**
 * Nest's LoggerService on pino. Nest calls `log(message, context)` or `log(object, message?, context)`;
 * both shapes end up as one JSON line with `context` set to the class name.
 */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const args = context === undefined ? rest : rest.slice(0, -1);
    if (message !== null && typeof message === 'object' && !(message instanceof Error)) {
      const text = typeof args[0] === 'string' ? args[0] : undefined;
      this.pino[level]({ context, ...(message as object) }, text);
      return;
    }
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
      return;
    }
    // Nest passes a stack trace as the second argument of error().
    const stack = level === 'error' && typeof args[0] === 'string' ? args[0] : undefined;
    this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
  }
}
