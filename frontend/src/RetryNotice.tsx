import { useCountdown } from "./hooks";
import { formatWait } from "./lib/retryAfter";

/**
 * A failure that is worth retrying: says what failed and when the next try is (the server's
 * Retry-After), counts down, and retries by itself at zero when `auto`; "Try now" skips the wait.
 */
export function RetryNotice({
  message,
  wait,
  attempt,
  auto,
  onRetry,
  retryLabel = "Try now",
}: {
  message: string;
  wait: number | null;
  attempt: number;
  auto: boolean;
  onRetry: () => void;
  retryLabel?: string;
}) {
  const left = useCountdown(wait, auto ? onRetry : undefined, attempt);
  return (
    <div className="retry" role="alert">
      <p>
        {message}{" "}
        {left != null && left > 0 && (
          <span data-testid="retry-countdown">
            {auto ? "Trying again" : "You can try again"} in {formatWait(left)}.
          </span>
        )}
      </p>
      <button type="button" onClick={onRetry}>
        {retryLabel}
      </button>
    </div>
  );
}
