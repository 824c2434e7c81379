-- wrk script: POST a pool of pre-signed requests over keep-alive connections (bench/run.py).
--
--   wrk -t THREADS -c CONNECTIONS -d SECONDS -s bench/pool.lua URL -- POOL_FILE THREADS
--
-- POOL_FILE holds one request a line: "content-type<TAB>body" (the body's bytes as they are).
-- Each wrk thread sends its own share of the lines (line n goes to thread n % THREADS), so no
-- push is sent twice unless the pool runs out; then it starts again and "wrapped" says so (a
-- second round is answered 1001 duplicate: a cheaper path, so the figure would flatter).
-- At the end it prints one JSON line: requests, seconds, per_second, p50_ms, p99_ms,
-- answers ("<HTTP status> <reason, else code>": count), socket errors and wrapped.

local threads = {}
local created = 0

function setup(thread)
   thread:set("id", created)
   created = created + 1
   table.insert(threads, thread)
end

function init(args)
   local path, count = args[1], tonumber(args[2])
   pool = {}
   local n = 0
   for line in io.lines(path) do
      if n % count == id then
         local tab = line:find("\t", 1, true)
         local headers = { ["Content-Type"] = line:sub(1, tab - 1) }
         pool[#pool + 1] = wrk.format("POST", nil, headers, line:sub(tab + 1))
      end
      n = n + 1
   end
   position = 0
   wrapped = 0
   answers = {}
end

function request()
   position = position + 1
   if position > #pool then
      position = 1
      wrapped = wrapped + 1
   end
   return pool[position]
end

function response(status, headers, body)
   local key = status .. " " .. (body:match('"reason": *"([%w_]+)"') or body:match('"code": *"(%d+)"') or "-")
   answers[key] = (answers[key] or 0) + 1
end

function done(summary, latency, requests)
   local total, wraps = {}, 0
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get("answers")) do
         total[key] = (total[key] or 0) + count
      end
      wraps = wraps + thread:get("wrapped")
   end
   local parts = {}
   for key, count in pairs(total) do
      parts[#parts + 1] = string.format('"%s": %d', key, count)
   end
   local errors = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      '{"requests": %d, "seconds": %.3f, "per_second": %.1f, "p50_ms": %.1f, "p99_ms": %.1f, '
         .. '"answers": {%s}, "socket_errors": %d, "wrapped": %d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      table.concat(parts, ", "),
      errors.connect + errors.read + errors.write + errors.timeout,
      wraps
   ))
end
