/*
 * check_classify.c - unit tests of the bounce classifier (lib/classify/classify.c)
 * and its rule tables (lib/classify/classify_vocab.c, classify_provider.c,
 * classify_status.c, classify_local.c).
 */
#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"

#include "testlib.h"

struct ccase {
	const char *dsn;
	const char *text;
	enum classification want;
};

/*
 * check_prefilter - for every rule, the literal pre-filter's verdict on
 * text agrees with the rule's regular expression: a rule it skips (0)
 * does not match, a rule it calls matched (2) does.
 */
static void
check_prefilter(const char *text)
{
	size_t i;
	int match, verdict;

	for (i = 0; i < classify_rule_count(); i++) {
		if (classify_rule_probe(i, text, &match, &verdict) < 0)
			continue;
		ck_assert_msg(!(match && verdict == 0),
			      "rule %zu matches \"%s\" but its pre-filter skips it", i,
			      text);
		ck_assert_msg(
		    !(!match && verdict == 2),
		    "rule %zu does not match \"%s\" but its pre-filter says it does", i,
		    text);
	}
}

/* check_cases - classify each case and compare. */
static void
check_cases(const struct ccase *c, size_t n)
{
	struct classify_result r;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].text != NULL)
			check_prefilter(c[i].text);
		classify(c[i].dsn, c[i].text, &r);
		ck_assert_msg(r.classification == c[i].want,
			      "case %zu \"%s\": got %d, want %d", i, c[i].text,
			      (int) r.classification, (int) c[i].want);
	}
}

#define CHECK_CASES(a) check_cases((a), sizeof(a) / sizeof((a)[0]))

START_TEST(test_rules_compile)
{
	regex_t re;
	size_t i;
	const struct classify_rule *r;

	ck_assert_uint_gt(classify_rule_count(), 20);
	for (i = 0; i < classify_rule_count(); i++) {
		r = classify_rule_at(i);
		ck_assert_msg(r->source != NULL && *r->source, "rule %zu has no source",
			      i);
		ck_assert_msg(r->classification != CLASS_NONE, "rule %zu", i);
		if (r->text != NULL) {
			/* classify.c lowercases each pattern in a 1024-byte buffer */
			ck_assert_uint_lt(strlen(r->text), 1024);
			ck_assert_msg(
			    regcomp(&re, r->text, REG_EXTENDED | REG_ICASE | REG_NOSUB)
				== 0,
			    "rule %zu does not compile: %s", i, r->text);
			regfree(&re);
		}
		if (r->code != NULL)
			ck_assert_msg(strspn(r->code, "0123456789.*") == strlen(r->code),
				      "rule %zu code %s", i, r->code);
	}
	/* The last rule catches every other temporary failure. */
	r = classify_rule_at(classify_rule_count() - 1);
	ck_assert_ptr_null(r->text);
	ck_assert_int_eq(r->when, CLASSIFY_TEMP);
}
END_TEST

START_TEST(test_postfix_own_texts)
{
	static const struct ccase c[] = {
		{ "4.4.1", "connect to mx.example.com[192.0.2.1]:25: Connection refused",
		  CLASS_CONNECTION_ERROR },
		{ "4.4.1",
		  "connect to mx.example.com[192.0.2.1]:25: Connection timed out",
		  CLASS_CONNECTION_ERROR },
		{ "4.4.1",
		  "connect to mx.example.com[2001:db8::1]:25: Network is unreachable",
		  CLASS_CONNECTION_ERROR },
		{ "4.4.2",
		  "lost connection with mx.example.com[192.0.2.1] while receiving "
		  "the initial server greeting",
		  CLASS_CONNECTION_ERROR },
		{ "4.4.2",
		  "conversation with mx.example.com[192.0.2.1] timed out while "
		  "sending end of data -- message may be sent more than once",
		  CLASS_CONNECTION_ERROR },
		{ "4.4.3",
		  "Host or domain name not found. Name service error for "
		  "name=example.com type=MX: Host not found, try again",
		  CLASS_DNS_FAILURE },
		{ "5.4.4",
		  "Host or domain name not found. Name service error for "
		  "name=example.invalid type=A: Host not found",
		  CLASS_INVALID_DOMAIN },
		{ "5.4.6", "mail for example.com loops back to myself",
		  CLASS_ROUTING_ERROR },
		{ "4.7.4",
		  "TLS is required, but was not offered by host "
		  "mx.example.com[192.0.2.1]",
		  CLASS_PROTOCOL_ERROR },
		{ "4.7.5", "Cannot start TLS: handshake failure", CLASS_PROTOCOL_ERROR },
		{ "4.4.1",
		  "delivery temporarily suspended: connect to "
		  "mx.example.com[192.0.2.1]:25: Connection refused",
		  CLASS_CONNECTION_ERROR },
		{ "5.1.1", "unknown user: \"alice\"", CLASS_INVALID_RECIPIENT },
		{ "5.3.4",
		  "message size 30000000 exceeds size limit 10240000 of server "
		  "mx.example.com[192.0.2.1]",
		  CLASS_POLICY_REJECTION },
	};

	CHECK_CASES(c);
}
END_TEST

