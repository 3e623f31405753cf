import { useEffect, useRef, useState, type FormEvent } from "react";
import { useCountdown } from "./hooks";
import type { Api } from "./lib/api";
import { ApiError, describeError, fieldErrors } from "./lib/errors";
import { formatWait } from "./lib/retryAfter";
import { deviceToken, rememberDevice } from "./lib/devices";
import { sessionFromLogin, type Session } from "./lib/session";

export type AuthMode = "login" | "signup";

interface Props {
  mode: AuthMode;
  api: Api;
  notice: string | null;
  onSwitch: (mode: AuthMode) => void;
  onAuthenticated: (session: Session) => void;
}

interface Failure {
  message: string | null;
  fields: Record<string, string>;
  wait: number | null;
  /** 409 on sign-up: offer to log in with that email instead. */
  taken?: boolean;
}

const noFailure: Failure = { message: null, fields: {}, wait: null };

// Kept across the switch between the two forms, so "Log in instead" does not retype it.
let rememberedEmail = "";

export function AuthScreen({ mode, api, notice, onSwitch, onAuthenticated }: Props) {
  const signup = mode === "signup";
  const [email, setEmail] = useState(rememberedEmail);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure>(noFailure);
  const [attempt, setAttempt] = useState(0);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  // When the wait is over, so is its message: the form is ready again.
  const waitLeft = useCountdown(failure.wait, () => setFailure(noFailure), attempt);
  const waiting = waitLeft != null && waitLeft > 0;

  useEffect(() => {
    (email ? passwordRef : emailRef).current?.focus();
    // Only on arrival: the field to type in first.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    rememberedEmail = email;
  }, [email]);

  function fail(next: Failure) {
    setFailure(next);
    setAttempt((n) => n + 1);
    if (next.fields.email) emailRef.current?.focus();
    else if (next.fields.password) passwordRef.current?.focus();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || waiting) return;
    const fields: Record<string, string> = {};
    if (!email.trim()) fields.email = "Enter your email address.";
    if (!password) fields.password = "Enter your password.";
    if (Object.keys(fields).length) return fail({ ...noFailure, fields });
    setBusy(true);
    setFailure(noFailure);
    let created = false;
    try {
      if (signup) {
        await api.signup(email.trim(), password);
        created = true;
      }
      const token = await api.login(email.trim(), password, deviceToken(localStorage, email));
      rememberDevice(localStorage, email, token.device_token);
      onAuthenticated(sessionFromLogin(email.trim().toLowerCase(), token));
    } catch (error) {
      setBusy(false);
      const failed = explain(error, signup && !created);
      // The account exists now; only the log-in after it failed.
      if (created) failed.message = `Your account was created, but logging in failed: ${failed.message ?? ""}`.trim();
      fail(failed);
    }
  }

  const describe = (field: string) => (failure.fields[field] ? `${field}-error` : undefined);
  const heading = signup ? "Create your account" : "Log in to aido";

  return (
    <main className="auth" aria-labelledby="auth-heading">
      <div className="auth-card">
        <p className="brand" aria-hidden="true">
          <span className="brand-mark">✓</span> aido
        </p>
        <h1 id="auth-heading">{heading}</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate aria-describedby={failure.message ? "auth-error" : undefined}>
          <div className="field">
            <label htmlFor="email">Email</label>
            <input
              ref={emailRef}
              id="email"
              name="email"
              type="email"
              autoComplete={signup ? "email" : "username"}
              inputMode="email"
              autoCapitalize="none"
              spellCheck={false}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={failure.fields.email ? true : undefined}
              aria-describedby={describe("email")}
            />
            {failure.fields.email && (
              <p id="email-error" className="field-error">
                {failure.fields.email}
              </p>
            )}
            {failure.taken && (
              <button type="button" className="link" onClick={() => onSwitch("login")}>
                Log in with this email instead
              </button>
            )}
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              ref={passwordRef}
              id="password"
              name="password"
              type="password"
              autoComplete={signup ? "new-password" : "current-password"}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={failure.fields.password ? true : undefined}
              aria-describedby={
                [signup ? "password-hint" : "", describe("password") ?? ""].join(" ").trim() || undefined
              }
            />
            {signup && (
              <p id="password-hint" className="hint">
                At least 8 characters.
              </p>
            )}
            {failure.fields.password && (
              <p id="password-error" className="field-error">
                {failure.fields.password}
              </p>
            )}
          </div>
          {failure.message && (
            <p id="auth-error" className="form-error" role="alert">
              {failure.message}
              {waiting && <> Try again in {formatWait(waitLeft)}.</>}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy || waiting} aria-disabled={busy || waiting}>
            {busy
              ? signup
                ? "Creating account…"
                : "Logging in…"
              : waiting
                ? `Wait ${formatWait(waitLeft)}`
                : signup
                  ? "Sign up"
                  : "Log in"}
          </button>
        </form>
        <p className="switch">
          {signup ? "Already have an account? " : "New here? "}
          <a
            href={signup ? "/login" : "/signup"}
            onClick={(e) => {
              e.preventDefault();
              onSwitch(signup ? "login" : "signup");
            }}
          >
            {signup ? "Log in" : "Create an account"}
          </a>
        </p>
      </div>
    </main>
  );
}

/** What to show for a failed sign-up or log-in. */
function explain(error: unknown, signup: boolean): Failure {
  if (!(error instanceof ApiError))
    return { ...noFailure, message: describeError(error, signup ? "sign up" : "log in") };
  switch (error.status) {
    case 401:
      return { ...noFailure, message: "Incorrect email or password." };
    case 409:
      return { ...noFailure, fields: { email: "An account with this email already exists." }, taken: true };
    case 422: {
      const fields = fieldErrors(error.detail);
      const message = fields[""] ?? (fields.email || fields.password ? null : "Check the form and try again.");
      return { ...noFailure, fields, message };
    }
    case 429:
      return { ...noFailure, message: "Too many failed log-ins for now.", wait: error.retryAfter ?? 60 };
    case 0:
    case 502:
    case 503:
    case 504:
      return {
        ...noFailure,
        message: error.status === 0 ? "The server cannot be reached." : "The service is unavailable right now.",
        wait: error.retryAfter ?? 5,
      };
    default:
      return { ...noFailure, message: describeError(error, signup ? "sign up" : "log in") };
  }
}
