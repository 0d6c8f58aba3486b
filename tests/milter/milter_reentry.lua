-- milter_reentry.lua - a message that comes back through the milter (a
-- content filter reinjecting it, postsuper -r) with a token this store
-- issued keeps that token; the driver checks that the one record moved to
-- the new queue id.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

local conn = t.connect("app.example", "127.0.0.1")
t.message(conn, {qid = "MTRE1AAAAAAA", headers = {{"X-Posthook-Tag", "loop"}}})
local tok = t.token(conn)
t.check(tok ~= nil, "first pass: no token")
mt.disconnect(conn)

conn = t.connect("filter.example", "127.0.0.1")
t.message(conn, {qid = "MTRE2AAAAAAA", headers = {
	{"Subject", "back again"},
	{"X-Posthook-Token", " " .. tok},
}})
t.check(t.accepted(conn), "second pass: not accepted")
local tok2 = t.token(conn)
t.check(tok2 == tok, "second pass: token changed from " .. tok .. " to " .. tostring(tok2))
print("TOKEN=" .. tok)
mt.disconnect(conn)
