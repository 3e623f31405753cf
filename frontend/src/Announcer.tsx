import { createContext, useCallback, useContext, useState, type ReactNode } from "react";

/**
 * One polite live region for the whole app: screen readers hear "Task added", "Loaded 20 more
 * tasks" and the like without focus moving. Errors use role="alert" where they are shown.
 */
const AnnounceContext = createContext<(message: string) => void>(() => undefined);

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [message, setMessage] = useState({ text: "", n: 0 });
  const announce = useCallback((text: string) => setMessage((m) => ({ text, n: m.n + 1 })), []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {/* The key re-creates the node, so the same words twice are announced twice. */}
        <span key={message.n}>{message.text}</span>
      </div>
    </AnnounceContext.Provider>
  );
}

export function useAnnounce(): (message: string) => void {
  return useContext(AnnounceContext);
}
