-- wrk: GET /internal/kv/key<n> on one data node (its single-key internal API).
request = function()
  return wrk.format("GET", "/internal/kv/key" .. math.random(100000))
end
