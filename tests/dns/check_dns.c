/*
 * check_dns.c - the DNS checks of lib/dns as pure functions: the record
 * parsers, each check over answers from a table (no resolver), the event
 * decision, and the domain records in a real store.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/check.h"
#include "dns/dns_event.h"
#include "dns/domain.h"
#include "dns/records.h"
#include "testlib.h"
#include "util/json.h"
#include "util/util.h"

#define RSA_P                                                                            \
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDLNug7KVyurIqckww5NQJd8ZPn9QnO5"          \
	"+39tc+97iT3tF8BZnGypazzLu/OXf2bMzd5PexUp1CLOxolNx/NWIhozTurWxbLunImJ5cWyAV5"    \
	"7P98oF5zPUR5Vp5N1lvzqa3VSGq51dYecPszZmkN23L8w5eiYRbEha0M2Tv9afFZNQIDAQAB"
#define ED_P "gawdcrTIrCwBEJwW48vPqYHxvCFzWXm1S0FhafEGaZc="

/* One row of the table source: a name's answer for one type. */
struct row {
	const char *name;
	enum dns_type type;
	enum dns_result result;
	const char *rr[4]; /* NULL-terminated */
	int pref[4];
};

/* The answers of every test: a small world of zones. */
static const struct row world[] = {
	{ "good.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 ip4:192.0.2.0/24 -all" },
	  { 0 } },
	{ "good.example", DNS_T_MX, DNS_R_DATA, { "mx.good.example" }, { 10 } },
	{ "mx.good.example", DNS_T_A, DNS_R_DATA, { "192.0.2.25" }, { 0 } },
	{ "s1._domainkey.good.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=DKIM1; k=rsa; p=" RSA_P },
	  { 0 } },
	{ "s2._domainkey.good.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=DKIM1; k=ed25519; p=" ED_P },
	  { 0 } },
	{ "_dmarc.good.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=DMARC1; p=quarantine" },
	  { 0 } },
	{ "rp.good.example", DNS_T_MX, DNS_R_DATA, { "mx.posthook.example" }, { 10 } },
	{ "rp.good.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 ip4:192.0.2.10 -all" },
	  { 0 } },
	{ "10.2.0.192.in-addr.arpa",
	  DNS_T_PTR,
	  DNS_R_DATA,
	  { "mx.posthook.example" },
	  { 0 } },
	{ "mx.posthook.example", DNS_T_A, DNS_R_DATA, { "192.0.2.10" }, { 0 } },
	{ "soft.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 ip4:198.51.100.1 ~all" },
	  { 0 } },
	{ "all.example", DNS_T_TXT, DNS_R_DATA, { "v=spf1 mx all" }, { 0 } },
	{ "two.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 -all", "v=spf1 +mx -all" },
	  { 0 } },
	{ "loop.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 include:loop2.example -all" },
	  { 0 } },
	{ "loop2.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 include:loop.example -all" },
	  { 0 } },
	{ "slow.example", DNS_T_TXT, DNS_R_TIMEOUT, { NULL }, { 0 } },
	{ "slow.example", DNS_T_MX, DNS_R_TIMEOUT, { NULL }, { 0 } },
	{ "sf.example", DNS_T_TXT, DNS_R_SERVFAIL, { NULL }, { 0 } },
	{ "inc.example",
	  DNS_T_TXT,
	  DNS_R_DATA,
	  { "v=spf1 include:slow.example -all" },
	  { 0 } },
	{ "null.example", DNS_T_MX, DNS_R_DATA, { "" }, { 0 } },
	{ "ipmx.example", DNS_T_MX, DNS_R_DATA, { "192.0.2.25" }, { 10 } },
	{ "lost.example", DNS_T_MX, DNS_R_DATA, { "nowhere.example" }, { 10 } },
	{ "cl.example", DNS_T_MX, DNS_R_SERVFAIL, { NULL }, { 0 } },
	{ "cl.example", DNS_T_CNAME, DNS_R_DATA, { "cl2.example" }, { 0 } },
	{ "cl2.example", DNS_T_CNAME, DNS_R_DATA, { "cl.example" }, { 0 } },
	{ "rpa.example", DNS_T_A, DNS_R_DATA, { "192.0.2.10" }, { 0 } },
	{ "nodkim.example", DNS_T_TXT, DNS_R_DATA, { "v=spf1 -all" }, { 0 } },
	{ NULL, 0, 0, { NULL }, { 0 } },
};

