-- Shared helpers for the izreg wrk scenarios (wrk 4 with LuaJIT).
--
-- wrk runs every scenario script in several Lua states: the main one (setup, done) and one
-- per thread (init, request, response). Each state runs this file through `dofile`.
--
-- Every scenario builds its requests in `request()`, even the constant ones, so that the
-- load generator does the same amount of work per request in every scenario and the
-- /health/live ceiling is comparable with the others.
--
-- Environment (set by bench/run):
--   BENCH_DATA_DIR        folder with the id / name files extracted from the seeded database
--   BENCH_SCENARIO        scenario name, echoed in the JSON summary line
--   BENCH_CAPTURE_ERRORS  "1": define response() and print the first non-2xx response body
--                         (costs some load-generator CPU, so only used for diagnosis runs)

bench = {}

bench.data_dir = os.getenv("BENCH_DATA_DIR") or "."
bench.scenario = os.getenv("BENCH_SCENARIO") or "unnamed"
bench.capture = os.getenv("BENCH_CAPTURE_ERRORS") == "1"

-- Reads one file of the data folder into a list of non-empty lines.
function bench.lines(name)
  local path = bench.data_dir .. "/" .. name
  local file = assert(io.open(path, "r"), "cannot open " .. path)
  local list = {}
  for line in file:lines() do
    if line ~= "" then list[#list + 1] = line end
  end
  file:close()
  assert(#list > 0, path .. " is empty")
  return list
end

-- Percent-encodes a query value (UTF-8 bytes are encoded one by one).
function bench.urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Escapes a string for a JSON string literal.
function bench.json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

-- Thread bookkeeping: setup() numbers the threads, init() seeds each thread's generator.
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  threads[#threads + 1] = thread
end

function bench.seed_random()
  local id = thread_id or 0
  math.randomseed(os.time() * 1000 + id * 7919 + math.floor((os.clock() * 1e6) % 1000))
  -- LuaJIT's first values after seeding are poorly mixed.
  for _ = 1, 10 do math.random() end
end

-- A unique urn:uuid per call (thread id, counter and random bits; UUID v4 layout).
local uuid_counter = 0
function bench.unique_urn()
  uuid_counter = uuid_counter + 1
  local id = thread_id or 0
  return string.format("urn:uuid:%08x-%04x-4%03x-%04x-%06x%06x",
    id, math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.floor(uuid_counter / 0x1000000) % 0x1000000, uuid_counter % 0x1000000)
end

-- Dates: today minus `days`, UTC, as YYYY-MM-DD.
function bench.date_days_ago(days)
  return os.date("!%Y-%m-%d", os.time() - days * 86400)
end

-- Diagnosis mode: count non-2xx answers and keep the first one.
if bench.capture then
  non2xx = 0
  first_status = 0
  first_body = ""
  function response(status, headers, body)
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_status == 0 then
        first_status = status
        first_body = string.sub(body or "", 1, 2000)
      end
    end
  end
end

-- One JSON line on stdout, prefixed by BENCH_JSON so that bench/run can find it.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local non2xx = e.status
  local first_status, first_body = 0, ""
  if bench.capture then
    non2xx = 0
    for _, thread in ipairs(threads) do
      non2xx = non2xx + (thread:get("non2xx") or 0)
      local status = thread:get("first_status") or 0
      if first_status == 0 and status ~= 0 then
        first_status = status
        first_body = thread:get("first_body") or ""
      end
    end
  end
  local line = string.format(
    '{"scenario":%s,"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"latency_ms":{"mean":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"errors":%d,"non2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
    bench.json_string(bench.scenario), summary.requests, seconds, summary.requests / seconds,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    socket_errors + non2xx, non2xx, e.connect, e.read, e.write, e.timeout)
  if bench.capture then
    line = line .. string.format(',"first_error":{"status":%d,"body":%s}', first_status, bench.json_string(first_body))
  end
  io.write("BENCH_JSON ", line, "}\n")
end

-- The access token bench/run obtained for the scenarios (a clinician of an enrolled provider
-- with an active data use agreement): every FHIR request is authenticated, authorized and
-- audited, as in production.
function bench.auth(headers)
  headers = headers or {}
  if bench.token == nil then
    local file = io.open(bench.data_dir .. "/token.txt", "r")
    bench.token = file and file:read("*l") or ""
    if file then file:close() end
  end
  if bench.token ~= "" then headers["Authorization"] = "Bearer " .. bench.token end
  return headers
end
