/** The API's failures as values the screens can show: a status, a message, field messages. */

import { formatWait } from "./retryAfter";

/** One failed call. `status` 0 means no HTTP answer at all (network down, CORS refused, …). */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  /** Seconds the server asked us to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | null;

  constructor(status: number, detail: unknown, retryAfter: number | null = null) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** Worth trying again later: no answer, rate limited, or the service is unavailable. */
  get retryable(): boolean {
    return (
      this.status === 0 || this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504
    );
  }
}

/** Seconds to wait before a retry: the server's `Retry-After`, else a short default. */
export function waitBeforeRetry(error: ApiError, fallback = 5): number {
  return error.retryAfter ?? fallback;
}

type ValidationItem = { loc?: unknown; msg?: unknown };

/**
 * Field messages of a 422: FastAPI's `detail` is a list of `{loc: ["body", "password"], msg}`.
 * Keyed by the last name in `loc` (the field); items without a field land under "".
 */
export function fieldErrors(detail: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(detail)) {
    if (typeof detail === "string") out[""] = detail;
    return out;
  }
  for (const item of detail as ValidationItem[]) {
    if (!item || typeof item.msg !== "string") continue;
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const last = loc.length > 1 ? loc[loc.length - 1] : undefined;
    const field = typeof last === "string" ? last : "";
    const message = sentence(item.msg.replace(/^Value error, /, ""));
    out[field] = out[field] ? `${out[field]} ${message}` : message;
  }
  return out;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * What went wrong, in words for a person; `action` is what failed ("save the task"). When to
 * retry is not part of it: the screens count that down themselves (see retryHint).
 */
export function describeError(error: unknown, action: string): string {
  if (!(error instanceof ApiError)) return `Could not ${action}: something went wrong in the page.`;
  switch (error.status) {
    case 0:
      return `Could not ${action}: the server cannot be reached. Check your connection.`;
    case 401:
      return "Your session has ended. Please log in again.";
    case 404:
      return `Could not ${action}: it no longer exists (deleted elsewhere?).`;
    case 409:
      return `Could not ${action}: ${typeof error.detail === "string" ? error.detail : "it conflicts with what is stored"}.`;
    case 413:
      return `Could not ${action}: it is too large to store.`;
    case 422: {
      const messages = Object.values(fieldErrors(error.detail));
      return `Could not ${action}: ${messages.join(" ") || "the server refused the input."}`;
    }
    case 429:
      return "Too many attempts.";
    case 502:
    case 503:
    case 504:
      return `Could not ${action}: the service is unavailable right now.`;
    default:
      return `Could not ${action}: the server answered ${error.status}.`;
  }
}

/** "Try again in 30 seconds." for a failure worth retrying; "" otherwise. */
export function retryHint(error: unknown): string {
  if (!(error instanceof ApiError) || !error.retryable) return "";
  return `Try again in ${formatWait(waitBeforeRetry(error))}.`;
}