/* table_lookup - the world's answer; names not in it do not exist */
static int
table_lookup(void *ctx, const char *name, enum dns_type type, struct dns_answer *out)
{
	const struct row *r;
	int i, known = 0;

	(void) ctx;
	for (r = world; r->name != NULL; r++) {
		if (strcasecmp(r->name, name) != 0)
			continue;
		known = 1;
		if (r->type != type)
			continue;
		out->result = r->result;
		for (i = 0; r->result == DNS_R_DATA && r->rr[i] != NULL; i++)
			dns_answer_add(out, r->rr[i], r->pref[i]);
		return (0);
	}
	out->result = known ? DNS_R_NODATA : DNS_R_NXDOMAIN;
	return (0);
}

static const struct dns_source table = { table_lookup, NULL };
static const char *const ips[] = { "192.0.2.10", NULL };
static const char *const hosts[] = { "mx.posthook.example", NULL };

/* spec_for - a domain checked with the usual settings */
static struct dns_domain_spec
spec_for(const char *domain)
{
	struct dns_domain_spec s;

	memset(&s, 0, sizeof(s));
	s.domain = domain;
	s.sending_ips = ips;
	s.mx_hostnames = hosts;
	return (s);
}

/* run - one check; the caller clears out */
static void
run(const struct dns_domain_spec *s, enum dns_check_kind k, struct dns_check *out)
{
	struct dns_check done[DNS_CHECK_COUNT];
	struct dns_dmarc_info info;

	memset(done, 0, sizeof(done));
	memset(out, 0, sizeof(*out));
	dns_check_run(&table, s, k, done, &info, out);
}

/* expect - status and a piece of the error */
static void
expect(const char *domain, enum dns_check_kind k, enum dns_status st, const char *text)
{
	struct dns_domain_spec s = spec_for(domain);
	struct dns_check c;

	run(&s, k, &c);
	ck_assert_msg(!c.unsure, "%s: unsure: %s", domain, c.note);
	ck_assert_msg(c.status == st, "%s %s: %s (%s)", domain, dns_check_field(k),
		      dns_status_name(c.status), c.error ? c.error : "");
	if (text != NULL)
		ck_assert_msg(c.error != NULL && strstr(c.error, text) != NULL,
			      "%s: error \"%s\" lacks \"%s\"", domain,
			      c.error ? c.error : "(null)", text);
	else
		ck_assert_ptr_null(c.error);
	dns_check_clear(&c);
}

START_TEST(spf_records)
{
	struct dns_answer a = { 0 };
	const char *first;

	dns_answer_add(&a, "google-site-verification=x", 0);
	dns_answer_add(&a, "v=spf1 -all", 0);
	dns_answer_add(&a, "v=spf10 -all", 0);
	ck_assert_uint_eq(spf_record_count(&a, &first), 1);
	ck_assert_str_eq(first, "v=spf1 -all");
	dns_answer_clear(&a);
	ck_assert_int_eq(spf_record_allows_all("v=spf1 mx +all"), 1);
	ck_assert_int_eq(spf_record_allows_all("v=spf1 all"), 1);
	ck_assert_int_eq(spf_record_allows_all("v=spf1 mx ~all"), 0);
	ck_assert_int_eq(spf_record_allows_all("v=spf1 include:allow.example -all"), 0);
}
END_TEST

