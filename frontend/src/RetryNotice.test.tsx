import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RetryNotice } from "./RetryNotice";

describe("RetryNotice", () => {
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("counts down the server's Retry-After and retries by itself at zero", () => {
    vi.useFakeTimers();
    const retry = vi.fn();
    render(<RetryNotice message="Could not load your tasks." wait={3} attempt={1} auto onRetry={retry} />);
    expect(screen.getByRole("alert").textContent).toContain("Trying again in 3 seconds.");
    act(() => vi.advanceTimersByTime(1_100));
    expect(screen.getByRole("alert").textContent).toContain("Trying again in 2 seconds.");
    expect(retry).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(2_000));
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it("waits for the user when not automatic", () => {
    vi.useFakeTimers();
    const retry = vi.fn();
    render(<RetryNotice message="Failed." wait={1} attempt={1} auto={false} onRetry={retry} retryLabel="Try again" />);
    expect(screen.getByRole("alert").textContent).toContain("You can try again in 1 second.");
    act(() => vi.advanceTimersByTime(5_000));
    expect(retry).not.toHaveBeenCalled();
    act(() => screen.getByRole("button", { name: "Try again" }).click());
    expect(retry).toHaveBeenCalledTimes(1);
  });
});
