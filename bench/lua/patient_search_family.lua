-- GET /fhir/Patient?family={family}: a random patient's family name per request (so common
-- names come up as often as they occur), full name or its first 3 letters (a prefix search,
-- FHIR's default string match), half and half. Default page size (50).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local reqs, n
function init(args)
  bench.seed_random()
  local families = bench.lines("families.txt")
  reqs = {}
  for i, family in ipairs(families) do
    local value = family
    if i % 2 == 0 then
      -- First 3 characters (UTF-8 aware enough: stop before a continuation byte).
      local cut = 3
      while cut < #family and string.byte(family, cut + 1) >= 0x80 and string.byte(family, cut + 1) < 0xC0 do
        cut = cut + 1
      end
      value = string.sub(family, 1, cut)
    end
    reqs[i] = wrk.format("GET", "/fhir/Patient?family=" .. bench.urlencode(value),
      bench.auth({ ["Accept"] = "application/fhir+json" }))
  end
  n = #reqs
end

function request()
  return reqs[math.random(n)]
end
