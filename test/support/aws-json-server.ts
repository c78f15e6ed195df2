import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shared plumbing for the fake AWS services (fake-glue.ts, fake-athena.ts): an HTTP server on
 * 127.0.0.1 that speaks the awsJson1_1 protocol the real SDK v3 clients use.
 *
 * Wire facts this follows (checked against @aws-sdk/core's AwsJsonRpcProtocol and public
 * measurements of the real services):
 * - requests are `POST /` with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body;
 * - errors are HTTP 400 (500 for internal errors) with a body `{"__type": "<Code>", "Message": "..."}`.
 *   The SDK takes the error code from `__type` first, then `code`, then the `x-amzn-errortype`
 *   header; real Athena sends no such header, so it is optional here;
 * - the SDK retries error codes it classifies as throttling (`ThrottlingException`,
 *   `TooManyRequestsException`, ...) and HTTP 500/502/503/504, up to `maxAttempts`.
 */

/** One request as the fake received it, in arrival order (retries appear as separate calls). */
export interface RecordedCall {
  operation: string;
  input: any;
}

/** An error the fake answers with, in the real service's shape. */
export class AwsJsonError extends Error {
  readonly type: string;
  readonly status: number;
  /** Extra top-level body fields, e.g. Athena's `AthenaErrorCode`. */
  readonly fields: Record<string, unknown>;
  /** Some real errors (SerializationException, UnknownOperationException) carry no Message at all. */
  readonly hasMessage: boolean;

  constructor(type: string, message: string | undefined, fields: Record<string, unknown> = {}, status = statusFor(type)) {
    super(message ?? type);
    this.name = 'AwsJsonError';
    this.type = type;
    this.status = status;
    this.fields = fields;
    this.hasMessage = message !== undefined;
  }
}

const SERVER_ERROR_TYPES = new Set(['InternalServiceException', 'InternalServerException', 'InternalFailure']);

function statusFor(type: string): number {
  if (SERVER_ERROR_TYPES.has(type)) return 500;
  if (type === 'ServiceUnavailableException') return 503;
  return 400;
}

/** Handles one operation: returns the response body or throws an AwsJsonError. */
export type OperationHandler = (input: any) => unknown;

export interface AwsJsonServerOptions {
  /** `AWSGlue`, `AmazonAthena`: the part of `X-Amz-Target` before the dot. */
  targetPrefix: string;
  handlers: Record<string, OperationHandler>;
  /** Also send the error code in an `x-amzn-ErrorType` header (the body's `__type` is always sent). */
  errorTypeHeader: boolean;
  /** Fields added to every injected error of a given type, e.g. Athena's `AthenaErrorCode`. */
  injectedErrorFields?: (errorType: string) => Record<string, unknown>;
}

/** A running awsJson1_1 endpoint. */
export interface AwsJsonServer {
  endpoint: string;
  calls: RecordedCall[];
  /** Fail the next `times` calls of `operation` with `errorType` before the handler runs. */
  failNext(operation: string, errorType: string, message?: string, times?: number): void;
  /** Stops listening and drops open keep-alive connections. */
  close(): Promise<void>;
}

interface PendingFailure {
  errorType: string;
  message: string;
  remaining: number;
}

const DEFAULT_INJECTED_MESSAGES: Record<string, string> = {
  ThrottlingException: 'Rate exceeded',
  TooManyRequestsException: 'Rate exceeded',
  ConcurrentModificationException: 'Update table failed due to concurrent modifications.',
  InternalServiceException: 'An internal service error occurred.',
  InternalServerException: 'An internal server error occurred.',
};

/** Settings for a real SDK v3 client talking to one of these servers (static fake credentials, SDK retries). */
export function fakeClientConfig(endpoint: string, service: string): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number } {
  return { region: 'us-east-1', endpoint, credentials: { accessKeyId: `AKIDFAKE${service.toUpperCase()}`, secretAccessKey: `fake-${service}-secret` }, maxAttempts: 4 };
}

