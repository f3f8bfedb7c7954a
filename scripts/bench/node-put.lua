-- wrk: PUT /internal/kv/key<n> on one data node (its single-key internal API), 100-byte values, each request with a
-- version of its own: milliseconds of the start of the run and a counter, with the thread's id in the clock id.
local body_prefix = '{"value":"' .. string.rep("x", 100) .. '","version":"'
local start_ms = os.time() * 1000
local counter = 0
local id = 0

setup = function(thread)
  id = id + 1
  thread:set("clock_id", "wrk" .. id)
end

wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local ms = start_ms + math.floor(counter / 65536)
  -- 12 hex digits of ms in two 24-bit halves: string.format's %x may not take more than 32 bits.
  local version = string.format("%06x%06x-%04x-%s", math.floor(ms / 16777216), ms % 16777216, counter % 65536, clock_id or "wrk")
  return wrk.format(nil, "/internal/kv/key" .. math.random(100000), nil, body_prefix .. version .. '"}')
end
