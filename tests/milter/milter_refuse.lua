-- milter_refuse.lua - on_bad_metadata = reject or tempfail (the driver
-- sets it and says which in EXPECT): bad metadata is refused with a reply
-- naming the header; good metadata still passes.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")
local expect = os.getenv("EXPECT")

local conn = t.connect("app.example", "127.0.0.1")
t.message(conn, {qid = os.getenv("QID"), auth = "app", headers = {
	{"X-Posthook-Metadata", "[\"not\", \"an\", \"object\"]"},
}})
-- miltertest shows a reply with text only as SMFIR_REPLYCODE (its
-- MT_SMTPREPLY check fails on it): the driver reads the code in the log.
t.check(mt.getreply(conn) == SMFIR_REPLYCODE, "bad metadata was not refused (" ..
	tostring(mt.getreply(conn)) .. "), expected " .. tostring(expect))
t.check(t.token(conn) == nil, "refused message got a token")

t.message(conn, {qid = os.getenv("QID") .. "B", auth = "app", headers = {
	{"X-Posthook-Metadata", "{\"ok\": \"yes\"}"},
}})
t.check(t.accepted(conn), "good metadata refused")
t.check(t.token(conn) ~= nil, "good metadata: no token")
mt.disconnect(conn)
