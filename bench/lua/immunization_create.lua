-- POST /fhir/Immunization: a completed CVX 20 (DTaP) dose, given yesterday, for a random
-- existing patient born before yesterday.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local ids, n, headers, date
local counter = 0
function init(args)
  bench.seed_random()
  ids = bench.lines("patient_ids_born_before_yesterday.txt")
  n = #ids
  headers = { ["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json" }
  date = bench.date_days_ago(1)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"resourceType":"Immunization","status":"completed",' ..
    '"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"20"}]},' ..
    '"patient":{"reference":"Patient/%s"},"occurrenceDateTime":"%s",' ..
    '"manufacturer":{"identifier":{"system":"http://hl7.org/fhir/sid/mvx","value":"SKB"}},' ..
    '"lotNumber":"BENCH%d-%d"}',
    ids[math.random(n)], date, thread_id or 0, counter)
  return wrk.format("POST", "/fhir/Immunization", bench.auth(headers), body)
end
