/** The signed-in user, kept in localStorage so a reload (or a second tab) stays signed in. */

export const SESSION_KEY = "aido.session";

export interface Session {
  token: string;
  email: string;
  /** Epoch milliseconds when the token expires (from the log-in's `expires_in`). */
  expiresAt: number;
}

/** The stored session, or null when there is none, it is malformed, or it has expired. */
export function loadSession(storage: Storage, now: number = Date.now()): Session | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(SESSION_KEY) ?? "null");
  } catch {
    return null;
  }
  if (!isSession(parsed) || parsed.expiresAt <= now) return null;
  return parsed;
}

export function saveSession(storage: Storage, session: Session): void {
  storage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage): void {
  storage.removeItem(SESSION_KEY);
}

/** A session from a log-in answer; expires a little early so no request races the expiry. */
export function sessionFromLogin(
  email: string,
  token: { access_token: string; expires_in: number },
  now: number = Date.now(),
): Session {
  const margin = Math.min(30, token.expires_in / 10);
  return { token: token.access_token, email, expiresAt: now + (token.expires_in - margin) * 1000 };
}

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === "string" && v.token !== "" && typeof v.email === "string" && typeof v.expiresAt === "number"
  );
}
