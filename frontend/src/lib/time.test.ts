import { describe, expect, it } from "vitest";
import { relativeTime } from "./time";

const now = Date.parse("2026-12-01T12:00:00Z");
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

describe("relativeTime", () => {
  it.each([
    [10, "just now"],
    [5 * 60, "5 minutes ago"],
    [3 * 3600, "3 hours ago"],
    [26 * 3600, "yesterday"],
    [15 * 86400, "2 weeks ago"],
    [400 * 86400, "last year"],
  ])("%s s ago is %s", (seconds, words) => {
    expect(relativeTime(ago(seconds), now, "en")).toBe(words);
  });

  it("is empty for an unreadable time", () => {
    expect(relativeTime("yesterday-ish", now)).toBe("");
  });
});
