-- wrk scenarios for bench/service_bench.py. Run wrk with as many threads as connections (-t C -c C):
-- each thread then has one connection and one request in flight, so a unit's ETag read from a response
-- is the one the same thread sends next as If-Match.
--
-- SB_SCENARIO: health | unit_update | availability_sync | new_request | mixed
-- SB_BENCH_DATA: a Lua file (written by service_bench.py) returning
--   { units = {{id=, version=, token=}, ...}, syncs = {{token=, body=}, ...},
--     workers = {"<token>", ...}, threads = <number of wrk threads>, today = "YYYY-MM-DD",
--     later = "YYYY-MM-DD", run = "<run tag>" }
-- done() prints one line: SB_RESULT {"requests_per_second":..,"p50_ms":..,"p99_ms":..,"statuses":{..}}

local scenario = os.getenv("SB_SCENARIO") or "health"
local data = dofile(os.getenv("SB_BENCH_DATA"))

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- per thread -------------------------------------------------------------------------------------------

local units, syncs, workers = {}, {}, {}
statuses = {}  -- a global: done() reads it with thread:get
local turn, last_unit, counter = 0, nil, 0

local function share(list, tid)
   local mine = {}
   for i, item in ipairs(list) do
      if (i - 1) % data.threads == tid then table.insert(mine, item) end
   end
   if #mine == 0 and #list > 0 then table.insert(mine, list[(tid % #list) + 1]) end
   return mine
end

function init(args)
   units = share(data.units, tid)
   syncs = share(data.syncs, tid)
   workers = share(data.workers, tid)
   math.randomseed(tid * 7919 + 17)
end

local function bearer(token, extra)
   local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
   for k, v in pairs(extra or {}) do headers[k] = v end
   return headers
end

local function unit_update()
   turn = turn + 1
   local unit = units[(turn - 1) % #units + 1]
   last_unit = unit
   local day = (unit.version % 2 == 0) and data.today or data.later
   return wrk.format("PATCH", "/api/units/" .. unit.id,
      bearer(unit.token, { ["If-Match"] = '"v' .. unit.version .. '"' }),
      '{"available_from":"' .. day .. '"}')
end

local function unit_read()
   turn = turn + 1
   local unit = units[(turn - 1) % #units + 1]
   last_unit = nil
   return wrk.format("GET", "/api/units/" .. unit.id, bearer(unit.token))
end

local function availability_sync()
   turn = turn + 1
   local sync = syncs[(turn - 1) % #syncs + 1]
   last_unit = nil
   return wrk.format("PUT", "/api/availability", bearer(sync.token), sync.body)
end

local GENDERS = { "female", "male" }

local function new_request()
   counter = counter + 1
   last_unit = nil
   local token = workers[(counter - 1) % #workers + 1]
   local reference = data.run .. "-T" .. tid .. "-R" .. counter
   local children = ""
   local n = counter % 3
   for c = 1, n do
      if c > 1 then children = children .. "," end
      children = children .. '{"gender":"' .. GENDERS[(counter + c) % 2 + 1] .. '","age":' .. ((counter * 3 + c) % 14 + 1)
         .. ',"decision_reference":"' .. reference .. "-B" .. c .. '"}'
   end
   local body = '{"case_reference":"' .. reference .. '","urgency":"days","security_level_needed":'
      .. (counter % 2 + 1) .. ',"protected_data_level":"none","adults":[{"gender":"female","age":'
      .. (22 + counter % 30) .. '}],"children":[' .. children .. '],"latest_start_date":"' .. data.later .. '"}'
   return wrk.format("POST", "/api/requests", bearer(token), body)
end

local function mixed()
   local pick = math.random(100)
   if pick <= 60 then return unit_update() end
   if pick <= 85 then return unit_read() end
   return new_request()
end

local SCENARIOS = {
   health = function() return wrk.format("GET", "/health") end,
   unit_update = unit_update,
   availability_sync = availability_sync,
   new_request = new_request,
   mixed = mixed,
}

request = SCENARIOS[scenario]

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if last_unit ~= nil and status == 200 then
      local tag = headers["ETag"] or headers["etag"]
      local version = tag and tag:match('"v(%d+)"')
      if version then last_unit.version = tonumber(version) end
   end
   last_unit = nil
end

-- main state --------------------------------------------------------------------------------------------

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("statuses") or {}) do
         counts[code] = (counts[code] or 0) + n
      end
   end
   local parts = {}
   for code, n in pairs(counts) do table.insert(parts, '"' .. code .. '":' .. n) end
   local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
   io.write(string.format(
      'SB_RESULT {"requests":%d,"seconds":%.3f,"requests_per_second":%.2f,"p50_ms":%.3f,"p99_ms":%.3f,'
         .. '"socket_errors":%d,"statuses":{%s}}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, table.concat(parts, ",")))
end
