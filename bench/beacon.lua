-- wrk script: beacon POSTs of one canonical event with a fresh event_id each.
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
request = function()
	n = n + 1
	local body = string.format('{"event":"Purchase","event_id":"b-%d-%d","user":{"email":"u%d@example.com"},"props":{"value":19.9,"currency":"EUR","order_id":"o-%d"}}', math.random(1e9), n, n, n)
	return wrk.format(nil, nil, nil, body)
end
