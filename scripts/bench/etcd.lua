-- wrk: the load of kv-put.lua / kv-get.lua through etcd's v3 JSON gateway (keys and values base64-encoded).
-- The operation comes after wrk's "--": `wrk ... -s etcd.lua URL -- put` (PUT of a 100-byte value) or `-- get`
-- (a linearizable range read of one key).
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = {}
    for j = 3, 0, -1 do chars[#chars + 1] = alphabet:sub(math.floor(n / 64 ^ j) % 64 + 1, math.floor(n / 64 ^ j) % 64 + 1) end
    if not b then chars[3], chars[4] = "=", "=" elseif not c then chars[4] = "=" end
    out[#out + 1] = table.concat(chars)
  end
  return table.concat(out)
end

local value = base64(string.rep("x", 100))
local operation = "put"

init = function(args)
  operation = args[1] or "put"
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local key = base64("key" .. math.random(100000))
  if operation == "get" then
    return wrk.format(nil, "/v3/kv/range", nil, '{"key":"' .. key .. '"}')
  end
  return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
