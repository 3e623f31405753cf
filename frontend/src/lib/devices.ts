/**
 * Device tokens (README "Log-in limits"): a successful log-in answers a `device_token` that
 * proves this browser logged in to that account before. Sent back with the next log-in to the
 * same account, it makes this browser a "known device", counted alone: an attack on the email
 * from elsewhere then never locks its owner out here. Kept per account in localStorage, past
 * log-out (it names the device, not a session); "log out everywhere" revokes it server-side.
 */

export const DEVICES_KEY = "aido.devices";
/** Accounts remembered on one browser; the oldest is forgotten first. */
export const MAX_DEVICES = 10;

type Devices = Record<string, string>;

function key(email: string): string {
  return email.trim().toLowerCase();
}

function load(storage: Storage): Devices {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(DEVICES_KEY) ?? "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "",
      ),
    );
  } catch {
    return {};
  }
}

/** This browser's device token for the account, if it has one. */
export function deviceToken(storage: Storage, email: string): string | undefined {
  return load(storage)[key(email)];
}

/** Remember the device token a log-in to this account answered (the newest last). */
export function rememberDevice(storage: Storage, email: string, token: string | undefined): void {
  if (!token) return;
  const devices = load(storage);
  delete devices[key(email)];
  devices[key(email)] = token;
  const kept = Object.entries(devices).slice(-MAX_DEVICES);
  storage.setItem(DEVICES_KEY, JSON.stringify(Object.fromEntries(kept)));
}
