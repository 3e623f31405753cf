import { describe, expect, it } from "vitest";
import { ApiError, describeError, fieldErrors, retryHint, waitBeforeRetry } from "./errors";

describe("fieldErrors", () => {
  it("keys FastAPI's 422 items by field, as sentences", () => {
    const detail = [
      { loc: ["body", "password"], msg: "String should have at least 8 characters", type: "string_too_short" },
      {
        loc: ["body", "email"],
        msg: "value is not a valid email address: An email address must have an @-sign.",
        type: "value_error",
      },
    ];
    expect(fieldErrors(detail)).toEqual({
      password: "String should have at least 8 characters.",
      email: "Value is not a valid email address: An email address must have an @-sign.",
    });
  });

  it("drops pydantic's 'Value error, ' prefix and joins two messages for one field", () => {
    const detail = [
      { loc: ["body", "title"], msg: "Value error, title cannot be null" },
      { loc: ["body", "title"], msg: "too long" },
    ];
    expect(fieldErrors(detail)).toEqual({ title: "Title cannot be null. Too long." });
  });

  it("puts a message without a field, or a plain string detail, under ''", () => {
    expect(fieldErrors([{ loc: ["body"], msg: "Body must be JSON" }])).toEqual({ "": "Body must be JSON." });
    expect(fieldErrors("Something")).toEqual({ "": "Something" });
    expect(fieldErrors(null)).toEqual({});
  });
});

describe("describeError", () => {
  it.each([
    [new ApiError(0, null), "Could not save the task: the server cannot be reached. Check your connection."],
    [new ApiError(404, "Task not found"), "Could not save the task: it no longer exists (deleted elsewhere?)."],
    [new ApiError(413, "too large"), "Could not save the task: it is too large to store."],
    [
      new ApiError(503, "The database is unavailable; retry later.", 2),
      "Could not save the task: the service is unavailable right now.",
    ],
    [new ApiError(500, "Internal server error"), "Could not save the task: the server answered 500."],
    [
      new ApiError(422, [{ loc: ["body", "title"], msg: "String should have at most 200 characters" }]),
      "Could not save the task: String should have at most 200 characters.",
    ],
  ])("words %o for a person", (error, words) => {
    expect(describeError(error, "save the task")).toBe(words);
  });

  it("does not blame the server for the page's own failures", () => {
    expect(describeError(new TypeError("x is undefined"), "save the task")).toBe(
      "Could not save the task: something went wrong in the page.",
    );
  });
});

describe("retrying", () => {
  it("counts no answer, 429 and 502-504 as worth retrying, not 4xx", () => {
    expect([0, 429, 502, 503, 504].map((s) => new ApiError(s, null).retryable)).toEqual([true, true, true, true, true]);
    expect([400, 401, 404, 409, 422, 500].map((s) => new ApiError(s, null).retryable)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("waits as long as Retry-After said, else 5 seconds", () => {
    expect(waitBeforeRetry(new ApiError(503, null, 30))).toBe(30);
    expect(waitBeforeRetry(new ApiError(0, null))).toBe(5);
    expect(retryHint(new ApiError(429, null, 61))).toBe("Try again in 1 minute 1 second.");
    expect(retryHint(new ApiError(404, null))).toBe("");
  });
});
