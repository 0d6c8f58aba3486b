-- milter_repeated.lua - repeated app headers are all removed (the first
-- tag and metadata are recorded), and a token header the application or
-- an attacker put in is replaced by one the store issued.
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

local conn = t.connect("app.example", "127.0.0.1")
t.message(conn, {qid = "MTREP1AAAAAA", headers = {
	{"X-Posthook-Tag", "first"},
	{"X-Posthook-Metadata", "{\"n\": \"1\"}"},
	{"X-Posthook-Tag", "second"},
	{"X-Posthook-Metadata", "{\"n\": \"2\"}"},
	{"X-POSTHOOK-TAG", "third"},
	{"X-Posthook-Token", "injectedtokenwhichisnotou"},
	{"X-Posthook-Token", "aaaaaaaaaaaaaaaaaaaaaaaa"},
}})
t.check(t.accepted(conn), "repeated: not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata", "X-Posthook-Token"}),
	"repeated: headers kept")
local tok = t.token(conn)
t.check(tok ~= nil and tok ~= "aaaaaaaaaaaaaaaaaaaaaaaa", "injected token kept: " .. tostring(tok))
print("TOKEN=" .. tok)
mt.disconnect(conn)
