-- wrk script for load_webhooks.py: sends pre-built raw HTTP requests, each one once, in order.
--
-- LOAD_REQUESTS names a file of "<byte length>\n<raw request>" records (written by load_webhooks.py,
-- already signed). When every request has been sent the thread stops, so no request is ever
-- repeated: a repeated webhook would be a cheap retry, not a durable insert. done() prints one
-- JSON line that load_webhooks.py reads.

local requests = {}
local count = 0
local sent = 0

function init(args)
  local file = assert(io.open(os.getenv("LOAD_REQUESTS"), "rb"))
  local data = file:read("*a")
  file:close()
  local pos = 1
  while pos <= #data do
    local newline = string.find(data, "\n", pos, true)
    local length = tonumber(string.sub(data, pos, newline - 1))
    count = count + 1
    requests[count] = string.sub(data, newline + 1, newline + length)
    pos = newline + length + 1
  end
end

function request()
  sent = sent + 1
  if sent > count then
    wrk.thread:stop()
    -- wrk still needs a request; a malformed one is answered 400 and counted as non-2xx.
    return "GET /-exhausted HTTP/1.1\r\nHost: x\r\n\r\n"
  end
  return requests[sent]
end

function done(summary, latency, _)
  local status = summary.errors.status
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, status, socket, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
