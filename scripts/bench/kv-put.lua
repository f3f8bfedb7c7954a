-- wrk: PUT /kv/key<n> (n uniform in 1..100000) with a 100-byte value, the public API of kv.
local body = '{"value":"' .. string.rep("x", 100) .. '"}'
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/kv/key" .. math.random(100000), nil, body)
end
