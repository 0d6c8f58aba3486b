-- milter_badmeta.lua - bad input with on_bad_metadata = accept: the mail
-- flows, the record keeps what was valid (checked by the driver).
local t = dofile(os.getenv("srcdir") .. "/milter_lib.lua")

local conn = t.connect("app.example", "127.0.0.1")

-- Metadata with a nested object; a valid tag.
t.message(conn, {qid = "MTBAD1AAAAAA", headers = {
	{"X-Posthook-Tag", "kept"},
	{"X-Posthook-Metadata", "{\"user_id\": 42, \"address\": {\"city\": \"x\"}}"},
}})
t.check(t.accepted(conn), "bad metadata: not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata"}), "bad metadata: headers kept")
t.check(t.token(conn) ~= nil, "bad metadata: no token")

-- A tag over 255 bytes; metadata with 21 keys.
local keys = {}
for i = 1, 21 do table.insert(keys, string.format("\"k%d\": \"v\"", i)) end
t.message(conn, {qid = "MTBAD2AAAAAA", headers = {
	{"X-Posthook-Tag", string.rep("t", 256)},
	{"X-Posthook-Metadata", "{" .. table.concat(keys, ", ") .. "}"},
}})
t.check(t.accepted(conn), "over limits: not accepted")
t.check(t.token(conn) ~= nil, "over limits: no token")

-- A long metadata value, 8-bit junk in tag and subject, CR/LF in values.
-- (miltertest overflows its own stack on a header over about 2 KiB: the
-- huge-header case is in milter_postfix.py.)
t.message(conn, {qid = "MTBAD3AAAAAA", headers = {
	{"Subject", "caf\233 \147quoted\148\r\n continued"},
	{"X-Posthook-Tag", "bad\255\254tag"},
	{"X-Posthook-Metadata", "{\"a\": \"" .. string.rep("x", 1000) .. "\"}"},
}})
t.check(t.accepted(conn), "huge/junk: not accepted")
t.check(t.removed(conn, {"X-Posthook-Tag", "X-Posthook-Metadata"}), "huge/junk: headers kept")
t.check(t.token(conn) ~= nil, "huge/junk: no token")

-- Not JSON at all, and a Message-ID that is garbage.
t.message(conn, {qid = "MTBAD4AAAAAA", headers = {
	{"X-Posthook-Metadata", "user_id=1; campaign=2"},
	{"Message-ID", "<\r\n>"},
}})
t.check(t.accepted(conn), "not JSON: not accepted")
t.check(t.token(conn) ~= nil, "not JSON: no token")
-- Numbers and booleans kept as their JSON text, a null dropped.
t.message(conn, {qid = "MTBAD5AAAAAA", headers = {
	{"X-Posthook-Metadata", "{\"user_id\": 42, \"vip\": true, \"score\": 1.5, \"gone\": null}"},
}})
t.check(t.accepted(conn), "scalars: not accepted")
t.check(t.token(conn) ~= nil, "scalars: no token")
mt.disconnect(conn)
