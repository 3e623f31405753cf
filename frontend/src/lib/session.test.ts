import { beforeEach, describe, expect, it } from "vitest";
import { SESSION_KEY, clearSession, loadSession, saveSession, sessionFromLogin } from "./session";

describe("session", () => {
  beforeEach(() => localStorage.clear());

  it("survives a reload: what is saved is loaded", () => {
    const session = { token: "t", email: "ada@example.com", expiresAt: Date.now() + 60_000 };
    saveSession(localStorage, session);
    expect(loadSession(localStorage)).toEqual(session);
  });

  it("is gone once expired, cleared, or unreadable", () => {
    saveSession(localStorage, { token: "t", email: "a@b.c", expiresAt: 1_000 });
    expect(loadSession(localStorage, 1_000)).toBeNull();
    saveSession(localStorage, { token: "t", email: "a@b.c", expiresAt: Date.now() + 60_000 });
    clearSession(localStorage);
    expect(loadSession(localStorage)).toBeNull();
    localStorage.setItem(SESSION_KEY, "{not json");
    expect(loadSession(localStorage)).toBeNull();
    localStorage.setItem(SESSION_KEY, JSON.stringify({ token: "", email: "a@b.c", expiresAt: Date.now() + 1 }));
    expect(loadSession(localStorage)).toBeNull();
  });

  it("expires a little before the token does, so no request races the expiry", () => {
    const now = 1_000_000;
    const session = sessionFromLogin("ada@example.com", { access_token: "t", expires_in: 3600 }, now);
    expect(session.expiresAt).toBe(now + 3570 * 1000);
    expect(sessionFromLogin("a@b.c", { access_token: "t", expires_in: 60 }, now).expiresAt).toBe(now + 54 * 1000);
  });
});
