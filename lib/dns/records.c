/*
 * records.c - the DNS records the checks read, parsed without I/O
 * (records.h).  Tag lists ("v=DKIM1; k=rsa; p=...") are read the same way
 * for DKIM and DMARC: tags split on ";", whitespace around tags and values
 * ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dns/records.h"
#include "util/base64.h"
#include "util/util.h"

/* One tag of a tag list: pointers into a copy the caller owns. */
struct tag {
	char *name;
	char *value;
};

#define MAX_TAGS 32

/*
 * tag_list - split copy into tags; the count, or -1 if a tag has no "=",
 * an empty name, or there are more than MAX_TAGS.
 */
static int
tag_list(char *copy, struct tag *tags)
{
	char *item, *save = NULL, *eq;
	int n = 0;

	for (item = strtok_r(copy, ";", &save); item != NULL;
	     item = strtok_r(NULL, ";", &save)) {
		item = str_trim(item);
		if (*item == 0)
			continue; /* a trailing ";" is allowed */
		if ((eq = strchr(item, '=')) == NULL || n == MAX_TAGS)
			return (-1);
		*eq = 0;
		tags[n].name = str_trim(item);
		tags[n].value = str_trim(eq + 1);
		if (*tags[n].name == 0)
			return (-1);
		n++;
	}
	return (n);
}

/* tag_value - the value of a tag, or NULL */
static const char *
tag_value(const struct tag *tags, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(tags[i].name, name) == 0)
			return (tags[i].value);
	return (NULL);
}

/* spf_record_is - whether one TXT record is an SPF policy */
static int
spf_record_is(const char *text)
{
	return (strncasecmp(text, "v=spf1", 6) == 0 && (text[6] == 0 || text[6] == ' '));
}

/* spf_record_count - see records.h */
size_t
spf_record_count(const struct dns_answer *txt, const char **first)
{
	size_t i, n = 0;

	*first = NULL;
	for (i = 0; txt->result == DNS_R_DATA && i < txt->n; i++) {
		if (!spf_record_is(txt->rr[i]))
			continue;
		if (n++ == 0)
			*first = txt->rr[i];
	}
	return (n);
}

/* spf_record_allows_all - a policy that passes every address */
int
spf_record_allows_all(const char *record)
{
	const char *p = record, *e;
	size_t len;

	while (*p) {
		while (*p == ' ')
			p++;
		for (e = p; *e && *e != ' '; e++)
			;
		len = (size_t) (e - p);
		if ((len == 3 && strncasecmp(p, "all", 3) == 0)
		    || (len == 4 && strncasecmp(p, "+all", 4) == 0))
			return (1);
		p = e;
	}
	return (0);
}

/* squeeze - s without whitespace (a p= value may be folded), in place */
static void
squeeze(char *s)
{
	char *o = s;

	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			*o++ = *s;
	*o = 0;
}

/* key_valid - whether the decoded p= is a public key of its type */
static int
key_valid(enum dkim_key_type type, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *key;
	int ok;

	if (type == DKIM_KEY_ED25519)
		return (len == 32); /* RFC 8463: the raw public key */
	key = d2i_PUBKEY(NULL, &p, (long) len);
	if (key == NULL)
		return (0);
	ok = EVP_PKEY_base_id(key) == EVP_PKEY_RSA && p == der + len;
	EVP_PKEY_free(key);
	return (ok);
}

/* dkim_record_like - a TXT record meant as a DKIM key */
int
dkim_record_like(const char *text)
{
	while (isspace((unsigned char) *text))
		text++;
	return (strncmp(text, "v=DKIM1", 7) == 0 || strstr(text, "p=") != NULL);
}

