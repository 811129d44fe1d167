/**
 * Backoff for transient API failures (no answer, deadline, 429, 5xx): each wait doubles up to a ceiling, a
 * `Retry-After` is honoured, and the whole is bounded by a budget. Everything else (401, 403, 404, 409, 422)
 * is returned to the caller at once.
 */
import type { Logger } from '../output/log.js';
import { InterruptedError, KubeApiError } from './errors.js';

export interface RetryPolicy {
  /** Give up once the next attempt would start later than this after the first. */
  readonly budgetMs: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

export interface RetryContext {
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
}

export async function withRetries<T>(
  op: () => Promise<T>,
  policy: RetryPolicy,
  ctx: RetryContext,
): Promise<T> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? abortableSleep;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(ctx.signal);
    try {
      return await op();
    } catch (error) {
      if (!(error instanceof KubeApiError) || !error.transient) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));
      const delay = Math.max(backoff, error.failure.retryAfterMs ?? 0);
      const elapsed = now() - start;
      if (elapsed + delay > policy.budgetMs) {
        throw new KubeApiError(error.call, error.failure, {
          suffix: `; gave up after ${attempt} attempt(s) in ${Math.round(elapsed / 1000)} s`,
          hint: 'check that the API server is reachable from the pod (KUBERNETES_SERVICE_HOST/PORT) and healthy',
        });
      }
      ctx.log.warn(`${error.message}; attempt ${attempt}, retrying in ${Math.round(delay)} ms`);
      await sleep(delay, ctx.signal);
    }
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('stopped by a signal');
}

/** Resolves after `ms`, or rejects with InterruptedError as soon as the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new InterruptedError('stopped by a signal'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError('stopped by a signal'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
