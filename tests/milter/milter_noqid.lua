-- milter_noqid.lua - the MTA sends no {i}: the message is accepted, its
-- app headers removed, no token added (nothing the store could resolve),
-- and the log says why (checked by the driver).
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

local conn = t.connect("app.example", "127.0.0.1")
t.message(conn, {
	headers = {{"X-Posthook-Tag", "lost"}, {"X-Posthook-Metadata", "{}"}},
})
t.check(t.accepted(conn), "message without queue id not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata"}), "app headers kept")
t.check(t.token(conn) == nil, "token added without a record")
mt.disconnect(conn)
