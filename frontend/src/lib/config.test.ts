import { describe, expect, it } from "vitest";
import { DEFAULT_API_URL, apiBaseUrl } from "./config";

describe("apiBaseUrl", () => {
  it("takes config.js's URL without a trailing slash", () => {
    expect(apiBaseUrl({ apiUrl: "https://api.example.com/" })).toBe("https://api.example.com");
    expect(apiBaseUrl({ apiUrl: "http://127.0.0.1:8123/prefix/" })).toBe("http://127.0.0.1:8123/prefix");
  });

  it("falls back to http://localhost:8000 when config.js is missing or says nonsense", () => {
    expect(DEFAULT_API_URL).toBe("http://localhost:8000");
    expect(apiBaseUrl(undefined)).toBe(DEFAULT_API_URL);
    expect(apiBaseUrl({ apiUrl: 42 })).toBe(DEFAULT_API_URL);
    expect(apiBaseUrl({ apiUrl: "javascript:alert(1)" })).toBe(DEFAULT_API_URL);
    expect(apiBaseUrl({ apiUrl: "not a url" })).toBe(DEFAULT_API_URL);
  });
});
