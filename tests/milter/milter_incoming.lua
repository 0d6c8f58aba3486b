-- milter_incoming.lua - mail from outside is not recorded and gets no
-- token, but every app header and any token header is removed, so that
-- outsiders cannot inject them.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

local conn = t.connect("mx.remote.test", "192.0.2.25", {"{daemon_name}", "smtpd"})
t.message(conn, {
	qid = "MTIN1AAAAAAA",
	from = "<stranger@remote.test>",
	headers = {
		{"Subject", "hello"},
		{"X-Posthook-Tag", "forged"},
		{"X-Posthook-Metadata", "{\"user_id\": \"forged\"}"},
		{"X-Posthook-Token", "aaaaaaaaaaaaaaaaaaaaaaaa"},
		{"x-posthook-tag", "second, lower case"},
	},
})
t.check(t.accepted(conn), "incoming message not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata", "X-Posthook-Token"}),
	"incoming app headers kept")
t.check(t.token(conn) == nil, "incoming message got a token")

-- IPv6 from outside is incoming too; ::1 is internal.
mt.disconnect(conn)
conn = t.connect("mx6.remote.test", "2001:db8::25")
t.message(conn, {qid = "MTIN6AAAAAAA"})
t.check(t.token(conn) == nil, "incoming IPv6 message got a token")
mt.disconnect(conn)
conn = t.connect("app6.example", "::1")
t.message(conn, {qid = "MTOUT6AAAAAA"})
t.check(t.token(conn) ~= nil, "message from ::1 got no token")
mt.disconnect(conn)
