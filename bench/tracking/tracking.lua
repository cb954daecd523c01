-- wrk script for the Cairn / MLflow tracking benchmark.
--
-- Usage:
--   wrk -t2 -c16 -d15s --latency --timeout 30s -s tracking.lua URL -- MODE OFFSET RUN_ID [RUN_ID...]
--
--   MODE    logbatch  : POST /api/2.0/mlflow/runs/log-batch, 100 metrics per request
--           logmetric : POST /api/2.0/mlflow/runs/log-metric, 1 metric per request
--   OFFSET  added to every step, so a warm-up pass and the measured pass never write
--           the same (key, step, timestamp) rows (nothing is deduplicated).
--   RUN_ID  pre-created runs; requests go round-robin over them.
--
-- Every request has a step that is unique across threads and passes
-- (OFFSET + thread_id * 1e9 + per-thread counter), and the 100 metrics of a log-batch
-- request have 100 distinct keys.
--
-- Non-2xx responses are counted per status in the `response` hook and reported by
-- `done` as one machine-readable line starting with "WRK_JSON ".

local threads = {}
local next_tid = 1

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

-- ---------------------------------------------------------------- per-thread state
local mode, offset, runs, nruns
local counter = 0
local base_ts
local headers = { ["Content-Type"] = "application/json" }
local batch_frag = {}     -- batch_frag[i] = '{"key":"k<i>","value":<v>,"timestamp":'
local NMETRICS = 100
statuses = {}             -- global: read back by done() through thread:get

function init(args)
   mode = args[1] or "logbatch"
   offset = tonumber(args[2] or "0")
   runs = {}
   for i = 3, #args do runs[#runs + 1] = args[i] end
   nruns = #runs
   if nruns == 0 then
      error("tracking.lua: no run ids given (pass them after --)")
   end
   -- Headers given with -H (an Authorization header, for bench/auth) go on every request.
   for name, value in pairs(wrk.headers) do
      if headers[name] == nil and name ~= "Host" then headers[name] = value end
   end
   base_ts = os.time() * 1000
   math.randomseed(tid * 7919 + os.time())
   for i = 1, NMETRICS do
      batch_frag[i] = string.format('{"key":"k%d","value":%.6f,"timestamp":', i - 1, math.random())
   end
   if mode ~= "logbatch" and mode ~= "logmetric" then
      error("tracking.lua: unknown mode " .. tostring(mode))
   end
end

function request()
   counter = counter + 1
   local step = string.format("%.0f", offset + tid * 1e9 + counter)
   local ts = string.format("%.0f", base_ts + counter)
   local run = runs[(counter % nruns) + 1]
   if mode == "logbatch" then
      local tail = ts .. ',"step":' .. step .. '}'
      local parts = {}
      for i = 1, NMETRICS do
         parts[i] = batch_frag[i] .. tail
      end
      local body = '{"run_id":"' .. run .. '","metrics":[' .. table.concat(parts, ",") .. ']}'
      return wrk.format("POST", "/api/2.0/mlflow/runs/log-batch", headers, body)
   else
      local body = '{"run_id":"' .. run .. '","key":"lm","value":'
         .. string.format("%.6f", (counter % 1000) / 1000.0)
         .. ',"timestamp":' .. ts .. ',"step":' .. step .. '}'
      return wrk.format("POST", "/api/2.0/mlflow/runs/log-metric", headers, body)
   end
end

function response(status, hdrs, body)
   statuses[status] = (statuses[status] or 0) + 1
end

-- ---------------------------------------------------------------- main-state report
function done(summary, latency, requests)
   local by_status = {}
   local non2xx = 0
   local counted = 0
   for _, t in ipairs(threads) do
      local s = t:get("statuses") or {}
      for code, n in pairs(s) do
         by_status[code] = (by_status[code] or 0) + n
         counted = counted + n
         if code < 200 or code > 299 then non2xx = non2xx + n end
      end
   end
   local st = {}
   for code, n in pairs(by_status) do
      st[#st + 1] = string.format('"%d":%d', code, n)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"responses":%d,"duration_us":%d,"bytes":%d,' ..
      '"non2xx":%d,"statuses":{%s},' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"lat_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
      summary.requests, counted, summary.duration, summary.bytes,
      non2xx, table.concat(st, ","),
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max))
end
