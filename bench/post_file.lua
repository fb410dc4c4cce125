-- wrk script: POSTs the bytes of $BODY_FILE to the URL's path on every request,
-- with $CONTENT_TYPE, and $CONTENT_ENCODING / $AUTHORIZATION when set
-- (bench/segment.sh).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
if os.getenv("CONTENT_ENCODING") then
	wrk.headers["Content-Encoding"] = os.getenv("CONTENT_ENCODING")
end
if os.getenv("AUTHORIZATION") then
	wrk.headers["Authorization"] = os.getenv("AUTHORIZATION")
end
