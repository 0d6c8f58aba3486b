/*
 * classify_provider.c - provider tables: where a provider's or product's
 * own wording contradicts the general reading (classify_vocab.c), or
 * names a cause in its own codes that the general vocabulary cannot read.
 *
 * Tried after Postfix's own texts and before the cause vocabulary, on the
 * whole reply (a provider's code or tag may stand before a generic
 * prefix).  An entry may key on the remote host (Postfix logs it: "host
 * NAME[IP] said:"), which "host" matches as the name or a domain above it;
 * most key on the provider's own tags ("[TSS04]", "OFR_506"), which only
 * it writes, so they also read the provider's replies relayed by another
 * MTA.  First match wins; within a provider, its most specific wording
 * first.  Each entry names its provider (bench/classify_measure.py leaves
 * a provider's entries out to measure the general layers on its bounces)
 * and the published page or source its wording comes from.
 */
#include "classify/classify_int.h"

#define ANY CLASSIFY_ANY

const struct classify_rule classify_provider[] = {
	/* Google: support.google.com/mail/answer/3726730 (SMTP errors). */
	{ "unusual rate of unsolicited", NULL, ANY, CLASS_SPAM_BLOCK,
	  "Gmail 4.7.28/5.7.28 page: the sending domain's or IP's reputation; "
	  "the text names the \"SPF domain\" or \"DKIM domain\", which is no "
	  "authentication failure",
	  NULL, "google" },
	{ "content presents a potential", NULL, ANY, CLASS_POLICY_REJECTION,
	  "Gmail 5.7.0 page: \"blocked because its content presents a potential "
	  "security issue\" (attachments), no spam verdict",
	  NULL, "google" },
	{ "send mail as", NULL, ANY, CLASS_POLICY_REJECTION,
	  "Gmail \"Send mail as\" notice: the sending address is not the "
	  "account's",
	  NULL, "google" },
	{ "groups\\.google\\.com/support", NULL, ANY, CLASS_POLICY_REJECTION,
	  "Google Groups notice: no such group, or posting not allowed", NULL, "google" },

	/* Yahoo and AOL: senders.yahooinc.com/smtp-error-codes. */
	{ "\\[TSS?[0-9]+\\]|\\[BL[0-9]+\\]", NULL, ANY, CLASS_SPAM_BLOCK,
	  "Yahoo/AOL TSS and BL codes: the sending IP's reputation or a "
	  "blocklist",
	  NULL, "yahoo" },

	/* Microsoft: learn.microsoft.com, NDRs in Exchange Online. */
	{ "(^|[^a-z])sc-00[1-4]([^0-9]|$)", NULL, ANY, CLASS_SPAM_BLOCK,
	  "Outlook.com postmaster SC-001..SC-004: mail refused for the sending "
	  "IP's reputation or complaints",
	  NULL, "microsoft" },
	{ "part of their network is on our block", NULL, ANY, CLASS_SPAM_BLOCK,
	  "Outlook.com S3150 page: the sending IP's network is blocked", NULL,
	  "microsoft" },
	{ "temporarily rate limited due to ip reputation", "4.7.650", ANY,
	  CLASS_SPAM_BLOCK,
	  "Exchange Online 4.7.650 page: throttled for the IP's reputation, "
	  "not a rate",
	  NULL, "microsoft" },

	/* Apple iCloud: support.apple.com/en-us/102322. */
	{ "\\[CS0[0-9]\\]", NULL, ANY, CLASS_SPAM_CONTENT,
	  "iCloud CS01: the message's content judged spam", NULL, "apple" },
	{ "\\[HM0[0-9]\\]", NULL, ANY, CLASS_SPAM_BLOCK,
	  "iCloud HM08: the sending IP's reputation", NULL, "apple" },

	/* Orange, La Poste (France): their postmaster pages. */
	{ "mail rejete|mail rejected\\. *ofr", NULL, ANY, CLASS_SPAM_CONTENT,
	  "Orange OFR_506 page: the message judged spam", NULL, "orange" },
	{ "compte du destinataire est bloque|boite du destinataire archivee", NULL, ANY,
	  CLASS_INACTIVE_MAILBOX,
	  "La Poste LPN007 page: the recipient's account blocked or archived", NULL,
	  "orange" },

	/* Cox: cox.com/residential/support/email-error-codes. */
	{ "AUP#URLBL", NULL, ANY, CLASS_SPAM_CONTENT,
	  "Cox AUP#URLBL: a URL of the message is listed", NULL, "cox" },
	{ "AUP#[A-Z]*BL|cox\\.com/.*sender rejected", NULL, ANY, CLASS_SPAM_BLOCK,
	  "Cox AUP#...BL and sender-rejected pages: the IP or domain is listed", NULL,
	  "cox" },

	/* NetEase, Tencent: their help pages. */
	{ "dt:spm", NULL, ANY, CLASS_SPAM_CONTENT,
	  "NetEase DT:SPM: the content judged spam", NULL, "netease" },

	/* Proofpoint, T-Online, Amazon SES. */
	{ "ipcheck\\.proofpoint\\.com|proofpoint\\.com/dnsbl", NULL, ANY,
	  CLASS_SPAM_BLOCK, "Proofpoint's IP reputation lookup page", NULL,
	  "proofpoint" },
	{ "ip=[0-9a-f.:]+ - a problem occurred", NULL, ANY, CLASS_SPAM_BLOCK,
	  "T-Online: the sending IP refused (\"(BL)\")", NULL, "telekom" },
	{ "email address is not verified", NULL, ANY, CLASS_ROUTING_ERROR,
	  "Amazon SES: the sending identity is not verified, SES will not "
	  "relay",
	  NULL, "amazon" },
};

const size_t classify_provider_count =
    sizeof(classify_provider) / sizeof(classify_provider[0]);
