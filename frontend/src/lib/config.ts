/** Where the API is: read from /config.js (written at container start), never built in. */

declare global {
  interface Window {
    AIDO_CONFIG?: { apiUrl?: unknown };
  }
}

export const DEFAULT_API_URL = "http://localhost:8000";

/** The API's base URL without a trailing slash; the default when the value is not an http(s) URL. */
export function apiBaseUrl(config: { apiUrl?: unknown } | undefined): string {
  const raw = typeof config?.apiUrl === "string" ? config.apiUrl.trim() : "";
  if (!raw) return DEFAULT_API_URL;
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") return DEFAULT_API_URL;
    return url.href.replace(/\/+$/, "");
  } catch {
    return DEFAULT_API_URL;
  }
}
