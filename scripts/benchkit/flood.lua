-- wrk script for scripts/bench's sign-up flood: POST /auth/signup with a new email on every
-- request, optionally from a new client address each time (X-Forwarded-For, trusted from
-- 127.0.0.1 by the server's default FORWARDED_ALLOW_IPS), counting the answers by status.
-- Arguments: thread count, "spread" (one address per request) or "one" (one address), and a
-- nonce that makes this run's emails differ from every other run's.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local sent = 0
local spread = false
created, throttled, busy, other = 0, 0, 0, 0
first_other = ""

local nonce = "0"

function init(args)
  spread = args[2] == "spread"
  nonce = args[3] or "0"  -- unique per wrk run: every run's emails are new
end

function request()
  sent = sent + 1
  local id = string.format("%s-%d-%d", nonce, thread_index or 0, sent)
  local headers = {["Content-Type"] = "application/json"}
  if spread then
    -- 10.x.y.z: a different client address for every request (a distributed flood)
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", thread_index or 0,
      math.floor(sent / 256) % 256, sent % 256)
  end
  local body = '{"email":"flood-' .. id .. '@example.com","password":"flood-password-123"}'
  return wrk.format("POST", "/auth/signup", headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 429 then throttled = throttled + 1
  elseif status == 503 then busy = busy + 1
  else
    other = other + 1
    if first_other == "" then first_other = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  end
end

local function quote(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', ' ') .. '"'
end

function done(summary, latency, requests_)
  local c, t, b, o, sample = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    if sample == "" then sample = thread:get("first_other") or "" end
    c = c + (thread:get("created") or 0)
    t = t + (thread:get("throttled") or 0)
    b = b + (thread:get("busy") or 0)
    o = o + (thread:get("other") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"created":%d,"throttled":%d,"busy":%d,' ..
    '"other":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"first_other":%s}\n',
    summary.requests, summary.duration, c, t, b, o,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99),
    quote(sample)))
end