/* dkim_record_parse - see records.h */
int
dkim_record_parse(const char *text, struct dkim_record *out, char *err, size_t errlen)
{
	struct tag tags[MAX_TAGS];
	const char *v, *k, *p;
	unsigned char *der;
	char *copy = xstrdup(text), *key;
	size_t len;
	ssize_t dl;
	int n, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((n = tag_list(copy, tags)) < 0) {
		snprintf(err, errlen, "it is not a list of tag=value");
		goto done;
	}
	v = tag_value(tags, n, "v");
	if (v != NULL && (strcmp(tags[0].name, "v") != 0 || strcmp(v, "DKIM1") != 0)) {
		snprintf(err, errlen, "v= must come first and be DKIM1");
		goto done;
	}
	k = tag_value(tags, n, "k");
	if (k == NULL || strcmp(k, "rsa") == 0)
		out->key_type = DKIM_KEY_RSA;
	else if (strcmp(k, "ed25519") == 0)
		out->key_type = DKIM_KEY_ED25519;
	else {
		snprintf(err, errlen, "unknown key type k=%.40s", k);
		goto done;
	}
	if ((p = tag_value(tags, n, "p")) == NULL) {
		snprintf(err, errlen, "it has no p= tag");
		goto done;
	}
	key = xstrdup(p);
	squeeze(key);
	if (*key != 0) {
		der = xmalloc(strlen(key) / 4 * 3 + 3);
		dl = base64_decode(key, strlen(key), der, strlen(key) / 4 * 3 + 3, 0,
				   NULL, NULL);
		if (dl <= 0) {
			snprintf(err, errlen, "p= is not base64");
			free(der);
			free(key);
			goto done;
		}
		len = (size_t) dl;
		if (!key_valid(out->key_type, der, len)) {
			snprintf(err, errlen, "p= is not an %s public key",
				 out->key_type == DKIM_KEY_RSA ? "RSA" : "ed25519");
			free(der);
			free(key);
			goto done;
		}
		free(der);
	}
	out->p = key;
	rc = 0;
done:
	free(copy);
	return (rc);
}

/* dkim_record_clear - free the key text */
void
dkim_record_clear(struct dkim_record *r)
{
	free(r->p);
	r->p = NULL;
}

/* dkim_keyfile_parse - see records.h */
int
dkim_keyfile_parse(const char *text, char **selector, struct dkim_record *out, char *err,
		   size_t errlen)
{
	struct buf rec;
	const char *p, *q, *dk;
	int rc;

	*selector = NULL;
	buf_init(&rec);
	/* opendkim's file: the record is the quoted strings, joined. */
	for (p = text; (p = strchr(p, '"')) != NULL; p = q + 1) {
		if ((q = strchr(p + 1, '"')) == NULL)
			break;
		buf_append(&rec, p + 1, (size_t) (q - p - 1));
	}
	if (rec.len == 0)
		buf_puts(&rec, text);
	buf_append(&rec, "", 1);
	dk = strstr(text, "._domainkey");
	if (dk != NULL && rec.len > 1 && strchr(text, '"') != NULL) {
		for (p = dk; p > text && !isspace((unsigned char) p[-1]); p--)
			;
		if (dk > p)
			*selector = xstrndup(p, (size_t) (dk - p));
	}
	rc = dkim_record_parse(rec.data, out, err, errlen);
	if (rc == 0 && *out->p == 0) {
		snprintf(err, errlen, "the key is revoked (empty p=)");
		dkim_record_clear(out);
		rc = -1;
	}
	if (rc < 0) {
		free(*selector);
		*selector = NULL;
	}
	buf_free(&rec);
	return (rc);
}

/* dmarc_record_like - a TXT record meant as a DMARC policy */
int
dmarc_record_like(const char *text)
{
	while (isspace((unsigned char) *text))
		text++;
	return (strncmp(text, "v=DMARC1", 8) == 0);
}

/* dmarc_record_parse - see records.h */
int
dmarc_record_parse(const char *text, struct dmarc_record *out, char *err, size_t errlen)
{
	struct tag tags[MAX_TAGS];
	const char *p, *a;
	char *copy = xstrdup(text);
	int n, rc = -1;

	memset(out, 0, sizeof(*out));
	if ((n = tag_list(copy, tags)) < 1 || strcmp(tags[0].name, "v") != 0
	    || strcmp(tags[0].value, "DMARC1") != 0) {
		snprintf(err, errlen, "it must start with v=DMARC1");
		goto done;
	}
	/* RFC 7489 6.3: p= comes second; receivers accept it anywhere. */
	p = tag_value(tags, n, "p");
	if (p == NULL
	    || (strcmp(p, "none") != 0 && strcmp(p, "quarantine") != 0
		&& strcmp(p, "reject") != 0)) {
		snprintf(err, errlen, "p= must be none, quarantine or reject");
		goto done;
	}
	snprintf(out->policy, sizeof(out->policy), "%s", p);
	if ((a = tag_value(tags, n, "aspf")) != NULL)
		out->strict_spf = strcmp(a, "s") == 0;
	if ((a = tag_value(tags, n, "adkim")) != NULL)
		out->strict_dkim = strcmp(a, "s") == 0;
	rc = 0;
done:
	free(copy);
	return (rc);
}
