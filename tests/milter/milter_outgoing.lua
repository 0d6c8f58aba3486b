-- milter_outgoing.lua - outgoing mail from an internal host, by an
-- authenticated client and through an originating daemon: each gets a
-- token, loses its app headers, and (checked by the driver) is recorded
-- with every recipient, decoded subject, tag, metadata and spam status.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

-- Internal host (127.0.0.1 is in the default internal_hosts).
local conn = t.connect("app.example", "127.0.0.1")
t.message(conn, {
	qid = "MTOUT1AAAAAA",
	from = "<app@example.com>",
	rcpts = {"<a@dest.test>", "<b@dest.test>", "<c@other.test>"},
	headers = {
		{"Subject", "=?UTF-8?B?V2lsbGtvbW1lbiBiZWkgw5xiZXI=?= =?ISO-8859-1?Q?Gr=FC=DFe?="},
		{"Message-ID", "<welcome.1@example.com>"},
		{"X-Posthook-Tag", "onboarding"},
		{"X-Posthook-Metadata", "{\"user_id\": \"usr_123456\",\r\n\t\"campaign_id\": \"camp_789\"}"},
		{"X-Spam-Status", "No, score=-1.0 required=5.0"},
	},
})
t.check(t.accepted(conn), "outgoing message not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata"}), "app headers kept")
local tok = t.token(conn)
t.check(tok ~= nil and string.match(tok, "^[a-z2-7]+$") ~= nil and #tok >= 20,
	"bad token header " .. tostring(tok))
print("TOKEN1=" .. tok)

-- A second message on the same connection gets its own token.
t.message(conn, {
	qid = "MTOUT2AAAAAA",
	headers = {{"Subject", "second"}, {"X-Spam-Flag", "YES"}},
})
t.check(t.accepted(conn), "second message not accepted")
local tok2 = t.token(conn)
t.check(tok2 ~= nil and tok2 ~= tok, "second token " .. tostring(tok2))
print("TOKEN2=" .. tok2)
mt.disconnect(conn)

-- Authenticated client from outside.
conn = t.connect("roaming.example", "198.51.100.7")
t.message(conn, {qid = "MTAUTH1AAAAA", auth = "alice",
		 headers = {{"X-Posthook-Tag", "auth"}}})
t.check(t.accepted(conn), "authenticated message not accepted")
t.check(t.token(conn) ~= nil, "authenticated message got no token")
mt.disconnect(conn)

-- Through the submission service: {daemon_name} = ORIGINATING.
conn = t.connect("roaming.example", "198.51.100.8", {"{daemon_name}", "ORIGINATING"})
t.message(conn, {qid = "MTDAEMON1AAA", headers = {{"X-Posthook-Tag", "daemon"}}})
t.check(t.accepted(conn), "originating message not accepted")
t.check(t.token(conn) ~= nil, "originating message got no token")
mt.disconnect(conn)