START_TEST(test_providers)
{
	static const struct ccase c[] = {
		/* Gmail / Google Workspace */
		{ "5.1.1",
		  "host gmail-smtp-in.l.google.com[142.250.1.26] said: "
		  "550-5.1.1 The email account that you tried to reach does not exist. "
		  "Please try 550-5.1.1 double-checking the recipient's email address "
		  "for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 "
		  "https://support.google.com/mail/?p=NoSuchUser x1si - gsmtp "
		  "(in reply to RCPT TO command)",
		  CLASS_INVALID_RECIPIENT },
		{ "5.2.1",
		  "host aspmx.l.google.com[142.250.1.26] said: 550-5.2.1 The "
		  "email account that you tried to reach is disabled. Learn more at "
		  "550 5.2.1 https://support.google.com/mail/?p=DisabledUser - gsmtp",
		  CLASS_INACTIVE_MAILBOX },
		{ "4.2.2",
		  "452-4.2.2 The email account that you tried to reach is over "
		  "quota. Please direct 452 4.2.2 the recipient to ...",
		  CLASS_MAILBOX_FULL },
		{ "4.2.1",
		  "450-4.2.1 The user you are trying to contact is receiving "
		  "mail at a rate that 450 4.2.1 prevents additional messages",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.7.26",
		  "550-5.7.26 Unauthenticated email from example.com is not "
		  "accepted due to domain's 550-5.7.26 DMARC policy.",
		  CLASS_POLICY_REJECTION },
		{ "5.7.25",
		  "550-5.7.25 [192.0.2.1] The IP address sending this message "
		  "does not have a 550-5.7.25 PTR record setup",
		  CLASS_SPAM_BLOCK },
		{ "4.7.28",
		  "421-4.7.28 Our system has detected an unusual rate of "
		  "unsolicited mail originating from your IP address.",
		  CLASS_SPAM_BLOCK },
		{ "4.7.28",
		  "421-4.7.28 Gmail has detected an unusual rate of "
		  "unsolicited mail originating from your SPF domain [example.com 1]. "
		  "To protect our users from spam, mail sent from your domain has "
		  "been temporarily rate limited.",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1",
		  "550-5.7.1 Our system has detected that this message is "
		  "550-5.7.1 likely unsolicited mail.",
		  CLASS_SPAM_CONTENT },
		{ "5.7.1",
		  "550 5.7.1 Your message was rejected because it appears "
		  "to be spam",
		  CLASS_SPAM_CONTENT },
		/* Outlook / Office 365 */
		{ "5.1.10",
		  "host example-com.mail.protection.outlook.com[52.101.1.1] "
		  "said: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found "
		  "by SMTP address lookup (in reply to RCPT TO command)",
		  CLASS_INVALID_RECIPIENT },
		{ "5.4.1",
		  "550 5.4.1 Recipient address rejected: Access denied. "
		  "AS(201806281)",
		  CLASS_INVALID_RECIPIENT },
		{ "5.7.1",
		  "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't "
		  "sent. Please contact your Internet service provider since part of "
		  "their network is on our block list (S3150).",
		  CLASS_SPAM_BLOCK },
		{ "5.7.509",
		  "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] "
		  "does not pass DMARC verification",
		  CLASS_POLICY_REJECTION },
		{ "5.7.54",
		  "550 5.7.54 SMTP; Unable to relay recipient in non-accepted "
		  "domain",
		  CLASS_ROUTING_ERROR },
		/* Yahoo / AOL */
		{ "4.7.0",
		  "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily "
		  "deferred due to unexpected volume or user complaints",
		  CLASS_SPAM_BLOCK },
		{ "5.7.9", "554 5.7.9 Message not accepted for policy reasons.",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0",
		  "554 delivery error: dd This user doesn't have a yahoo.com "
		  "account (x@yahoo.com) [0]",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0",
		  "554 delivery error: dd Sorry your message to x@aol.com "
		  "cannot be delivered. This account has been disabled or discontinued",
		  CLASS_INACTIVE_MAILBOX },
		/* iCloud */
		{ "5.2.2", "552 5.2.2 <x@icloud.com>: user is over quota",
		  CLASS_MAILBOX_FULL },
		{ "5.7.1", "554 5.7.1 [HM08] Message rejected due to local policy",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1", "554 5.7.1 [CS01] Message rejected due to local policy",
		  CLASS_SPAM_CONTENT },
		/* GMX / web.de */
		{ "5.5.0", "550 Requested action not taken: mailbox unavailable",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0",
		  "host mx00.gmx.net[212.227.15.1] refused to talk to me: "
		  "554-gmx.net (mxgmx001) Nemesis ESMTP Service not available 554-No "
		  "SMTP service 554 IP address is block listed.",
		  CLASS_SPAM_BLOCK },
		/* Mail.ru, Yandex */
		{ "5.0.0",
		  "550 Message was not accepted -- invalid mailbox.  Local "
		  "mailbox x@mail.ru is unavailable: user not found",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0",
		  "550 spam message rejected. Please visit "
		  "http://help.mail.ru/notspam-support/id",
		  CLASS_SPAM_CONTENT },
		{ "5.7.1", "550 5.7.1 No such user!", CLASS_INVALID_RECIPIENT },
		{ "5.7.1",
		  "554 5.7.1 [2] Message rejected under suspicion of SPAM; "
		  "https://ya.cc/1IrBc",
		  CLASS_SPAM_CONTENT },
		{ "4.2.2", "452 4.2.2 Mailbox size limit exceeded", CLASS_MAILBOX_FULL },
		/* Filters: Proofpoint, Mimecast, Barracuda, Spamhaus */
		{ "5.0.0",
		  "554 Blocked - see https://support.proofpoint.com/"
		  "dnsbl-lookup.cgi?ip=192.0.2.1",
		  CLASS_SPAM_BLOCK },
		{ "5.0.0",
		  "550 Invalid Recipient - https://community.mimecast.com/"
		  "docs/DOC-1369#550",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0", "550 Rejected by header based Anti-Spoofing policy",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0",
		  "554 Blocked - see https://ipcheck.proofpoint.com/"
		  "?ip=192.0.2.1",
		  CLASS_SPAM_BLOCK },
		/* Outlook 5.7.708, T-Online, NetEase */
		{ "5.7.708",
		  "550 5.7.708 Service unavailable. Access denied, "
		  "traffic not accepted from this IP.",
		  CLASS_SPAM_BLOCK },
		{ "5.0.0",
		  "554 IP=192.0.2.1 - A problem occurred. (Ask your "
		  "postmaster for help or to contact tosa@rx.t-online.de to "
		  "clarify.)",
		  CLASS_SPAM_BLOCK },
		{ "5.0.0",
		  "554 DT:SPM 163 mx14,QsCowEDp5k_ry_xx, please see "
		  "http://mail.163.com/help/help_spam_16.htm",
		  CLASS_SPAM_CONTENT },
		{ "5.0.0", "550 high probability of spam", CLASS_SPAM_CONTENT },
		/* Plain wordings, also across a multi-line reply */
		{ "5.0.0",
		  "550-Sorry, your message could not be delivered 550-because "
		  "the recipient 550 address is invalid",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0", "550 Recipient is unknown", CLASS_INVALID_RECIPIENT },
		/* amavis verdicts, attachment policies */
		{ "5.7.0", "554 5.7.0 Reject, id=12345-01 - BANNED: x.exe",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0", "550 Message contains bad attachment type",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0", "554 rejected due to spam URL in content",
		  CLASS_SPAM_CONTENT },
		/* Exim's sender callout */
		{ "5.0.0",
		  "550 Verification failed for <b@example.com> Unrouteable "
		  "address Sender verify failed",
		  CLASS_POLICY_REJECTION },
		/* A protocol error in reply to MAIL FROM is a protocol error. */
		{ "5.5.2",
		  "host mx.example.com[192.0.2.5] said: 500 5.5.2 Error: "
		  "bad syntax (in reply to MAIL FROM command)",
		  CLASS_PROTOCOL_ERROR },
		{ "5.7.0",
		  "host mx.example.com[192.0.2.5] said: 530 5.7.0 Must issue "
		  "a STARTTLS command first (in reply to MAIL FROM command)",
		  CLASS_PROTOCOL_ERROR },
		{ "5.7.1",
		  "host mx.example.com[192.0.2.5] said: 550 5.7.1 Go away "
		  "(in reply to MAIL FROM command)",
		  CLASS_POLICY_REJECTION },
		{ "5.7.1",
		  "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
		  "blocked using Barracuda Reputation",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1",
		  "554 5.7.1 Service unavailable; Client host [192.0.2.1] "
		  "blocked using zen.spamhaus.org",
		  CLASS_SPAM_BLOCK },
		/* Greylisting */
		{ "4.2.0",
		  "450 4.2.0 <x@example.com>: Recipient address rejected: "
		  "Greylisted, see http://postgrey.schweikert.ch/",
		  CLASS_TRANSIENT_FAILURE },
		{ "4.7.1", "451 4.7.1 Please try again later", CLASS_TRANSIENT_FAILURE },
		/* Generic */
		{ "5.7.1", "554 5.7.1 <x@example.com>: Relay access denied",
		  CLASS_ROUTING_ERROR },
		{ "5.3.4", "552 5.3.4 Message size exceeds fixed maximum message size",
		  CLASS_POLICY_REJECTION },
		{ "5.5.1", "503 5.5.1 Improper sequence of commands",
		  CLASS_PROTOCOL_ERROR },
		{ "5.7.0", "530 5.7.0 Must issue a STARTTLS command first",
		  CLASS_PROTOCOL_ERROR },
	};

	CHECK_CASES(c);
}
END_TEST

START_TEST(test_wordings)
{
	/* Common wordings of each cause beyond the large providers. */
	static const struct ccase c[] = {
		/* TLS and DANE (Exchange Online 5.7.322-5.7.324) */
		{ "5.7.322",
		  "550 5.7.322 certificate-expired: Destination mail "
		  "server's certificate is expired",
		  CLASS_PROTOCOL_ERROR },
		{ "4.7.323",
		  "451 4.7.323 tlsa-invalid: The domain failed DANE "
		  "validation",
		  CLASS_PROTOCOL_ERROR },
		/* Postfix policy services slowing a client down */
		{ "4.7.1",
		  "451 4.7.1 <mx.example.org[192.0.2.1]>: Client host "
		  "rejected: Please try again slower",
		  CLASS_TRANSIENT_FAILURE },
		/* Relay refusals */
		{ "5.7.1",
		  "550 5.7.1 You are trying to use me as a relay, but I have "
		  "not been configured to let you do this",
		  CLASS_ROUTING_ERROR },
		{ "5.7.1",
		  "553 sorry, that domain isn't in my list of allowed "
		  "rcpthosts (#5.7.1)",
		  CLASS_ROUTING_ERROR },
		{ "5.7.1", "550 5.7.1 We don't handle mail for example.org",
		  CLASS_ROUTING_ERROR },
		/* The sender's own address or account */
		{ "5.0.0", "550 Your SMTP MAIL FROM domain does not exist.",
		  CLASS_POLICY_REJECTION },
		{ "5.1.0", "501 5.1.0 Emetteur invalide. Invalid Sender.",
		  CLASS_POLICY_REJECTION },
		{ "5.7.750",
		  "550 5.7.750 Service unavailable. Client blocked from "
		  "sending from unregistered domains",
		  CLASS_POLICY_REJECTION },
		{ "5.7.1", "550 5.7.1 Sender address has been blacklisted",
		  CLASS_SPAM_BLOCK },
		/* The recipient's own filter, attachments */
		{ "5.2.0", "550 5.2.0 User refuses to receive this mail",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0", "554 Attachment extension is forbidden",
		  CLASS_POLICY_REJECTION },
		/* The sending IP or host refused */
		{ "5.7.1", "553 Sorry, your IP address (192.0.2.1) has been blocked",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1", "550 5.7.1 Mail server at 192.0.2.1 is blocked",
		  CLASS_SPAM_BLOCK },
		{ "5.0.0", "554 Too many invalid recipients", CLASS_SPAM_BLOCK },
		{ "5.7.1",
		  "550 5.7.1 <unknown[192.0.2.1]>: Helo command rejected: "
		  "Host not found",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1", "550 5.7.1 Rejecting open proxy 192.0.2.1", CLASS_SPAM_BLOCK },
		/* Content judged spam, in words naming no IP or list */
		{ "5.7.1", "550 5.7.1 Rejected: SpamAssassin score 12.3",
		  CLASS_SPAM_CONTENT },
		{ "5.7.1", "550 5.7.1 Your email is probably spam", CLASS_SPAM_CONTENT },
		{ "5.7.1", "550 5.7.1 Spam score exceeded", CLASS_SPAM_CONTENT },
		{ "5.7.1", "550 5.7.1 Bulk email rejected", CLASS_SPAM_CONTENT },
		{ "4.7.0",
		  "421 4.7.0 This message is suspicious due to the nature of "
		  "the content or the links within. To best protect our users from "
		  "spam, the message has been blocked.",
		  CLASS_SPAM_CONTENT },
		{ "5.7.1",
		  "550-5.7.1 [192.0.2.1] Our system has detected that this "
		  "message is likely suspicious due to the very low reputation of "
		  "the sending IP address. To best protect our users from spam, the "
		  "message has been blocked.",
		  CLASS_SPAM_BLOCK },
		/* Size and form */
		{ "5.0.0", "554 Maximum email size exceeded", CLASS_POLICY_REJECTION },
		{ "5.0.0",
		  "550 The format of your message did not comply with "
		  "RFC 2822.",
		  CLASS_POLICY_REJECTION },
		/* Mailboxes no longer used */
		{ "5.2.1",
		  "550 5.5.0 Boite du destinataire archivee. Archived "
		  "recipient.",
		  CLASS_INACTIVE_MAILBOX },
		{ "4.0.0",
		  "450 The attempted recipient address is currently "
		  "deactivated.",
		  CLASS_INACTIVE_MAILBOX },
		/* The sender's quota is no full mailbox */
		{ "5.4.5", "550 5.4.5 Daily sending quota exceeded.",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.2.2",
		  "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:"
		  "SubmissionQuotaExceededException",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.2.2", "552 5.2.2 User has too many messages on the server",
		  CLASS_MAILBOX_FULL },
		/* Domains and recipients */
		{ "4.1.2",
		  "450 4.1.2 <user@example.org>: Recipient address rejected: "
		  "Unknown domain name",
		  CLASS_INVALID_DOMAIN },
		{ "5.1.1",
		  "553 sorry, this recipient is not in my validrcptto list "
		  "(#5.7.1)",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0", "550 User is not found.", CLASS_INVALID_RECIPIENT },
		/* Rates, configuration, commands */
		{ "4.2.1",
		  "450 4.2.1 The user you are trying to contact is receiving "
		  "mail too quickly.",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.2.122",
		  "550 5.2.122 Recipient's per hour message receive limit "
		  "exceeded.",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.3.5", "554 5.3.5 System incorrectly configured",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.3.3", "500 5.3.3 Unrecognized command", CLASS_PROTOCOL_ERROR },
	};

	CHECK_CASES(c);
}
END_TEST

START_TEST(test_code_fallback)
{
	static const struct ccase c[] = {
		{ "5.1.1", "550 5.1.1 nope", CLASS_INVALID_RECIPIENT },
		{ "5.1.1", "nope", CLASS_INVALID_RECIPIENT },
		{ "4.2.2", "452 nope", CLASS_MAILBOX_FULL },
		{ "5.2.2", "552 nope", CLASS_MAILBOX_FULL },
		{ "5.1.2", "nope", CLASS_INVALID_DOMAIN },
		{ "5.1.10", "nope", CLASS_INVALID_DOMAIN },
		{ "4.4.1", "nope", CLASS_CONNECTION_ERROR },
		{ "4.4.2", "nope", CLASS_CONNECTION_ERROR },
		{ "5.7.1", "550 5.7.1 nope", CLASS_POLICY_REJECTION },
		/* 5.7.1 with a text rule: the text wins. */
		{ "5.7.1",
		  "550 5.7.1 <x@example.com>: Recipient address rejected: "
		  "User unknown",
		  CLASS_INVALID_RECIPIENT },
		{ "4.7.0", "421 4.7.0 nope", CLASS_TRANSIENT_FAILURE },
		{ "4.0.0", "nope", CLASS_TRANSIENT_FAILURE },
		{ NULL, "451 nope", CLASS_TRANSIENT_FAILURE },
		{ "5.0.0", "550 nope", CLASS_UNCLASSIFIED },
		{ NULL, "nope", CLASS_UNCLASSIFIED },
		{ "5.0.0", "", CLASS_UNCLASSIFIED },
	};

	CHECK_CASES(c);
}
END_TEST

/* What a classify() call must give (ANY, NULL: not checked). */
#define ANY (-1)

struct rcase {
	const char *dsn;
	const char *text;
	int want; /* enum classification */
	int smtp_code;
	const char *enhanced; /* smtp_enhanced_code */
	const char *host;     /* remote_host */
};

/* check_results - classify each case and compare what it names. */
static void
check_results(const struct rcase *c, size_t n)
{
	struct classify_result r;
	size_t i;

	for (i = 0; i < n; i++) {
		classify(c[i].dsn, c[i].text, &r);
		if (c[i].want != ANY)
			ck_assert_msg((int) r.classification == c[i].want,
				      "case %zu: classification %d, want %d", i,
				      (int) r.classification, c[i].want);
		if (c[i].smtp_code != ANY)
			ck_assert_msg(r.smtp_code == c[i].smtp_code,
				      "case %zu: smtp_code %d, want %d", i,
				      (int) r.smtp_code, c[i].smtp_code);
		if (c[i].enhanced != NULL)
			ck_assert_msg(strcmp(r.smtp_enhanced_code, c[i].enhanced) == 0,
				      "case %zu: enhanced code \"%s\", want \"%s\"", i,
				      r.smtp_enhanced_code, c[i].enhanced);
		if (c[i].host != NULL)
			ck_assert_msg(strcmp(r.remote_host, c[i].host) == 0,
				      "case %zu: remote host \"%s\", want \"%s\"", i,
				      r.remote_host, c[i].host);
	}
}

#define CHECK_RESULTS(a) check_results((a), sizeof(a) / sizeof((a)[0]))

START_TEST(test_success_and_empty)
{
	static const struct rcase c[] = {
		{ "2.0.0", "250 2.0.0 Ok: queued as 4XyZ", CLASS_NONE, 250, "2.0.0",
		  NULL },
		{ NULL, "host mx.example.com[192.0.2.1] said: 250 ok", CLASS_NONE, 250,
		  NULL, "mx.example.com" },
		{ "2.0.0", "delivered to mailbox", CLASS_NONE, ANY, NULL, NULL },
		{ NULL, "", CLASS_NONE, 0, "", "" },
		{ "", NULL, CLASS_NONE, ANY, NULL, NULL },
		/* A dsn that is not an RFC 3463 code is ignored. */
		{ "5.x.1", "", CLASS_NONE, ANY, "", NULL },
	};

	CHECK_RESULTS(c);
}
END_TEST

START_TEST(test_codes_and_host)
{
	static const struct rcase c[] = {
		{ "5.0.0",
		  "host mx1.example.org[192.0.2.25] said: 550-5.1.1 "
		  "first 550 5.1.1 second (in reply to RCPT TO command)",
		  CLASS_INVALID_RECIPIENT, 550, "5.1.1", "mx1.example.org" },
		/* No code in the text: the dsn given; an IP is no enhanced code. */
		{ "5.7.1",
		  "host mx.example.org[192.0.2.25] said: Blocked "
		  "192.0.2.25 4.16.55.1 v5.1.1",
		  ANY, 0, "5.7.1", NULL },
		{ NULL, "Blocked 192.0.2.25", CLASS_UNCLASSIFIED, ANY, "", NULL },
		/* The greeting refusal names the host too; LMTP over a socket. */
		{ "5.0.0",
		  "host mx.example.net[192.0.2.9] refused to talk to me: "
		  "554 5.7.1 go away",
		  ANY, 554, NULL, "mx.example.net" },
		{ "5.2.2",
		  "host mail.example.com[private/dovecot-lmtp] said: 552 "
		  "5.2.2 <x@example.com> Quota exceeded (in reply to end of DATA "
		  "command)",
		  CLASS_MAILBOX_FULL, ANY, NULL, "mail.example.com" },
		/* Postfix's own texts name no remote host that said anything. */
		{ "4.4.1",
		  "connect to mx.example.com[192.0.2.1]:25: Connection "
		  "refused",
		  ANY, 0, "4.4.1", "" },
	};

	CHECK_RESULTS(c);
}
END_TEST

/*
 * Where smtp_enhanced_code came from: the reply's text (the remote's code,
 * which an event carries) or the dsn= given (Postfix's own, which it
 * does not: "lost connection", a reply without an enhanced code).
 */
START_TEST(test_enhanced_code_source)
{
	struct classify_result r;

	classify("5.1.1",
		 "host mx.example.org[192.0.2.25] said: 550 5.1.1 "
		 "<u@example.org>: User unknown (in reply to RCPT TO command)",
		 &r);
	ck_assert_str_eq(r.smtp_enhanced_code, "5.1.1");
	ck_assert_int_eq(r.enhanced_from_text, 1);
	classify("4.4.2",
		 "lost connection with mx.example.org[192.0.2.25] "
		 "while sending end of data -- message may be sent more than "
		 "once",
		 &r);
	ck_assert_str_eq(r.smtp_enhanced_code, "4.4.2");
	ck_assert_int_eq(r.enhanced_from_text, 0);
	classify("5.0.0",
		 "host mx.example.org[192.0.2.25] said: 550 User "
		 "unknown (in reply to RCPT TO command)",
		 &r);
	ck_assert_str_eq(r.smtp_enhanced_code, "5.0.0");
	ck_assert_int_eq(r.smtp_code, 550);
	ck_assert_int_eq(r.enhanced_from_text, 0);
	classify(NULL, "Blocked", &r);
	ck_assert_str_eq(r.smtp_enhanced_code, "");
	ck_assert_int_eq(r.enhanced_from_text, 0);
}
END_TEST

START_TEST(test_multiline_split_words)
{
	static const struct rcase c[] = {
		/* "does not exist" is split by a continuation code. */
		{ NULL,
		  "550-5.1.1 The mailbox does 550-5.1.1 not exist 550 5.1.1 "
		  "here",
		  CLASS_INVALID_RECIPIENT, ANY, NULL, NULL },
		{ NULL, "452-4.2.2 The mailbox is 452 4.2.2 full", CLASS_MAILBOX_FULL,
		  452, "4.2.2", NULL },
	};

	CHECK_RESULTS(c);
}
END_TEST

START_TEST(test_reply_text)
{
	char out[256];
	char small[8];

	classify_reply_text("host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@b>: "
			    "User unknown (in reply to RCPT TO command)",
			    out, sizeof(out));
	ck_assert_str_eq(out, "550 5.1.1 <a@b>: User unknown");
	classify_reply_text("host mx.example.com[192.0.2.1] said: 552 too big (in "
			    "reply to end of DATA command)",
			    out, sizeof(out));
	ck_assert_str_eq(out, "552 too big");
	classify_reply_text("host mx.example.com[192.0.2.1] refused to talk to me: "
			    "554 go away",
			    out, sizeof(out));
	ck_assert_str_eq(out, "554 go away");
	classify_reply_text("connect to mx.example.com[192.0.2.1]:25: Connection "
			    "refused",
			    out, sizeof(out));
	ck_assert_str_eq(out, "connect to mx.example.com[192.0.2.1]:25: Connection "
			      "refused");
	classify_reply_text("250 2.0.0 Ok: queued as 4XyZ", out, sizeof(out));
	ck_assert_str_eq(out, "250 2.0.0 Ok: queued as 4XyZ");
	classify_reply_text("", out, sizeof(out));
	ck_assert_str_eq(out, "");
	classify_reply_text("host a[1.2.3.4] said: 550 abcdefghij", small, sizeof(small));
	ck_assert_str_eq(small, "550 abc");
}
END_TEST

START_TEST(test_long_and_binary)
{
	struct classify_result r;
	size_t len = 1 << 20, i;
	char *text = malloc(len + 1);
	char *out = malloc(len + 1);

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(out);
	memset(text, 'x', len);
	memcpy(text, "550 5.2.2 mailbox full ", 23);
	text[len] = 0;
	classify(NULL, text, &r);
	ck_assert_int_eq(r.classification, CLASS_MAILBOX_FULL);
	/* A cause past what the rules read is not seen; the code still is. */
	memcpy(text, "550 5.0.0 xxxxxxxxxxxxx", 23);
	memcpy(text + len - 20, "mailbox full", 12);
	classify(NULL, text, &r);
	ck_assert_int_eq(r.classification, CLASS_UNCLASSIFIED);
	classify_reply_text(text, out, len + 1);
	ck_assert_uint_eq(strlen(out), len);

	/* Every byte value but NUL, and invalid UTF-8. */
	for (i = 0; i < 4096; i++)
		text[i] = (char) (1 + i % 255);
	text[4096] = 0;
	classify("5.0.0", text, &r);
	ck_assert_int_ne(r.classification, CLASS_NONE);
	classify(NULL, "host \xff\xfe[1.2.3.4] said: 550 \xc3\x28 user unknown", &r);
	ck_assert_str_eq(r.remote_host, "");
	ck_assert_int_eq(r.classification, CLASS_INVALID_RECIPIENT);
	classify(NULL, "host [1.2.3.4] said: 550 x", &r);
	ck_assert_str_eq(r.remote_host, "");
	classify(NULL, "host abc[1.2.3.4 said: 550 x", &r);
	ck_assert_str_eq(r.remote_host, "");
	free(text);
	free(out);
}
END_TEST

/*
 * The cause after a generic prefix decides, not the prefix; a recipient's
 * trouble in a reply about the sender or the sending host is the
 * prefix's reading; a stated cause beats its consequence and a weak word.
 */
START_TEST(test_layers)
{
	static const struct ccase c[] = {
		{ "4.7.1",
		  "450 4.7.1 <a@example.org>: Recipient address rejected: "
		  "Greylisted, see http://postgrey.schweikert.ch/help/example.org.html",
		  CLASS_TRANSIENT_FAILURE },
		{ "5.7.1",
		  "554 5.7.1 <a@example.org>: Recipient address rejected: "
		  "Policy violation",
		  CLASS_POLICY_REJECTION },
		{ "5.1.1",
		  "550 5.1.1 <a@example.org>: Recipient address rejected: "
		  "User unknown in local recipient table",
		  CLASS_INVALID_RECIPIENT },
		{ "5.2.2",
		  "552 5.2.2 <a@example.org>: Recipient address rejected: "
		  "Mailbox full",
		  CLASS_MAILBOX_FULL },
		/* A prefix and nothing the rules know: the code, not the prefix. */
		{ "5.7.1",
		  "554 5.7.1 <a@example.org>: Recipient address rejected: "
		  "see http://example.org/why",
		  CLASS_POLICY_REJECTION },
		/* Postfix's default text of a recipient REJECT: the address. */
		{ "5.7.1",
		  "554 5.7.1 <a@example.org>: Recipient address rejected: "
		  "Access denied",
		  CLASS_INVALID_RECIPIENT },
		{ "4.1.8",
		  "450 4.1.8 <b@example.net>: Sender address rejected: "
		  "Domain not found",
		  CLASS_POLICY_REJECTION },
		{ "5.0.0",
		  "host mx.example.org[192.0.2.1] said: 550 User unknown "
		  "(in reply to MAIL FROM command)",
		  CLASS_POLICY_REJECTION },
		{ "4.7.1",
		  "450 4.7.1 Client host rejected: cannot find your hostname, "
		  "[192.0.2.1]",
		  CLASS_SPAM_BLOCK },
		{ "5.7.1", "554 5.7.1 Client host rejected: Access denied",
		  CLASS_SPAM_BLOCK },
		{ "5.0.0",
		  "Connected to 192.0.2.1 but my name was rejected. Remote "
		  "host said: 501 Invalid domain name",
		  CLASS_SPAM_BLOCK },
		/* Nor is a mail address. */
		{ "5.0.0", "550 <spamhaus-mailboxfull@example.org>... User unknown",
		  CLASS_INVALID_RECIPIENT },
		{ "5.0.0", "550 RCPT TO:<a@b> x@y 'z@w' (q@r) User unknown",
		  CLASS_INVALID_RECIPIENT },
		/* The host's name is no part of the cause. */
		{ "5.0.0",
		  "host spam-filter.example.org[192.0.2.1] said: 550 No such "
		  "user here",
		  CLASS_INVALID_RECIPIENT },
		/* A stated cause beats its consequence and a generic code. */
		{ "4.4.7",
		  "Message expired: unable to deliver in 840 minutes.<421 "
		  "4.4.2 Connection timed out>",
		  CLASS_CONNECTION_ERROR },
		{ "5.7.0", "554 5.7.0 Reject, id=12345-01 - SPAM", CLASS_SPAM_CONTENT },
		{ "5.2.0", "550 5.2.0 <a@example.org> mailbox store: quota exceeded",
		  CLASS_MAILBOX_FULL },
		{ "5.2.0",
		  "554 5.2.0 STOREDRV.Deliver.Exception:QuotaExceededException."
		  "MapiExceptionShutoffQuotaExceeded; Failed to process message",
		  CLASS_MAILBOX_FULL },
		{ "4.4.0", "451 4.4.0 DNS resolving error", CLASS_DNS_FAILURE },
		{ "5.0.0", "554 Message refused: the sender domain has no MX",
		  CLASS_POLICY_REJECTION },
		{ "5.5.2",
		  "504 5.5.2 <a@example.org>: Recipient address rejected: need "
		  "fully-qualified address",
		  CLASS_INVALID_RECIPIENT },
		/* "Try later" from an earlier attempt explains no permanent failure. */
		{ "5.1.6", "450 busy - please try later 551 User has moved",
		  CLASS_INACTIVE_MAILBOX },
		{ "4.0.0", "450 busy - please try later", CLASS_TRANSIENT_FAILURE },
		/* Wordings of common causes. */
		{ "5.2.1", "550 5.2.1 Mailbox is locked", CLASS_INACTIVE_MAILBOX },
		{ "5.7.1", "550 5.7.1 Post by non-member to a members-only list",
		  CLASS_POLICY_REJECTION },
		{ "5.7.0", "530 5.7.0 Authentication required", CLASS_POLICY_REJECTION },
		{ "5.7.26", "550 5.7.26 Multiple authentication checks failed",
		  CLASS_POLICY_REJECTION },
		{ "5.1.3", "553 5.1.3 Malformed recipient address",
		  CLASS_INVALID_RECIPIENT },
		{ "4.4.2", "451 4.4.2 Network error reported by the next hop",
		  CLASS_CONNECTION_ERROR },
		{ "5.7.1", "550 5.7.1 Message blocked by the email security policy",
		  CLASS_POLICY_REJECTION },
		{ "5.3.4", "552 5.3.4 Message size exceeds fixed limit",
		  CLASS_POLICY_REJECTION },
	};

	CHECK_CASES(c);
}
END_TEST

/* Leaving a provider's rules out leaves the general reading. */
START_TEST(test_without_provider)
{
	struct classify_result r;
	const char *t = "554 5.7.1 [CS01] Message rejected due to local policy.";

	classify("5.7.1", t, &r);
	ck_assert_int_eq(r.classification, CLASS_SPAM_CONTENT);
	ck_assert_int_eq(classify_without_provider("apple"), 0);
	ck_assert_int_eq(classify_without_provider("no such provider"), -1);
	classify("5.7.1", t, &r);
	ck_assert_int_eq(r.classification, CLASS_POLICY_REJECTION);
}
END_TEST

/* An admin's rules: checked with their line, tried first, swapped. */
START_TEST(test_local_rules)
{
	static const struct {
		const char *text;
		const char *err;
	} bad[] = {
		{ "spam_block", "r, line 1: want CLASSIFICATION" },
		{ "# c\n\nno_such any - - x", "r, line 3: unknown classification" },
		{ "spam_block sometimes - - x", "r, line 1: \"sometimes\" is not" },
		{ "spam_block any 5.x.1 - x", "r, line 1: \"5.x.1\" is no code" },
		{ "spam_block any 6** - x", "r, line 1: \"6**\" is no code" },
		{ "spam_block any - -", "r, line 1: no pattern" },
		{ "spam_block any - - (unclosed", "r, line 1: pattern: " },
	};
	struct classify_local *l;
	struct classify_result r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_ptr_null(
		    classify_local_parse(bad[i].text, "r", err, sizeof(err)));
		ck_assert_msg(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0,
			      "case %zu: %s", i, err);
	}
	l = classify_local_parse(
	    "# mine\n"
	    "spam_content perm 5.7.1 example.com Rejected BY scanner\n"
	    "transient_failure temp - - -\n",
	    "r", err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	classify_local_use(l);
	classify(NULL,
		 "host mx.example.com[192.0.2.1] said: 550 5.7.1 rejected "
		 "by scanner",
		 &r);
	ck_assert_int_eq(r.classification, CLASS_SPAM_CONTENT);
	/* Another host: the built-in reading. */
	classify(NULL,
		 "host mx.example.net[192.0.2.1] said: 550 5.7.1 rejected "
		 "by scanner",
		 &r);
	ck_assert_int_eq(r.classification, CLASS_POLICY_REJECTION);
	/* Ahead of the built-in rules. */
	classify(NULL, "450 4.2.2 Mailbox full", &r);
	ck_assert_int_eq(r.classification, CLASS_TRANSIENT_FAILURE);
	classify_local_use(NULL);
	classify(NULL, "450 4.2.2 Mailbox full", &r);
	ck_assert_int_eq(r.classification, CLASS_MAILBOX_FULL);
	ck_assert_int_eq(classify_local_load("", err, sizeof(err)), 0);
	ck_assert_int_eq(classify_local_load("/nonexistent/rules", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/rules") != NULL, "%s", err);
}
END_TEST

/* The cache of verdicts: the same as classify(), through collisions and
 * a change of rules. */
START_TEST(test_cache)
{
	static const struct {
		const char *dsn, *text;
	} in[] = {
		{ "5.1.1", "host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@b>: "
			   "Recipient address rejected: User unknown" },
		/* Other addresses: the same text for the rules; the codes
		 * and the host are each reply's own. */
		{ "5.1.1", "host mx.example.net[192.0.2.9] said: 550 5.1.1 <c@d>: "
			   "Recipient address rejected: User unknown" },
		{ "5.1.1", "host mx.example.net[192.0.2.9] said: 550 <e@f>: "
			   "Recipient address rejected: User unknown" },
		{ NULL, "host smtp.google.com[192.0.2.9] refused to talk to me: 421 "
			"4.7.0 Try again later, closing connection." },
		{ "4.4.1",
		  "connect to mx.example.com[192.0.2.1]:25: Connection refused" },
		{ NULL, "450 4.2.2 Mailbox full" },
		{ "4.2.2", "450 4.2.2 Mailbox full" },
		{ "", "450 4.2.2 Mailbox full" },
		{ "5.7.1", NULL },
		{ "5.7", "1 rejected" }, /* not the same key as the next */
		{ "5.7.1", " rejected" },
		{ NULL, NULL },
	};
	struct classify_cache *c = classify_cache_new(2);
	struct classify_local *l;
	struct classify_result want, got;
	char err[256], *big;
	size_t i, round;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			classify(in[i].dsn, in[i].text, &want);
			memset(&got, 0x5a, sizeof(got));
			classify_cached(c, in[i].dsn, in[i].text, &got);
			ck_assert_msg(memcmp(&want, &got, sizeof(want)) == 0,
				      "round %zu case %zu", round, i);
		}
	}
	/* Rules in use changed: the cached verdict goes. */
	classify_cached(c, NULL, "450 4.2.2 Mailbox full", &got);
	ck_assert_int_eq(got.classification, CLASS_MAILBOX_FULL);
	l = classify_local_parse("transient_failure temp - - -\n", "r", err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	classify_local_use(l);
	classify_cached(c, NULL, "450 4.2.2 Mailbox full", &got);
	ck_assert_int_eq(got.classification, CLASS_TRANSIENT_FAILURE);
	classify_local_use(NULL);
	classify_cached(c, NULL, "450 4.2.2 Mailbox full", &got);
	ck_assert_int_eq(got.classification, CLASS_MAILBOX_FULL);
	/* Longer than a key may be: classified each time, the same. */
	big = malloc(4000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 3999);
	memcpy(big, "550 5.1.1 user unknown ", 23);
	big[3999] = 0;
	classify("5.1.1", big, &want);
	classify_cached(c, "5.1.1", big, &got);
	ck_assert_int_eq(memcmp(&want, &got, sizeof(want)), 0);
	free(big);
	/* No cache: classify() itself. */
	classify_cached(NULL, "5.1.1", in[0].text, &got);
	classify("5.1.1", in[0].text, &want);
	ck_assert_int_eq(memcmp(&want, &got, sizeof(want)), 0);
	classify_cache_free(c);
	classify_cache_free(NULL);
}
END_TEST

static void *
classify_thread(void *arg)
{
	struct classify_result r;
	int i, *bad = arg;

	for (i = 0; i < 200; i++) {
		classify("5.1.1",
			 "550 5.1.1 <a@b>: Recipient address rejected: User "
			 "unknown in virtual mailbox table",
			 &r);
		if (r.classification != CLASS_INVALID_RECIPIENT)
			(*bad)++;
	}
	return (NULL);
}

START_TEST(test_threads)
{
	pthread_t t[4];
	int bad[4] = { 0, 0, 0, 0 };
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, classify_thread, &bad[i]),
				 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(bad[i], 0);
	}
}
END_TEST

START_TEST(test_prefilter)
{
	/* Texts that reach each rule through its literals, in both cases. */
	static const char *const texts[] = {
		"mailbox is full",
		"MAILBOX FULL",
		"mail box was full",
		"over quota",
		"overquota",
		"the mailbox of this user is now full",
		"user xyz is full",
		"exceeds the quota",
		"exceeds its allowed storage",
		"quota exceeded",
		"grey-listed",
		"greylisted, try later",
		"Gray list",
		"graylist",
		"relaying denied",
		"relay access denied",
		"Relay not permitted",
		"not authorized to relay",
		"we do not relay",
		"[CS01] Message rejected due to local policy",
		"[cs09]",
		"message was rejected as spam",
		"Mail blocked by spam filter",
		"email has been identified as junk",
		"content rejected",
		"x ube x",
		"ube",
		"(UBE)",
		"AUP#BL",
		"AUP#MXRBL",
		"aup#in-bl",
		"[TS01]",
		"[TSS04] Messages temporarily deferred",
		"[BL21]",
		"[HM08]",
		"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
		"zen.spamhaus.org",
		"listed in rbl",
		"x rbl",
		"xrbl",
		" ptr ",
		"no PTR.",
		"reverse dns",
		"rDNS",
		"reverse lookup",
		"reverse dns lookup",
		"unverifiable sending IP",
		"unverifyable sending ip",
		"connect to mx.example.com[192.0.2.1]:25: Connection refused",
		"connect to x: ",
		"xconnect to x: ",
		"connect to mx[1.2.3.4]: no",
		"lost connection with x",
		"conversation with x timed out",
		"conversation with timed out",
		"Host or domain name not found. Name service error for name=x type=MX: "
		"Host not found, try again",
		"host or domain name not found",
		"user unknown",
		"unknown user",
		"Unknown address error",
		"unknown address",
		"unknown address e",
		"unknown addresses",
		"no such user here",
		"The email account that you tried to reach does not exist",
		"This user doesn't have a yahoo.com account",
		"doesn't have an x account",
		"invalid recipient",
		"invalid final delivery userid",
		"rate limit exceeded",
		"rate-limited",
		"too many messages",
		"try again later",
		"try later",
		"Temporary failure",
		"temporarily unavailable",
		"message size exceeds",
		"message length 1234 exceeds",
		"message too big",
		"account has been disabled",
		"disabled account",
		"no longer in use",
		"in reply to MAIL FROM command",
		"after MAIL FROM",
		"5.7.1 rejected",
		"denied",
		"refused",
		"not allowed",
		"prohibited",
		"STARTTLS",
		"tls",
		" tls ",
		"TLS is required, but was not offered",
		"cannot start TLS",
		"server certificate not trusted",
		"server certificate not verified",
		"loops back to myself",
		"mail loop",
		"too many hops",
		"insufficient system storage",
		"insufficient disk space",
		"groups.google.com/support",
		"groupsxgooglexcom/support",
		"virus found",
		"dmarc",
		" spf ",
		"spf",
		"dkim",
		"",
		" ",
		"x",
		"a\tb",
		"ünïcödé",
		"\xff\xfe",
	};
	size_t i;
	int match, verdict, n;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		check_prefilter(texts[i]);
	/* Every text rule has a pre-filter (else every failure runs it). */
	for (i = 0; i < classify_rule_count(); i++) {
		if (classify_rule_at(i)->text == NULL)
			continue;
		n = classify_rule_probe(i, "", &match, &verdict);
		ck_assert_msg(n > 0, "rule %zu has no literal pre-filter: %s", i,
			      classify_rule_at(i)->text);
	}
	/* A plain alternative decides without regexec(); others do not. */
	ck_assert_int_gt(
	    classify_rule_probe(0, "x loops back to myself x", &match, &verdict), 0);
	ck_assert(match && verdict == 2);
	ck_assert_int_gt(classify_rule_probe(0, "x loops back to me", &match, &verdict),
			 0);
	ck_assert(!match && verdict == 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("classify");

	tcase_add_test(tc, test_rules_compile);
	tcase_add_test(tc, test_postfix_own_texts);
	tcase_add_test(tc, test_providers);
	tcase_add_test(tc, test_layers);
	tcase_add_test(tc, test_without_provider);
	tcase_add_test(tc, test_local_rules);
	tcase_add_test(tc, test_wordings);
	tcase_add_test(tc, test_code_fallback);
	tcase_add_test(tc, test_success_and_empty);
	tcase_add_test(tc, test_codes_and_host);
	tcase_add_test(tc, test_enhanced_code_source);
	tcase_add_test(tc, test_multiline_split_words);
	tcase_add_test(tc, test_reply_text);
	tcase_add_test(tc, test_long_and_binary);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_prefilter);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
