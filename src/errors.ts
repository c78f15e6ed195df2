/**
 * Every error clicklake expects a user to see. `code` is stable snake_case (safe to match on in CI
 * scripts), `message` is one human line that says what to do, `meta` is JSON-safe context.
 * Anything that is not a ClicklakeError is a bug and the CLI says so.
 */
export class ClicklakeError extends Error {
  readonly code: string;
  readonly meta: Record<string, unknown>;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(code: string, message: string, meta: Record<string, unknown> = {}, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClicklakeError';
    this.code = code;
    this.meta = meta;
    this.exitCode = options?.exitCode ?? 1;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}

export function isClicklakeError(err: unknown): err is ClicklakeError {
  return err instanceof ClicklakeError;
}
