-- milter_lib.lua - what every miltertest script of posthook-milter shares.
--
-- miltertest does not print the text of error(): check() prints the
-- failure first, so the log says what went wrong.  Scripts print
-- "KEY=value" lines the driver (milter_miltertest.py) reads.

local M = {}
local unpack = table.unpack or unpack

-- check - fail the script with a printed reason unless cond holds.
function M.check(cond, what)
	if not cond then
		print("FAIL: " .. what)
		error(what)
	end
end

-- connect - a milter session from host/ip, with optional connect macros.
function M.connect(host, ip, macros)
	local conn = mt.connect(os.getenv("MILTER_SOCKET"), 50, 0.1)
	M.check(conn ~= nil, "cannot connect to " .. tostring(os.getenv("MILTER_SOCKET")))
	if macros ~= nil then
		M.check(mt.macro(conn, SMFIC_CONNECT, unpack(macros)) == nil,
			"connect macros")
	end
	M.check(mt.conninfo(conn, host, ip) == nil, "conninfo")
	return conn
end

-- message - send one message: m.qid, m.auth, m.from, m.rcpts, m.headers
-- (a list of {name, value}); returns after end of message.
function M.message(conn, m)
	local macros = {}
	if m.qid ~= nil then
		table.insert(macros, "i")
		table.insert(macros, m.qid)
	end
	if m.auth ~= nil then
		table.insert(macros, "{auth_authen}")
		table.insert(macros, m.auth)
	end
	if #macros > 0 then
		M.check(mt.macro(conn, SMFIC_MAIL, unpack(macros)) == nil,
			"mail macros")
	end
	M.check(mt.mailfrom(conn, m.from or "<app@example.com>") == nil, "mailfrom")
	for _, r in ipairs(m.rcpts or {"<rcpt@dest.test>"}) do
		M.check(mt.rcptto(conn, r) == nil, "rcptto " .. r)
	end
	for _, h in ipairs(m.headers or {}) do
		M.check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	M.check(mt.eom(conn) == nil, "eom")
end

-- token - the token header the milter added, or nil.
function M.token(conn)
	if not mt.eom_check(conn, MT_HDRADD, "X-Posthook-Token") then
		return nil
	end
	return mt.getheader(conn, "X-Posthook-Token", 0)
end

-- accepted - the milter let the message through.
function M.accepted(conn)
	local r = mt.getreply(conn)
	return r == SMFIR_CONTINUE or r == SMFIR_ACCEPT
end

-- removed - every name in the list was deleted.
function M.removed(conn, names)
	for _, n in ipairs(names) do
		if not mt.eom_check(conn, MT_HDRDELETE, n) then
			print("not removed: " .. n)
			return false
		end
	end
	return true
end

return M