START_TEST(dkim_records)
{
	struct dkim_record r;
	char err[200], *sel;

	ck_assert_int_eq(
	    dkim_record_parse("v=DKIM1; k=rsa; p=" RSA_P, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.p, RSA_P);
	dkim_record_clear(&r);
	ck_assert_int_eq(
	    dkim_record_parse("v=DKIM1; k=ed25519; p=" ED_P, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.key_type, DKIM_KEY_ED25519);
	dkim_record_clear(&r);
	ck_assert_int_eq(dkim_record_parse("v=DKIM1; p=", &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.p, ""); /* revoked */
	dkim_record_clear(&r);
	ck_assert_int_eq(
	    dkim_record_parse("v=DKIM1; k=rsa; p=!!garbage", &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "p= is not base64");
	ck_assert_int_eq(
	    dkim_record_parse("v=DKIM1; k=ed25519; p=" RSA_P, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "p= is not an ed25519 public key");
	ck_assert_int_eq(dkim_record_parse("k=dsa; p=" RSA_P, &r, err, sizeof(err)), -1);
	ck_assert_int_eq(
	    dkim_record_parse("k=rsa; v=DKIM1; p=" RSA_P, &r, err, sizeof(err)), -1);
	ck_assert_int_eq(dkim_record_parse("v=DKIM1; k=rsa", &r, err, sizeof(err)), -1);
	ck_assert_int_eq(dkim_record_parse("garbage", &r, err, sizeof(err)), -1);

	/* opendkim-genkey's SELECTOR.txt, folded as it writes it */
	ck_assert_int_eq(
	    dkim_keyfile_parse(
		"mail._domainkey\tIN\tTXT\t( \"v=DKIM1; h=sha256; k=rsa; \"\n"
		"\t  \"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDLNug7KVyurIqckww5NQJd8ZPn9QnO5\"\n"
		"\t  \"+39tc+97iT3tF8BZnGypazzLu/OXf2bMzd5PexUp1CLOxolNx/NWIhozTurWxbLunImJ5cWyAV5"
		"7P98oF5zPUR5Vp5N1lvzqa3VSGq51dYecPszZmkN23L8w5eiYRbEha0M2Tv9afFZNQIDAQAB\" )"
		"  ; ----- DKIM key mail for example.com\n",
		&sel, &r, err, sizeof(err)),
	    0);
	ck_assert_str_eq(sel, "mail");
	ck_assert_str_eq(r.p, RSA_P);
	free(sel);
	dkim_record_clear(&r);
	ck_assert_int_eq(
	    dkim_keyfile_parse("v=DKIM1; k=ed25519; p=" ED_P, &sel, &r, err, sizeof(err)),
	    0);
	ck_assert_ptr_null(sel);
	dkim_record_clear(&r);
	ck_assert_int_eq(dkim_keyfile_parse("v=DKIM1; p=", &sel, &r, err, sizeof(err)),
			 -1);
}
END_TEST

START_TEST(dmarc_records)
{
	struct dmarc_record d;
	char err[200];

	ck_assert_int_eq(
	    dmarc_record_parse("v=DMARC1; p=reject; aspf=s", &d, err, sizeof(err)), 0);
	ck_assert_str_eq(d.policy, "reject");
	ck_assert_int_eq(d.strict_spf, 1);
	ck_assert_int_eq(d.strict_dkim, 0);
	ck_assert_int_eq(dmarc_record_parse("v=DMARC1; p=maybe", &d, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(dmarc_record_parse("p=none; v=DMARC1", &d, err, sizeof(err)),
			 -1);
}
END_TEST

START_TEST(spf_checks)
{
	expect("good.example", DNS_CHECK_SPF, DNS_ST_OK, NULL);
	expect("nowhere.example", DNS_CHECK_SPF, DNS_ST_MISSING,
	       "No SPF record exists for this domain");
	expect("mx.good.example", DNS_CHECK_SPF, DNS_ST_MISSING,
	       "No SPF record exists for this domain");
	expect("soft.example", DNS_CHECK_SPF, DNS_ST_INVALID,
	       "does not allow 192.0.2.10 to send (softfail)");
	expect("all.example", DNS_CHECK_SPF, DNS_ST_INVALID, "(+all)");
	expect("two.example", DNS_CHECK_SPF, DNS_ST_INVALID, "There are 2 SPF records");
	expect("loop.example", DNS_CHECK_SPF, DNS_ST_INVALID, "is invalid");
}
END_TEST

START_TEST(unsure_checks)
{
	static const char *const domains[] = { "slow.example", "sf.example",
					       "inc.example" };
	struct dns_domain_spec s;
	struct dns_check c;
	size_t i;

	/* A timeout or SERVFAIL, even inside an include, is not Missing. */
	for (i = 0; i < 3; i++) {
		s = spec_for(domains[i]);
		run(&s, DNS_CHECK_SPF, &c);
		ck_assert_msg(c.unsure, "%s", domains[i]);
		ck_assert_ptr_nonnull(strstr(c.note, "Could not be checked"));
		ck_assert_ptr_null(c.error);
		dns_check_clear(&c);
	}
	s = spec_for("slow.example");
	run(&s, DNS_CHECK_MX, &c);
	ck_assert(c.unsure);
	dns_check_clear(&c);
}
END_TEST

START_TEST(dkim_checks)
{
	struct dns_domain_spec s = spec_for("good.example");
	struct dns_check c;

	/* none configured: OK, not checked */
	run(&s, DNS_CHECK_DKIM, &c);
	ck_assert_int_eq(c.status, DNS_ST_OK);
	ck_assert_ptr_nonnull(c.note);
	dns_check_clear(&c);
	/* a rotation: an RSA key and an ed25519 key */
	s.selectors[0] = "s1";
	s.keys[0] = RSA_P;
	s.selectors[1] = "s2";
	s.keys[1] = ED_P;
	run(&s, DNS_CHECK_DKIM, &c);
	ck_assert_int_eq(c.status, DNS_ST_OK);
	dns_check_clear(&c);
	s.keys[1] = RSA_P;
	run(&s, DNS_CHECK_DKIM, &c);
	ck_assert_int_eq(c.status, DNS_ST_INVALID);
	ck_assert_str_eq(c.error, "The DKIM record at s2._domainkey.good.example "
				  "does not match the configured public key");
	dns_check_clear(&c);
	s.selectors[1] = "s3";
	run(&s, DNS_CHECK_DKIM, &c);
	ck_assert_int_eq(c.status, DNS_ST_MISSING);
	ck_assert_str_eq(c.error,
			 "There is no DKIM record at s3._domainkey.good.example");
	dns_check_clear(&c);
}
END_TEST

START_TEST(mx_checks)
{
	struct dns_domain_spec s = spec_for("null.example");
	struct dns_check c;

	expect("good.example", DNS_CHECK_MX, DNS_ST_OK, NULL);
	expect("nowhere.example", DNS_CHECK_MX, DNS_ST_MISSING, "does not exist");
	expect("soft.example", DNS_CHECK_MX, DNS_ST_MISSING,
	       "There are no MX records for this domain");
	expect("null.example", DNS_CHECK_MX, DNS_ST_INVALID, "null MX");
	expect("ipmx.example", DNS_CHECK_MX, DNS_ST_INVALID, "IP address (192.0.2.25)");
	expect("lost.example", DNS_CHECK_MX, DNS_ST_INVALID,
	       "The MX host nowhere.example has no address");
	expect("cl.example", DNS_CHECK_MX, DNS_ST_INVALID,
	       "There is a CNAME loop at cl.example");
	s.null_mx_ok = 1;
	run(&s, DNS_CHECK_MX, &c);
	ck_assert_int_eq(c.status, DNS_ST_OK);
	dns_check_clear(&c);
}
END_TEST

START_TEST(return_path_checks)
{
	struct dns_domain_spec s = spec_for("good.example");
	struct dns_check c;

	s.return_path = "rp.good.example";
	run(&s, DNS_CHECK_RETURN_PATH, &c);
	ck_assert_msg(c.status == DNS_ST_OK, "%s", c.error);
	dns_check_clear(&c);
	s.return_path = "rp.missing.example";
	run(&s, DNS_CHECK_RETURN_PATH, &c);
	ck_assert_int_eq(c.status, DNS_ST_MISSING);
	ck_assert_str_eq(c.error, "There is no return path record at rp.missing.example");
	dns_check_clear(&c);
	/* an MX that is not this host: bounces would not reach posthook */
	s.return_path = "good.example";
	run(&s, DNS_CHECK_RETURN_PATH, &c);
	ck_assert_int_eq(c.status, DNS_ST_INVALID);
	ck_assert_ptr_nonnull(strstr(c.error, "names this host"));
	dns_check_clear(&c);
	/* no MX, an address that is this host, no SPF */
	s.return_path = "rpa.example";
	s.mx_hostnames = (const char *const[]){ "rpa.example", NULL };
	run(&s, DNS_CHECK_RETURN_PATH, &c);
	ck_assert_int_eq(c.status, DNS_ST_MISSING);
	ck_assert_str_eq(c.error, "No SPF record exists at rpa.example");
	dns_check_clear(&c);
}
END_TEST

START_TEST(extra_checks)
{
	struct dns_domain_spec s = spec_for("good.example");
	struct dns_check done[DNS_CHECK_COUNT], c;
	struct dns_dmarc_info info;

	memset(done, 0, sizeof(done));
	memset(&c, 0, sizeof(c));
	s.selectors[0] = "s1";
	s.keys[0] = RSA_P;
	dns_check_run(&table, &s, DNS_CHECK_DMARC, done, &info, &c);
	ck_assert_int_eq(c.status, DNS_ST_OK);
	ck_assert_str_eq(info.policy, "quarantine");
	ck_assert(info.dkim_aligned && info.spf_aligned);
	dns_check_clear(&c);
	expect("soft.example", DNS_CHECK_DMARC, DNS_ST_MISSING,
	       "There is no DMARC record at _dmarc.soft.example");
	expect("good.example", DNS_CHECK_FCRDNS, DNS_ST_OK, NULL);
	s.sending_ips = (const char *const[]){ "192.0.2.11", NULL };
	dns_check_run(&table, &s, DNS_CHECK_FCRDNS, done, &info, &c);
	ck_assert_int_eq(c.status, DNS_ST_MISSING);
	ck_assert_str_eq(c.error, "There is no PTR record for 192.0.2.11");
	dns_check_clear(&c);
}
END_TEST

/* set_spf - the record's SPF result */
static void
set_spf(struct domain_record *r, enum dns_status st, const char *err)
{
	dns_check_clear(&r->checks[DNS_CHECK_SPF]);
	r->checks[DNS_CHECK_SPF].status = st;
	r->checks[DNS_CHECK_SPF].error = err ? xstrdup(err) : NULL;
	r->broken = domain_record_broken(r);
}

START_TEST(event_decisions)
{
	struct domain_record *r = domain_record_new(NULL, "a.example");
	const int64_t day = 86400000;
	enum dns_event_kind k;

	/* first run, healthy: nothing */
	ck_assert_int_eq(dns_event_decide(r, 100, day), DNS_EVENT_NONE);
	dns_event_reported(r, DNS_EVENT_NONE, 100);
	/* breaks: an error; the same again: nothing */
	set_spf(r, DNS_ST_MISSING, "No SPF record exists for this domain");
	k = dns_event_decide(r, 200, day);
	ck_assert_int_eq(k, DNS_EVENT_ERROR);
	dns_event_reported(r, k, 200);
	ck_assert_int_eq(dns_event_decide(r, 300, day), DNS_EVENT_NONE);
	/* other errors: an error */
	set_spf(r, DNS_ST_INVALID, "The SPF record for this domain is invalid");
	k = dns_event_decide(r, 400, day);
	ck_assert_int_eq(k, DNS_EVENT_ERROR);
	dns_event_reported(r, k, 400);
	/* a day later, still broken: again */
	ck_assert_int_eq(dns_event_decide(r, 400 + 86399, day), DNS_EVENT_NONE);
	k = dns_event_decide(r, 400 + 86400, day);
	ck_assert_int_eq(k, DNS_EVENT_ERROR);
	dns_event_reported(r, k, 400 + 86400);
	ck_assert_int_eq(dns_event_decide(r, 400 + 86400, 0), DNS_EVENT_NONE);
	/* fixed: OK once */
	set_spf(r, DNS_ST_OK, NULL);
	k = dns_event_decide(r, 90000, day);
	ck_assert_int_eq(k, DNS_EVENT_OK);
	dns_event_reported(r, k, 90000);
	ck_assert_int_eq(dns_event_decide(r, 90001, day), DNS_EVENT_NONE);
	ck_assert_int_eq(dns_event_type(DNS_EVENT_OK), EV_DOMAIN_DNS_OK);
	domain_record_free(r);

	/* broken when first reported: an error */
	r = domain_record_new("t1", "b.example");
	set_spf(r, DNS_ST_MISSING, "No SPF record exists for this domain");
	ck_assert_int_eq(dns_event_decide(r, 1, day), DNS_EVENT_ERROR);
	domain_record_free(r);
}
END_TEST

START_TEST(payload_shape)
{
	static const char *const keys[] = { "server",
					    "domain",
					    "uuid",
					    "dns_checked_at",
					    "spf_status",
					    "spf_error",
					    "dkim_status",
					    "dkim_error",
					    "mx_status",
					    "mx_error",
					    "return_path_status",
					    "return_path_error",
					    "dmarc_status",
					    "dmarc_error",
					    "dmarc_policy",
					    "dmarc_spf_aligned",
					    "dmarc_dkim_aligned",
					    "fcrdns_status",
					    "fcrdns_error",
					    NULL };
	struct domain_record *r = domain_record_new(NULL, "a.example");
	json_object *p;
	size_t i = 0;

	set_spf(r, DNS_ST_MISSING, "No SPF record exists for this domain");
	r->checked_at = 1704672000.123456;
	p = dns_event_payload(r, "u-1", "host");
	json_object_object_foreach(p, key, val)
	{
		(void) val;
		ck_assert_ptr_nonnull(keys[i]);
		ck_assert_str_eq(key, keys[i]);
		i++;
	}
	ck_assert_ptr_null(keys[i]);
	ck_assert_str_eq(json_object_to_json_string_ext(json_member(p, "server"),
							JSON_C_TO_STRING_PLAIN),
			 "{\"uuid\":\"u-1\",\"name\":\"host\"}");
	ck_assert_str_eq(json_object_get_string(json_member(p, "spf_error")),
			 "No SPF record exists for this domain");
	ck_assert(json_member(p, "dkim_error") == NULL);
	json_object_put(p);
	domain_record_free(r);
}
END_TEST

/* Store steps of domain_records */
struct ctx {
	struct domain_record *r;
	struct domain_record **list;
	size_t n;
	const char *tenant;
	char uuid[37];
};

static int
put_cb(struct store_txn *txn, void *arg)
{
	struct ctx *c = arg;

	return (domain_add(txn, c->r));
}

static int
list_cb(struct store_txn *txn, void *arg)
{
	struct ctx *c = arg;

	domain_records_free(c->list);
	return (domain_list(txn, c->tenant, &c->list, &c->n));
}

static int
uuid_cb(struct store_txn *txn, void *arg)
{
	struct ctx *c = arg;

	return (domain_server_uuid(txn, c->uuid));
}

static int
del_cb(struct store_txn *txn, void *arg)
{
	struct ctx *c = arg;

	return (domain_del(txn, c->tenant, "b.example"));
}

START_TEST(store_records)
{
	static const char *const names[][2] = {
		{ NULL, "b.example" },
		{ NULL, "a.example" },
		{ "t1", "b.example" },
	};
	struct ctx c;
	char first[37];
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < 3; i++) {
		c.r = domain_record_new(names[i][0], names[i][1]);
		c.r->selectors[0] = xstrdup("s1");
		c.r->keys[0] = xstrdup(RSA_P);
		set_spf(c.r, DNS_ST_MISSING, "No SPF record exists for this domain");
		c.r->checked_at = 5;
		ck_assert_int_eq(store_run(test_store, put_cb, &c, 0), STORE_OK);
		ck_assert_int_eq(store_run(test_store, put_cb, &c, 0), STORE_EXISTS);
		domain_record_free(c.r);
	}
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_str_eq(c.list[0]->domain, "a.example");
	ck_assert_ptr_null(c.list[0]->tenant);
	ck_assert_str_eq(c.list[2]->tenant, "t1");
	ck_assert_str_eq(c.list[1]->keys[0], RSA_P);
	ck_assert_int_eq(c.list[1]->checks[DNS_CHECK_SPF].status, DNS_ST_MISSING);
	ck_assert(c.list[1]->broken);
	c.tenant = "t1";
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_int_eq(store_run(test_store, del_cb, &c, 0), STORE_OK);
	ck_assert_int_eq(store_run(test_store, list_cb, &c, 0), STORE_OK);
	ck_assert_uint_eq(c.n, 0);
	domain_records_free(c.list);
	ck_assert_int_eq(store_run(test_store, uuid_cb, &c, 0), STORE_OK);
	memcpy(first, c.uuid, sizeof(first));
	ck_assert_int_eq(store_run(test_store, uuid_cb, &c, 0), STORE_OK);
	ck_assert_str_eq(first, c.uuid);
	ck_assert_uint_eq(strlen(first), 36);
}
END_TEST

START_TEST(domain_names)
{
	char *n = domain_name_normal("Mail.Example.COM.");

	ck_assert_str_eq(n, "mail.example.com");
	free(n);
	ck_assert_ptr_null(domain_name_normal("localhost"));
	ck_assert_ptr_null(domain_name_normal("a..example"));
	ck_assert_ptr_null(domain_name_normal("not a domain.example"));
	ck_assert_ptr_null(domain_name_normal(""));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("pure");
	TCase *ts = tcase_create("store");

	tcase_add_test(tc, spf_records);
	tcase_add_test(tc, dkim_records);
	tcase_add_test(tc, dmarc_records);
	tcase_add_test(tc, spf_checks);
	tcase_add_test(tc, unsure_checks);
	tcase_add_test(tc, dkim_checks);
	tcase_add_test(tc, mx_checks);
	tcase_add_test(tc, return_path_checks);
	tcase_add_test(tc, extra_checks);
	tcase_add_test(tc, event_decisions);
	tcase_add_test(tc, payload_shape);
	tcase_add_test(tc, domain_names);
	suite_add_tcase(s, tc);
	test_store_fixture(ts, "check_dns");
	tcase_add_test(ts, store_records);
	suite_add_tcase(s, ts);
	return (test_run_suite(s));
}
