import { describe, expect, it } from "vitest";
import { formatWait, parseRetryAfter } from "./retryAfter";

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("5")).toBe(5);
    expect(parseRetryAfter(" 120 ")).toBe(120);
  });

  it("reads an HTTP-date as the seconds until then, never negative", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(parseRetryAfter("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("is null when absent or unreadable", () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("")).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter("-5")).toBeNull();
  });
});

describe("formatWait", () => {
  it.each([
    [1, "1 second"],
    [2, "2 seconds"],
    [0.2, "1 second"],
    [60, "1 minute"],
    [125, "2 minutes 5 seconds"],
    [3600, "1 hour"],
    [3720, "1 hour 2 minutes"],
  ])("says %s s as %s", (seconds, words) => {
    expect(formatWait(seconds)).toBe(words);
  });
});
