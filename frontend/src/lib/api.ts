/** The backend's HTTP API (README "API in one screen"): JSON bodies, bearer tokens, keyset pages. */

import { ApiError } from "./errors";
import { parseRetryAfter } from "./retryAfter";

export interface Task {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  items: Task[];
  next_cursor: string | null;
}

export interface LoginToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  /** Proves this browser's log-in to the account next time (lib/devices.ts). */
  device_token?: string;
}

export type CompletedFilter = "all" | "open" | "done";
export type SortKey = "newest" | "oldest" | "updated" | "title";

export interface ListFilters {
  completed: CompletedFilter;
  q: string;
  sort: SortKey;
}

export const PAGE_SIZE = 20;

const SORTS: Record<SortKey, { sort: string; order: string }> = {
  newest: { sort: "created_at", order: "desc" },
  oldest: { sort: "created_at", order: "asc" },
  updated: { sort: "updated_at", order: "desc" },
  title: { sort: "title", order: "asc" },
};

/** The query string of GET /tasks for these filters (and a page's cursor). */
export function listQuery(filters: ListFilters, cursor: string | null = null, limit: number = PAGE_SIZE): string {
  const params = new URLSearchParams({ limit: String(limit), ...SORTS[filters.sort] });
  if (filters.completed !== "all") params.set("completed", String(filters.completed === "done"));
  const q = filters.q.trim();
  if (q) params.set("q", q);
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}

export interface ApiOptions {
  baseUrl: string;
  /** The current bearer token, read at each call (it changes on log-in and log-out). */
  token: () => string | null;
  /** Called when an authenticated call answers 401: the session is over. */
  onUnauthorized: () => void;
  fetchImpl?: typeof fetch;
}

interface CallOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  auth?: boolean;
  signal?: AbortSignal;
  keepalive?: boolean;
}

export interface Api {
  signup(email: string, password: string): Promise<{ id: string; email: string }>;
  login(email: string, password: string, deviceToken?: string): Promise<LoginToken>;
  listTasks(filters: ListFilters, cursor: string | null, signal?: AbortSignal): Promise<TaskPage>;
  createTask(input: { title: string; description: string | null }, idempotencyKey: string): Promise<Task>;
  updateTask(id: string, changes: { title?: string; description?: string | null }): Promise<Task>;
  setCompleted(id: string, completed: boolean): Promise<Task>;
  deleteTask(id: string, options?: { keepalive?: boolean }): Promise<void>;
}

export function createApi(options: ApiOptions): Api {
  const fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));

  async function call<T>(
    path: string,
    { method = "GET", body, headers = {}, auth = true, signal, keepalive }: CallOptions = {},
  ): Promise<T> {
    const finalHeaders: Record<string, string> = { Accept: "application/json", ...headers };
    if (body !== undefined) finalHeaders["Content-Type"] = "application/json";
    const token = auth ? options.token() : null;
    if (auth && token) finalHeaders.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetchImpl(options.baseUrl + path, {
        method,
        headers: finalHeaders,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        keepalive,
        // Bearer tokens only: no cookies are sent to or accepted from the API.
        credentials: "omit",
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
      throw new ApiError(0, "The server cannot be reached");
    }
    if (response.status === 204) return undefined as T;
    const payload: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const detail =
        payload && typeof payload === "object" && "detail" in payload ? (payload as { detail: unknown }).detail : null;
      const error = new ApiError(response.status, detail, parseRetryAfter(response.headers.get("Retry-After")));
      if (response.status === 401 && auth) options.onUnauthorized();
      throw error;
    }
    return payload as T;
  }

  return {
    signup: (email, password) => call("/auth/signup", { method: "POST", body: { email, password }, auth: false }),
    login: (email, password, deviceToken) =>
      call("/auth/login", {
        method: "POST",
        body: deviceToken ? { email, password, device_token: deviceToken } : { email, password },
        auth: false,
      }),
    listTasks: (filters, cursor, signal) => call(`/tasks?${listQuery(filters, cursor)}`, { signal }),
    createTask: (input, idempotencyKey) =>
      call("/tasks", { method: "POST", body: input, headers: { "Idempotency-Key": idempotencyKey } }),
    updateTask: (id, changes) => call(`/tasks/${encodeURIComponent(id)}`, { method: "PATCH", body: changes }),
    setCompleted: (id, completed) =>
      call(`/tasks/${encodeURIComponent(id)}/${completed ? "complete" : "reopen"}`, { method: "POST" }),
    deleteTask: (id, { keepalive } = {}) => call(`/tasks/${encodeURIComponent(id)}`, { method: "DELETE", keepalive }),
  };
}
