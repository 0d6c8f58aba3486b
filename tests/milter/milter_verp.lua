-- milter_verp.lua - the VERP return path (return_path_domain).  The driver
-- runs it twice: VERP=off (return_path_domain unset) and VERP=on
-- (return_path_domain = bounces.example.com), with queue ids prefixed by
-- P.  miltertest keeps the milter's sender change (SMFIR_CHGFROM) but has
-- no eom_check for it, so the script checks what it can see here (whether
-- the milter asked for SMFIF_CHGFROM, the token header) and the driver
-- checks the rest: the record's verp_sender and from, and the log.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")
local verp = os.getenv("VERP") == "on"
local p = os.getenv("P")

local conn = t.connect("app.example", "127.0.0.1")
-- Asked for only when needed: return_path_domain set.
t.check(mt.test_action(conn, SMFIF_CHGFROM) == verp,
	"SMFIF_CHGFROM negotiated: " .. tostring(mt.test_action(conn, SMFIF_CHGFROM))
	.. ", VERP " .. tostring(os.getenv("VERP")))
t.message(conn, {qid = p .. "1AAAAAAAA", from = "<App@Example.com>",
		 headers = {{"X-Posthook-Tag", "verp"}}})
t.check(t.accepted(conn), "first message not accepted")
local tok = t.token(conn)
t.check(tok ~= nil, "first message: no token")
print("TOKEN=" .. tok)

-- Postfix's own mail (null sender) keeps <>.
t.message(conn, {qid = p .. "2AAAAAAAA", from = "<>"})
t.check(t.accepted(conn), "null-sender message not accepted")
t.check(t.token(conn) ~= nil, "null-sender message: no token")
mt.disconnect(conn)

-- Back from a content filter: token header, and (VERP on) the VERP sender.
conn = t.connect("filter.example", "127.0.0.1")
local from = "<App@Example.com>"
if verp then
	from = "<b+" .. tok .. "@bounces.example.com>"
end
t.message(conn, {qid = p .. "3AAAAAAAA", from = from,
		 headers = {{"X-Posthook-Token", tok}}})
t.check(t.accepted(conn), "re-entered message not accepted")
t.check(t.token(conn) == tok, "re-entered message: token " .. tostring(t.token(conn)))
mt.disconnect(conn)

-- Incoming mail: never recorded, sender never changed.
conn = t.connect("mx.outside.example", "192.0.2.25")
t.message(conn, {qid = p .. "4AAAAAAAA", from = "<someone@outside.example>"})
t.check(t.accepted(conn), "incoming message not accepted")
t.check(t.token(conn) == nil, "incoming message got a token")
mt.disconnect(conn)
