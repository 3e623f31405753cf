import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AnnouncerProvider } from "./Announcer";
import { AuthScreen, type AuthMode } from "./AuthScreen";
import { TasksScreen } from "./TasksScreen";
import { createApi } from "./lib/api";
import { clearSession, loadSession, saveSession, SESSION_KEY, type Session } from "./lib/session";

type Route = "login" | "signup" | "tasks";

function routeOf(pathname: string): Route {
  if (pathname.startsWith("/signup")) return "signup";
  if (pathname.startsWith("/login")) return "login";
  return "tasks";
}

const PATHS: Record<Route, string> = { login: "/login", signup: "/signup", tasks: "/" };

export function App({ apiUrl }: { apiUrl: string }) {
  const [session, setSession] = useState<Session | null>(() => loadSession(localStorage));
  const [route, setRoute] = useState<Route>(() => routeOf(location.pathname));
  // Why the user is on the log-in screen, when it was not their choice (expired, 401).
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const navigate = useCallback((next: Route, replace = false) => {
    if (location.pathname !== PATHS[next]) {
      if (replace) history.replaceState(null, "", PATHS[next]);
      else history.pushState(null, "", PATHS[next]);
    }
    setRoute(next);
  }, []);

  const endSession = useCallback(
    (why: string | null) => {
      clearSession(localStorage);
      setSession(null);
      setNotice(why);
      navigate("login", true);
    },
    [navigate],
  );

  const api = useMemo(
    () =>
      createApi({
        baseUrl: apiUrl,
        token: () => sessionRef.current?.token ?? null,
        onUnauthorized: () => {
          if (sessionRef.current) endSession("Your session has ended. Please log in again.");
        },
      }),
    [apiUrl, endSession],
  );

  useEffect(() => {
    const onPop = () => setRoute(routeOf(location.pathname));
    // Another tab logged in or out: follow it.
    const onStorage = (event: StorageEvent) => {
      if (event.key !== SESSION_KEY && event.key !== null) return;
      const stored = loadSession(localStorage);
      setSession(stored);
      if (!stored) navigate("login", true);
    };
    window.addEventListener("popstate", onPop);
    window.addEventListener("storage", onStorage);
    return () => {
      window.removeEventListener("popstate", onPop);
      window.removeEventListener("storage", onStorage);
    };
  }, [navigate]);

  // The token's own lifetime: log out when it runs out rather than fail the next click.
  useEffect(() => {
    if (!session) return undefined;
    const timer = window.setTimeout(
      () => endSession("Your session expired. Please log in again."),
      // setTimeout takes at most 2^31-1 ms (~24 days); longer would fire at once.
      Math.min(Math.max(0, session.expiresAt - Date.now()), 2 ** 31 - 1),
    );
    return () => window.clearTimeout(timer);
  }, [session, endSession]);

  // Only signed-in users see tasks; a signed-in user has no use for the log-in screen.
  const shown: Route = session ? "tasks" : route === "tasks" ? "login" : route;
  useEffect(() => {
    if (shown !== route) navigate(shown, true);
  }, [shown, route, navigate]);

  useEffect(() => {
    document.title = shown === "tasks" ? "Tasks · aido" : shown === "signup" ? "Sign up · aido" : "Log in · aido";
  }, [shown]);

  const onAuthenticated = useCallback(
    (next: Session) => {
      saveSession(localStorage, next);
      setSession(next);
      setNotice(null);
      navigate("tasks");
    },
    [navigate],
  );

  return (
    <AnnouncerProvider>
      {session && shown === "tasks" ? (
        // Keyed by the user: another tab logging in as someone else starts from a clean list.
        <TasksScreen key={session.email} api={api} session={session} onLogout={() => endSession(null)} />
      ) : (
        <AuthScreen
          key={shown}
          mode={shown as AuthMode}
          api={api}
          notice={notice}
          onSwitch={(mode) => {
            setNotice(null);
            navigate(mode);
          }}
          onAuthenticated={onAuthenticated}
        />
      )}
    </AnnouncerProvider>
  );
}
