-- wrk script for scripts/bench: rotate over pre-built requests, count non-2xx answers, and
-- print the summary as one JSON line.
-- The request file (first script argument) holds one request a line, tab-separated:
--   METHOD <TAB> PATH <TAB> BEARER-TOKEN-or-empty <TAB> JSON-BODY-or-empty
-- Each thread starts at another offset so that the threads do not send the same request at
-- the same moment (PATCH of one row by two connections would measure row-lock waits).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local position = 1
non2xx = 0
s429 = 0
s503 = 0
first_bad = ""

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local f = split(line)
    local headers = {}
    if f[3] ~= "" then headers["Authorization"] = "Bearer " .. f[3] end
    local body = nil
    if f[4] ~= "" then
      body = f[4]
      headers["Content-Type"] = "application/json"
    end
    table.insert(requests, wrk.format(f[1], f[2], headers, body))
  end
  file:close()
  local threads_total = tonumber(args[2]) or 1
  position = (math.floor(#requests * (thread_index or 0) / threads_total) % #requests) + 1
end

function request()
  local r = requests[position]
  position = position + 1
  if position > #requests then position = 1 end
  return r
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if status == 429 then s429 = s429 + 1 elseif status == 503 then s503 = s503 + 1 end
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  end
end

local function quote(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', ' ') .. '"'
end

function done(summary, latency, requests_)
  local bad, sample, n429, n503 = 0, "", 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    n429 = n429 + (thread:get("s429") or 0)
    n503 = n503 + (thread:get("s503") or 0)
    local fb = thread:get("first_bad") or ""
    if sample == "" then sample = fb end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"first_bad":%s,' ..
    '"s429":%d,"s503":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max, quote(sample), n429, n503))
end
