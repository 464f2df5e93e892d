-- POST /fhir: a transaction Bundle of 1 new Patient (fullUrl urn:uuid:, unique per request)
-- and 10 Immunizations that reference it by that urn.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local families, givens, headers
local cvx = { "20", "10", "08", "03", "21", "83", "133", "116", "49", "141" }
local genders = { "male", "female" }
function init(args)
  bench.seed_random()
  families = bench.lines("families.txt")
  givens = bench.lines("givens.txt")
  headers = { ["Content-Type"] = "application/fhir+json", ["Accept"] = "application/fhir+json" }
end

function request()
  local urn = bench.unique_urn()
  local birth_days = math.random(400, 6000)
  local parts = {}
  parts[1] = string.format(
    '{"resourceType":"Bundle","type":"transaction","entry":[' ..
    '{"fullUrl":"%s","resource":{"resourceType":"Patient","name":[{"family":%s,"given":[%s]}],' ..
    '"gender":"%s","birthDate":"%s"},"request":{"method":"POST","url":"Patient"}}',
    urn, bench.json_string(families[math.random(#families)]), bench.json_string(givens[math.random(#givens)]),
    genders[math.random(2)], bench.date_days_ago(birth_days))
  for i = 1, 10 do
    parts[#parts + 1] = string.format(
      ',{"resource":{"resourceType":"Immunization","status":"completed",' ..
      '"vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"%s"}]},' ..
      '"patient":{"reference":"%s"},"occurrenceDateTime":"%s","lotNumber":"TX%d"},' ..
      '"request":{"method":"POST","url":"Immunization"}}',
      cvx[i], urn, bench.date_days_ago(birth_days - 30 * i), i)
  end
  parts[#parts + 1] = "]}"
  return wrk.format("POST", "/fhir", bench.auth(headers), table.concat(parts))
end
