-- wrk script for bench:rest: each request is a GET of a path drawn at random from a file, one path a
-- line (`wrk -s wrk-paths.lua <url> -- <paths-file>`), so a route that takes a cluster name is asked
-- about every cluster rather than one that stays hot in every cache. Headers given with -H (the bearer
-- token) are sent with every request. The requests are formatted once, in init, so the per-request
-- Lua cost is one table lookup.

local requests = {}

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk -s wrk-paths.lua <url> -- <paths-file>")
  end
  for line in io.lines(file) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format("GET", line)
    end
  end
  if #requests == 0 then
    error("no paths in " .. file)
  end
  math.randomseed(os.time())
end

function request()
  return requests[math.random(#requests)]
end
