import { describe, expect, it } from "vitest";
import { createApi, listQuery, type ListFilters } from "./api";
import { ApiError } from "./errors";

interface Sent {
  url: string;
  init: RequestInit;
}

/** A fetch that records what the client sent and answers what the test says. */
function recorder(answer: () => Response) {
  const sent: Sent[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    sent.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { sent, fetchImpl };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

const all: ListFilters = { completed: "all", q: "", sort: "newest" };

describe("listQuery", () => {
  it("asks for a page newest first by default", () => {
    expect(listQuery(all)).toBe("limit=20&sort=created_at&order=desc");
  });

  it("adds the completed filter, the trimmed search and the cursor, with the same sort", () => {
    expect(listQuery({ completed: "done", q: "  milk ", sort: "title" }, "abc=")).toBe(
      "limit=20&sort=title&order=asc&completed=true&q=milk&cursor=abc%3D",
    );
    expect(listQuery({ ...all, completed: "open", sort: "updated" })).toBe(
      "limit=20&sort=updated_at&order=desc&completed=false",
    );
  });
});

describe("createApi", () => {
  it("sends JSON and the bearer token, and the Idempotency-Key on create", async () => {
    const { sent, fetchImpl } = recorder(() => json(201, { id: "1" }));
    const api = createApi({ baseUrl: "http://api", token: () => "tok", onUnauthorized: () => {}, fetchImpl });
    await api.createTask({ title: "Buy milk", description: null }, "key-1");
    const { url, init } = sent[0]!;
    expect(url).toBe("http://api/tasks");
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"title":"Buy milk","description":null}');
    expect(init.headers).toMatchObject({
      Authorization: "Bearer tok",
      "Content-Type": "application/json",
      "Idempotency-Key": "key-1",
    });
    expect(init.credentials).toBe("omit");
  });

  it("logs in without a token and without calling the 401 handler on a wrong password", async () => {
    let unauthorized = 0;
    const { sent, fetchImpl } = recorder(() => json(401, { detail: "Incorrect email or password" }));
    const api = createApi({
      baseUrl: "http://api",
      token: () => "old",
      onUnauthorized: () => unauthorized++,
      fetchImpl,
    });
    await expect(api.login("a@b.c", "pw")).rejects.toMatchObject({ status: 401 });
    expect(sent[0]!.init.headers).not.toHaveProperty("Authorization");
    expect(unauthorized).toBe(0);
  });

  it("sends this browser's device token with the log-in when it has one, and only then", async () => {
    const { sent, fetchImpl } = recorder(() => json(200, { access_token: "t", token_type: "bearer", expires_in: 60 }));
    const api = createApi({ baseUrl: "http://api", token: () => null, onUnauthorized: () => {}, fetchImpl });
    await api.login("a@b.c", "pw", "dev-1");
    await api.login("a@b.c", "pw");
    expect(JSON.parse(sent[0]!.init.body as string)).toEqual({ email: "a@b.c", password: "pw", device_token: "dev-1" });
    expect(JSON.parse(sent[1]!.init.body as string)).toEqual({ email: "a@b.c", password: "pw" });
  });

  it("ends the session when an authenticated call answers 401", async () => {
    let unauthorized = 0;
    const { fetchImpl } = recorder(() => json(401, { detail: "Could not validate credentials" }));
    const api = createApi({
      baseUrl: "http://api",
      token: () => "tok",
      onUnauthorized: () => unauthorized++,
      fetchImpl,
    });
    await expect(api.listTasks(all, null)).rejects.toBeInstanceOf(ApiError);
    expect(unauthorized).toBe(1);
  });

  it("carries the detail and Retry-After of a failure", async () => {
    const { fetchImpl } = recorder(() =>
      json(503, { detail: "The database is unavailable; retry later." }, { "Retry-After": "2" }),
    );
    const api = createApi({ baseUrl: "http://api", token: () => "tok", onUnauthorized: () => {}, fetchImpl });
    const error = (await api.setCompleted("id/1", true).catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 503, detail: "The database is unavailable; retry later.", retryAfter: 2 });
    expect(error.retryable).toBe(true);
  });

  it("turns no answer at all into status 0, and a 204 into nothing", async () => {
    const failing = createApi({
      baseUrl: "http://api",
      token: () => "tok",
      onUnauthorized: () => {},
      fetchImpl: (() => Promise.reject(new TypeError("Failed to fetch"))) as unknown as typeof fetch,
    });
    await expect(failing.deleteTask("1")).rejects.toMatchObject({ status: 0 });
    const { sent, fetchImpl } = recorder(() => new Response(null, { status: 204 }));
    const api = createApi({ baseUrl: "http://api", token: () => "tok", onUnauthorized: () => {}, fetchImpl });
    await expect(api.deleteTask("a b", { keepalive: true })).resolves.toBeUndefined();
    expect(sent[0]!.url).toBe("http://api/tasks/a%20b");
    expect(sent[0]!.init.keepalive).toBe(true);
  });
});
