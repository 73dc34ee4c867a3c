/**
 * The soak's HTTP client for keel's API, retrying the way an honest client does: a request whose
 * answer never arrived (connection refused or reset, a timeout, 503 while keel stops, 429) is sent
 * again unchanged — same path, same body, same Idempotency-Key — until an answer arrives or the
 * caller's deadline passes. Invariant: a request is never altered between attempts, so a retry is
 * the same request to keel, and an answer (2xx or a 4xx refusal) is never retried.
 */

export type ApiAnswer =
  { kind: 'answer'; status: number; json: Record<string, unknown> } | { kind: 'unreachable'; reason: string };

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
}

export interface Api {
  /** One attempt. */
  once(request: ApiRequest): Promise<ApiAnswer>;
  /**
   * Attempts until an answer arrives or `giveUp()` says to stop (checked between attempts);
   * `onRetry` hears each failed attempt.
   */
  honestly(
    request: ApiRequest,
    giveUp: () => boolean,
    onRetry?: (reason: string) => void,
  ): Promise<ApiAnswer>;
}

const REQUEST_TIMEOUT_MS = 15_000;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 1_000;

/** Statuses that mean "not handled, send it again": keel stopping (503), the rate limit (429). */
const RETRYABLE: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function createApi(port: number, token: string): Api {
  async function once(request: ApiRequest): Promise<ApiAnswer> {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${request.path}`, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(request.idempotencyKey === undefined ? {} : { 'idempotency-key': request.idempotencyKey }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      let json: Record<string, unknown> = {};
      if (text.startsWith('{')) json = JSON.parse(text) as Record<string, unknown>;
      return { kind: 'answer', status: response.status, json };
    } catch (error) {
      // fetch hides the socket error in `cause` (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, …).
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'unreachable', reason: cause ?? (error instanceof Error ? error.name : String(error)) };
    }
  }

  async function honestly(
    request: ApiRequest,
    giveUp: () => boolean,
    onRetry?: (reason: string) => void,
  ): Promise<ApiAnswer> {
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      const answer = await once(request);
      if (answer.kind === 'answer' && !RETRYABLE.has(answer.status)) return answer;
      if (giveUp()) return answer;
      onRetry?.(answer.kind === 'answer' ? `HTTP ${answer.status}` : answer.reason);
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
  }

  return { once, honestly };
}
