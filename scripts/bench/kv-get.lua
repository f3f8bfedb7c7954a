-- wrk: GET /kv/key<n> (n uniform in 1..100000), the public API of kv.
request = function()
  return wrk.format("GET", "/kv/key" .. math.random(100000))
end
