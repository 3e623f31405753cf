import { useEffect, useRef, useState } from "react";

/**
 * Seconds left of a wait that started at `seconds` (null: no wait), ticking once a second;
 * `onDone` runs once when it reaches zero. A new `seconds` value (or `key`) restarts it.
 */
export function useCountdown(seconds: number | null, onDone?: () => void, key?: unknown): number | null {
  const [left, setLeft] = useState<number | null>(seconds);
  const done = useRef(onDone);
  done.current = onDone;

  useEffect(() => {
    setLeft(seconds);
    if (seconds == null) return undefined;
    const end = Date.now() + seconds * 1000;
    if (seconds <= 0) {
      done.current?.();
      return undefined;
    }
    const timer = window.setInterval(() => {
      const remaining = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setLeft(remaining);
      if (remaining === 0) {
        window.clearInterval(timer);
        done.current?.();
      }
    }, 250);
    return () => window.clearInterval(timer);
  }, [seconds, key]);

  return left;
}