/** Starts the server on a random free port of 127.0.0.1. */
export async function startAwsJsonServer(options: AwsJsonServerOptions): Promise<AwsJsonServer> {
  const calls: RecordedCall[] = [];
  const failures = new Map<string, PendingFailure[]>();

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => respond(res, dispatch(req, body), options.errorTypeHeader),
      (err: unknown) => respond(res, { error: new AwsJsonError('FakeServerError', String(err)) }, options.errorTypeHeader),
    );
  });

  function dispatch(req: IncomingMessage, body: string): Outcome {
    const target = header(req, 'x-amz-target');
    const prefix = `${options.targetPrefix}.`;
    const operation = target?.startsWith(prefix) ? target.slice(prefix.length) : undefined;
    const handler = operation === undefined ? undefined : options.handlers[operation];
    if (req.method !== 'POST' || operation === undefined || handler === undefined) {
      calls.push({ operation: operation ?? target ?? '', input: undefined });
      return { error: new AwsJsonError('UnknownOperationException', undefined) };
    }
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      calls.push({ operation, input: undefined });
      return { error: new AwsJsonError('SerializationException', undefined) };
    }
    calls.push({ operation, input });
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return { error: new AwsJsonError('SerializationException', undefined) };
    }
    const injected = takeFailure(operation);
    if (injected) {
      const fields = options.injectedErrorFields?.(injected.errorType) ?? {};
      return { error: new AwsJsonError(injected.errorType, injected.message, fields) };
    }
    try {
      return { body: handler(input) ?? {} };
    } catch (err) {
      if (err instanceof AwsJsonError) return { error: err };
      // A bug in the fake itself: a non-retryable, unmistakable error instead of a 500 the SDK would retry.
      const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
      return { error: new AwsJsonError('FakeServerError', `fake ${options.targetPrefix} failed: ${message}`) };
    }
  }

  function takeFailure(operation: string): PendingFailure | undefined {
    const queue = failures.get(operation);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    return next;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    failNext(operation, errorType, message, times = 1) {
      if (!Number.isInteger(times) || times < 1) throw new Error(`failNext: times must be a positive integer, got ${times}`);
      const queue = failures.get(operation) ?? [];
      queue.push({ errorType, message: message ?? DEFAULT_INJECTED_MESSAGES[errorType] ?? errorType, remaining: times });
      failures.set(operation, queue);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

type Outcome = { body: unknown } | { error: AwsJsonError };

function respond(res: ServerResponse, outcome: Outcome, errorTypeHeader: boolean): void {
  res.setHeader('Content-Type', 'application/x-amz-json-1.1');
  res.setHeader('x-amzn-RequestId', randomUUID());
  if ('body' in outcome) {
    res.statusCode = 200;
    res.end(JSON.stringify(outcome.body));
    return;
  }
  const { error } = outcome;
  res.statusCode = error.status;
  if (errorTypeHeader) res.setHeader('x-amzn-ErrorType', error.type);
  const body: Record<string, unknown> = { __type: error.type, ...error.fields };
  if (error.hasMessage) body.Message = error.message;
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Collects request-validation failures and reports them the way AWS's request validation does:
 * `2 validation errors detected: Value null at 'databaseName' failed to satisfy constraint: Member
 * must not be null; ...`. Paths are the lowerCamel member names the real services print.
 */
export class ConstraintCheck {
  private readonly violations: string[] = [];

  /**
   * @param printValues Whether messages quote the offending value (`Value '0' at 'maxResults'`).
   *   Real Athena prints `Value at 'maxResults'` without it; Glue's messages quote it.
   */
  constructor(private readonly printValues = true) {}

  private value(value: unknown): string {
    return this.printValues ? `Value '${String(value)}' at` : 'Value at';
  }

  /** A required member is missing (undefined or null). Returns whether it is present. */
  required(value: unknown, path: string): boolean {
    if (value === undefined || value === null) {
      this.violations.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return false;
    }
    return true;
  }

  /** String length bounds, counted in characters. Missing values pass (see `required`). */
  length(value: unknown, path: string, min: number, max: number): void {
    if (typeof value !== 'string') return;
    if (value.length < min) {
      this.violations.push(`${this.value(value)} '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
    } else if (value.length > max) {
      this.violations.push(`${this.value(value)} '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    }
  }

  /** List size bounds. The list itself is not printed (it can be 100 partitions long). */
  size(value: unknown, path: string, min: number, max: number): void {
    if (!Array.isArray(value)) return;
    if (value.length < min) {
      this.violations.push(`Value at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
    } else if (value.length > max) {
      this.violations.push(`Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    }
  }

  /** A string must match `pattern` (anchored); `patternText` is how the service prints it. */
  pattern(value: unknown, path: string, pattern: RegExp, patternText: string): void {
    if (typeof value !== 'string' || pattern.test(value)) return;
    this.violations.push(`${this.value(value)} '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${patternText}`);
  }

  /** Integer bounds. */
  range(value: unknown, path: string, min: number, max: number): void {
    if (typeof value !== 'number') return;
    if (value < min) {
      this.violations.push(`${this.value(value)} '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    } else if (value > max) {
      this.violations.push(`${this.value(value)} '${path}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
    }
  }

  /** Throws `errorType` listing every violation, if there is any. */
  throwIfAny(errorType: string, fields: Record<string, unknown> = {}): void {
    const n = this.violations.length;
    if (n === 0) return;
    const message = `${n} validation error${n === 1 ? '' : 's'} detected: ${this.violations.join('; ')}`;
    throw new AwsJsonError(errorType, message, fields);
  }
}

/**
 * Opaque continuation tokens: an offset bound to the listing it came from, so a token from one
 * listing (or a hand-made string) is refused instead of silently paging something else.
 */
export function encodePageToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset }), 'utf8').toString('base64url');
}

/** The offset a token encodes, or undefined when the token is malformed or belongs to another listing. */
export function decodePageToken(token: string, scope: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    if (parsed.s !== scope || typeof parsed.o !== 'number' || !Number.isInteger(parsed.o) || parsed.o < 0) return undefined;
    return parsed.o;
  } catch {
    return undefined;
  }
}

/** Seconds since the epoch, the awsJson1_1 wire form of a timestamp. */
export function epochSeconds(date = new Date()): number {
  return date.getTime() / 1000;
}
