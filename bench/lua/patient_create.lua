-- POST /fhir/Patient: a new person per request (random name from the seeded names, random
-- birth date 1 to 6000 days ago, random gender).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local families, givens, headers
local genders = { "male", "female" }
function init(args)
  bench.seed_random()
  families = bench.lines("families.txt")
  givens = bench.lines("givens.txt")
  headers = { ["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json" }
end

function request()
  local body = string.format(
    '{"resourceType":"Patient","name":[{"family":%s,"given":[%s]}],"gender":"%s","birthDate":"%s"}',
    bench.json_string(families[math.random(#families)]), bench.json_string(givens[math.random(#givens)]),
    genders[math.random(2)], bench.date_days_ago(math.random(1, 6000)))
  return wrk.format("POST", "/fhir/Patient", bench.auth(headers), body)
end
