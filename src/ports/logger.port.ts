/**
 * The logger port: the structured-logging subset keel uses (pino-compatible). Fields are
 * objects, never interpolated strings, so logs stay machine-readable; secrets are redacted
 * by the adapter.
 */
export interface LoggerPort {
  child(bindings: Record<string, unknown>): LoggerPort;
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
