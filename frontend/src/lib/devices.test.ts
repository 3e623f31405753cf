import { beforeEach, describe, expect, it } from "vitest";
import { DEVICES_KEY, MAX_DEVICES, deviceToken, rememberDevice } from "./devices";

describe("device tokens", () => {
  beforeEach(() => localStorage.clear());

  it("are kept per account, whatever the email's case or spaces", () => {
    rememberDevice(localStorage, "Ada@Example.com ", "d1");
    rememberDevice(localStorage, "bob@example.com", "d2");
    expect(deviceToken(localStorage, "ada@example.com")).toBe("d1");
    expect(deviceToken(localStorage, "BOB@example.com")).toBe("d2");
    expect(deviceToken(localStorage, "eve@example.com")).toBeUndefined();
  });

  it("are replaced by the newest log-in's, and a missing one changes nothing", () => {
    rememberDevice(localStorage, "ada@example.com", "old");
    rememberDevice(localStorage, "ada@example.com", "new");
    rememberDevice(localStorage, "ada@example.com", undefined);
    expect(deviceToken(localStorage, "ada@example.com")).toBe("new");
  });

  it("forget the oldest account beyond the limit, and survive unreadable storage", () => {
    for (let i = 0; i <= MAX_DEVICES; i++) rememberDevice(localStorage, `u${i}@example.com`, `d${i}`);
    expect(deviceToken(localStorage, "u0@example.com")).toBeUndefined();
    expect(deviceToken(localStorage, `u${MAX_DEVICES}@example.com`)).toBe(`d${MAX_DEVICES}`);
    localStorage.setItem(DEVICES_KEY, "{not json");
    expect(deviceToken(localStorage, "u1@example.com")).toBeUndefined();
    localStorage.setItem(DEVICES_KEY, JSON.stringify({ "a@b.c": 7 }));
    expect(deviceToken(localStorage, "a@b.c")).toBeUndefined();
  });
});
