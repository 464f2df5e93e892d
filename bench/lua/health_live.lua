-- GET /health/live: no database, the ceiling of the machine (server + wrk on the same cores).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local req
function init(args)
  req = wrk.format("GET", "/health/live")
end

function request()
  return req
end
