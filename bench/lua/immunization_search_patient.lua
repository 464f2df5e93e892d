-- GET /fhir/Immunization?patient={id}: a random patient that has immunizations.
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local reqs, n
function init(args)
  bench.seed_random()
  local ids = bench.lines("immunized_patient_ids.txt")
  reqs = {}
  for i, id in ipairs(ids) do
    reqs[i] = wrk.format("GET", "/fhir/Immunization?patient=" .. id, bench.auth({ ["Accept"] = "application/fhir+json" }))
  end
  n = #reqs
end

function request()
  return reqs[math.random(n)]
end
