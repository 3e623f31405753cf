/** `Retry-After` as a number of seconds, and how to say it to a person. */

/**
 * Seconds to wait, from a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110).
 * Null when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value == null) return null;
  const text = value.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP-date names its weekday and month; Date.parse alone would take "-5" as a year.
  if (!/^[A-Za-z]{3}, /.test(text)) return null;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now) / 1000));
}

/** "5 seconds", "1 minute", "2 minutes 5 seconds", "1 hour 3 minutes". */
export function formatWait(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (hours) return minutes ? `${unit(hours, "hour")} ${unit(minutes, "minute")}` : unit(hours, "hour");
  if (minutes) return secs ? `${unit(minutes, "minute")} ${unit(secs, "second")}` : unit(minutes, "minute");
  return unit(secs, "second");
}
