/*
 * classify_rules.c - the bounce classification rules: one ordered table,
 * first match wins.
 *
 * Each rule has a POSIX extended regular expression matched, ignoring case,
 * against the status text (a multi-line reply without its continuation
 * codes), an optional code condition (an RFC 3463 enhanced code with "*"
 * fields, or a three-digit SMTP code with "*" digits), an optional temporary
 * or permanent condition, the classification, and whom the rule is for.
 *
 * The order is the policy:
 *  1. Postfix's own texts, which are exact.
 *  2. Phrases that name a cause (a provider's or filter's wording, then the
 *     common wordings of each cause), most specific first: loops and relay
 *     refusals, the sender's own address, content filters, authentication,
 *     blocklists and reputation, reverse DNS, then the recipient's mailbox
 *     and domain, rate limits and greylisting, system and connection
 *     trouble.
 *  3. The enhanced code alone (it is often generic or reused: 5.7.1 says
 *     both "spam" and "unknown user", which is why the text comes first).
 *  4. The SMTP code's class: any other temporary failure is transient; a
 *     permanent failure that nothing explains stays unclassified.
 *
 * To add a rule: put it in its family, above any broader rule it must beat,
 * name its source, and add a case to tests/lib/check_classify.c.  Rules name a
 * provider's wording or a filter's phrase, never one message's text.
 */
#include "classify/classify.h"

#define ANY	CLASSIFY_ANY
#define TEMP	CLASSIFY_TEMP
#define PERM	CLASSIFY_PERM

const struct classify_rule classify_rules[] = {
	/* 1. Postfix's own texts. */
	{"loops back to myself", NULL, ANY, CLASS_ROUTING_ERROR,
	 "Postfix smtp: the MX points back to this host"},
	{"TLS is required, but|cannot start TLS|TLS handshake|"
	 "server certificate not (verified|trusted)|untrusted issuer|"
	 "certificate verification failed|certificate(-| is )expired|"
	 "tlsa-invalid|dnssec-invalid|failed dane",
	 NULL, ANY, CLASS_PROTOCOL_ERROR,
	 "Postfix smtp: smtp_tls_security_level encrypt/verify failures; "
	 "Exchange Online DANE 5.7.322-5.7.324"},
	{"(host or domain name not found|name service error).*try again|"
	 "malformed or unexpected name server reply|host name lookup failure|"
	 "temporary failure in name resolution|dns query failed|servfail",
	 NULL, ANY, CLASS_DNS_FAILURE,
	 "Postfix smtp, sendmail, Exchange 5.4.312: temporary DNS failure"},
	{"(^|[^a-z])connect to [^ ]+(\\[[^]]*\\])?(:[0-9]+)?: |"
	 "lost connection with|conversation with .* timed out",
	 NULL, ANY, CLASS_CONNECTION_ERROR,
	 "Postfix smtp: connection refused, timed out, lost"},

	/* 2a. Greylisting, loops, relaying, the sending identity. */
	{"grey ?-?list|gray ?-?list|try again slower", NULL, ANY,
	 CLASS_TRANSIENT_FAILURE,
	 "Postgrey, Mimecast, Exim greylisting; Postfix policy \"Please try "
	 "again slower\""},
	{"mail loop|routing loop|loop detected|hop count|too many hops",
	 NULL, ANY, CLASS_ROUTING_ERROR,
	 "RFC 5321 loop detection: sendmail, Exchange 5.4.14, qmail"},
	{"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)|"
	 "not (configured|authorized|permitted|allowed) to relay|unable to relay|"
	 "insecure mail relay|we do not relay|relay not permitted|"
	 "email address is not verified|as a relay|not a gateway|"
	 "relaying mail to|(don't|do not) handle mail for|not an open relay|"
	 "invalid credentials for relay|to a non-local e-?mail address|"
	 "allowed rcpthosts",
	 NULL, ANY, CLASS_ROUTING_ERROR,
	 "Postfix/sendmail relay refusal, Office 365 5.7.54, Amazon SES, "
	 "MessageLabs, Google Workspace relay, MailEnable, qmail rcpthosts"},
	{"groups\\.google\\.com/support", NULL, ANY, CLASS_POLICY_REJECTION,
	 "Google Groups: no such group, or posting not allowed"},
	{"sender address rejected|domain of sender address|"
	 "sender verif(y|ication) failed|"
	 "sender (domain|address) (is )?(invalid|unknown|does not exist)|"
	 "from: domain is invalid|send mail as|sender e-?mail address rejected|"
	 "invalid sender|not owned by user|"
	 "(sender|mail from)('s)? domain( [^ ]+)? (does not|doesn't) exist|"
	 "unroute?able sender|"
	 "backscatter|sender account (is |has been )?(disabled|blocked|suspended)|"
	 "mail sending denied|(account|client) (has been |is )?blocked from sending",
	 NULL, ANY, CLASS_POLICY_REJECTION,
	 "Postfix reject_unknown_sender_domain, Exim sender callout, sendmail, "
	 "Gmail send-as, GoDaddy, Orange/La Poste, Facebook DNS-P1, MDaemon, "
	 "Spectrum, Outlook 5.7.750; a blocklisted sender stays spam_block "
	 "(seed: \"IP or domain blocklisted\")"},
	{NULL, "*.1.7", ANY, CLASS_POLICY_REJECTION,
	 "RFC 3463 X.1.7: bad sender mailbox syntax"},
	{NULL, "*.1.8", ANY, CLASS_POLICY_REJECTION,
	 "RFC 3463 X.1.8: bad sender system address"},

	/* 2b. Content filters: spam and malware in the message. */
	{"\\[CS0[0-9]\\]|scored as spam|spam classification|"
	 "suspicion of spam|spam message rejected|likely unsolicited mail|"
	 "(message|mail|content|email) (was |is |has been )?"
	 "(rejected|blocked|flagged|identified|detected|classified|refused) "
	 "(as|due to|for|because of|by) ([a-z]+ )?(spam|junk|bulk)|"
	 "(message|content) (was |is )?rejected as spam|"
	 "content rejected|[^a-z]ube[^a-z]|blacklisted url|uribl|surbl|"
	 "spam (content|detected|signature)|looks like spam|considered (as )?spam|"
	 "appears to be (spam|junk|unsolicited)|"
	 "virus|malware|infected|mail rejete|mail rejected\\. *ofr|"
	 "dt:spm|probability of spam|rejected (due to|because of|for|as) spam|"
	 "AUP#URLBL",
	 NULL, ANY, CLASS_SPAM_CONTENT,
	 "Mail.ru, Yandex, iCloud CS01, Proofpoint, Mimecast, SpamAssassin, "
	 "amavis, Orange OFR_506, Gmail, NetEase DT:SPM, Cox URLBL"},
	{"(bad|banned|blocked|prohibited|forbidden|dangerous|unacceptable|"
	 "not allowed) (attachment|file)|reject, id=[^ ]+ - banned|"
	 "attachment (extension|type)",
	 NULL, ANY, CLASS_POLICY_REJECTION,
	 "attachment policies: amavis BANNED, Exchange, Mimecast"},
	{"content presents a potential|message filtered|"
	 "recipient'?s? preferences|purported responsible address|user reject|"
	 "refuses? to receive|blocked by the recipient|not accepting any mail|"
	 "only accepting mail from specific|account is protected by",
	 NULL, ANY, CLASS_POLICY_REJECTION,
	 "Gmail attachment policy, Facebook, Sender ID; the recipient's own "
	 "filter: AOL, Japanese mobile carriers"},

	/* 2c. Authentication of the sender: SPF, DKIM, DMARC. */
	{"unusual rate of unsolicited", NULL, ANY, CLASS_SPAM_BLOCK,
	 "Gmail 4.7.28/5.7.28: the sending domain's reputation; the text names "
	 "the \"SPF domain\" or \"DKIM domain\", which is no authentication "
	 "failure"},
	{"dmarc|[^a-z]spf[^a-z]|dkim|sender policy framework|"
	 "authentication (checks? )?(failed|required)|unauthenticated|"
	 "not authenticated|authrequired|sendernotauthenticated|"
	 "not allowed to send from",
	 NULL, ANY, CLASS_POLICY_REJECTION,
	 "Gmail 5.7.26/5.7.27, Outlook 5.7.509/5.7.515, Yahoo, iCloud, QQ, GoDaddy"},

	/* 2d. Blocklists and the sending IP's reputation. */
	{"\\[TSS?[0-9]+\\]|\\[BL[0-9]+\\]|\\[HM0[0-9]\\]|"
	 "not accepting connections|part of their network is on our block|"
	 "too many unwanted messages|"
	 "banned sending ip|AUP#[A-Z]*BL|ipcheck\\.proofpoint\\.com|"
	 "traffic not accepted from this ip|ip=[0-9a-f.:]+ - a problem occurred",
	 NULL, ANY, CLASS_SPAM_BLOCK,
	 "Yahoo/AOL TSS/BL, iCloud HM, Outlook S3150/5.7.606/5.7.708, Gmail, "
	 "Cox, Proofpoint's IP reputation lookup, T-Online's refused IP"},
	{"spamhaus|spamcop|sorbs|barracuda|uceprotect|abuseat|psbl|"
	 "invaluement|mailspike|dnsbl|[^a-z]rbl|blocked using|"
	 "(is|are|was|been|currently) (black|block|deny)?listed|"
	 "black ?list|block ?list|deny ?list|reputation|blocked for abuse|"
	 "open relay|my name was rejected|client host rejected|"
	 "please use the smtp server of your isp|dynamic ip|dial-?up|"
	 "residential|invalid ip for sending|mismatches client ip|"
	 "refused to talk to me|after initial connection|after (EHLO|HELO)",
	 NULL, ANY, CLASS_SPAM_BLOCK,
	 "Spamhaus, SpamCop, SORBS, Barracuda, Proofpoint, Mimecast, "
	 "Postfix reject_rbl_client, Outlook, Gmail, qmail; greeting and HELO "
	 "refusals (Postfix \"refused to talk to me\", Exim \"after initial "
	 "connection\")"},
	{"[^a-z]ptr[^a-z]|reverse dns|[^a-z]rdns|reverse (dns )?lookup|"
	 "ip name lookup failed|cannot find your (reverse )?hostname|"
	 "may not be mail exchanger|unverifi?y?able sending ip",
	 NULL, ANY, CLASS_SPAM_BLOCK,
	 "Postfix reject_unknown_client_hostname, Gmail 5.7.25, GMX, Comcast"},
	{"(^|[^a-z])(ip( address)?|server at)( \\(?\\[?[0-9a-f.:]+\\]?\\)?)? (has been |is |was )?"
	 "(temporarily )?(blocked|banned|blacklisted|listed as abusive)|"
	 "mail from your (mail server'?s )?ip|forbidden by your ip|"
	 "bad (sender )?ip|spam ips?([^a-z]|$)|open proxy|like (a )?spammer|"
	 "too many spams|(are|is) (currently )?sending spam|"
	 "too many (invalid|unknown|bad) recipients|sender ip (address )?rejected|"
	 "helo command rejected|bad helo|helo/ehlo (argument|parameter)|"
	 "client host blocked",
	 NULL, ANY, CLASS_SPAM_BLOCK,
	 "the sending IP or host refused: EarthLink, GoDaddy IB1xx, Spectrum, "
	 "Facebook POL-P2, Outlook 5.7.506, Postfix HELO restrictions, Cox, "
	 "free.fr, Orange OFR006_102"},
	/*
	 * Content judged to be spam, in words that name neither an IP nor a
	 * list (those are above): SpamAssassin, Barracuda, Cyren, Gmail's
	 * "To best protect our users from spam" once reputation and PTR have
	 * had their say.
	 */
	{"(probable|probably|is|as|be|being|for|no|like|much|accept|consider|"
	 "considered|suspected|similar to|from) spam([^a-z]|$)|"
	 "spam (blocked|block|check|e-?mail|not accepted|refused|rejection|"
	 "score|points|filter|message|is)|spam-like|\\(spam\\)|"
	 "spamassassin|spamprofiler|spambouncer|anti-? ?spam|content filter|"
	 "bulk[ .](e-?mail|mail|advertising)|mass mailer|"
	 "recurrent pattern detection|content denied",
	 NULL, ANY, CLASS_SPAM_CONTENT,
	 "SpamAssassin, amavis, Trustwave, Cyberoam, Cyren RPD, QQ, GoDaddy "
	 "IB212, Exchange content filter agent, Gmail 4.7.0"},

	/* 2e. The message's size and form. */
	{"message (size|length)( [0-9]+)? exceeds|exceeds size limit|"
	 "maximum (e-?mail |message )size|maximum allowed size|"
	 "(e-?mail|message) size exceeded|"
	 "message (is )?too (big|large)|line limit exceeded|line too long|"
	 "headers? (is |are )?too (large|long)|too many headers|header error|"
	 "rfc ?5322|rfc ?2?822|multiple addresses in from|duplicate header|"
	 "8-bit data|policy violation|policy reasons|policy restrictions|"
	 "not accepted for policy|protocol violation|anti-spoofing|"
	 "administrative prohibition|security polic|network not allowed|"
	 "not a registered",
	 NULL, ANY, CLASS_POLICY_REJECTION,
	 "RFC 5321 size/line limits, Gmail RFC 5322, Yahoo 5.7.9, Zoho, "
	 "Mimecast, Amazon SES"},

	/* 2f. The recipient's mailbox: disabled, moved, full, unknown. */
	{"account (has been |is |was )?(disabled|deactivated|suspended|inactive|"
	 "expired|locked|closed|terminated|discontinued)|"
	 "(disabled|inactive|suspended|deactivated|closed|expired) "
	 "(account|mailbox|recipient|user)|"
	 "mailbox (is |has been )?(disabled|inactive|suspended|closed|deactivated)|"
	 "tried to reach is (disabled|inactive)|disableduser|"
	 "no longer (on (this )?server|active|in use|available|valid)|"
	 "not our (user|customer)|user not local|has moved|"
	 "recipient account is blocked|compte du destinataire est bloque|"
	 "archived recipient|boite du destinataire archivee|extended inactivity|"
	 "(address|recipient) is (currently )?deactivated",
	 NULL, ANY, CLASS_INACTIVE_MAILBOX,
	 "Gmail DisabledUser, Yahoo, La Poste, RFC 5321 551, Facebook RCP-T4, "
	 "AOL"},
	{"(daily|hourly|sending|submission) ([a-z]+ )?quota|"
	 "submissionquotaexceeded",
	 NULL, ANY, CLASS_TRANSIENT_FAILURE,
	 "Gmail 5.4.5, Amazon SES, Outlook SubmissionQuotaExceeded: the "
	 "sender's quota, not the mailbox's"},
	{"insufficient (system (resources|storage)|disk space)",
	 NULL, ANY, CLASS_TRANSIENT_FAILURE,
	 "RFC 5321 452, Exchange 4.3.1: the receiving system is full"},
	{"mail ?box (is |was )?full|mailbox.{0,40} full|over ?quota|"
	 "quota exceeded|exceeds? (the |its |allowed |their )*"
	 "(quota|storage|size)|mail ?folder is full|inbox is full|"
	 "out of storage|storage (quota|limit|space)|disk quota|"
	 "not enough (disk )?space|mailbox size limit|user.{0,20} is full|"
	 "too many messages (on the server|in (the |this |his |her |their )?"
	 "(mailbox|inbox))",
	 NULL, ANY, CLASS_MAILBOX_FULL,
	 "Gmail, iCloud, Yandex, Mail.ru, Dovecot, qmail, Exim, Courier"},
	{"host unknown|unknown host|domain (does not|doesn't|did not) exist|"
	 "no such domain|domain (name )?not found|nxdomain|"
	 "illegal host/domain|does not accept mail|no (mx|mail exchanger)|"
	 "no smtp service|couldn't find (a mail exchanger|any host)|null mx|"
	 "doesn't receive email|bad destination system|"
	 "domain is not reachable|invalid domain|unroute?able|"
	 "host or domain name not found|no relevant answers|unknown domain|"
	 "domain [^ ]+ (does not|doesn't) exist",
	 NULL, ANY, CLASS_INVALID_DOMAIN,
	 "Postfix 5.4.4, Gmail DNS Error, qmail, sendmail, RFC 7505 null MX"},
	{"user unknown|unknown user|unknown (recipient|mailbox|account|local ?part)|"
	 "unknown address([^ ]| [^e]|$)|no such (user|mailbox|recipient|address|account|person)|"
	 "(user|recipient|mailbox|address|account|addressee)( name)? "
	 "(does not|doesn't|did not) exist|"
	 "(user|recipient|mailbox|address) (is |was )?not found|recip(ient)?notfound|"
	 "invalid (final delivery )?(recipient|mailbox|user|address|userid)|"
	 "not a valid (recipient|mailbox|user)|mailbox (unavailable|not found)|"
	 "address (not found|rejected|unknown)|not listed in|no mailbox here|"
	 "doesn't have an? [^ ]+ account|illegal alias|nosuchuser|"
	 "bad destination mailbox|undeliverable address|destinataire invalide|"
	 "no valid recipients|check if (the )?address is correct|"
	 "tried to reach does not exist|recipient address rejected: access denied|"
	 "(recipient|mailbox|user)( address)? is (invalid|unknown|not valid)|"
	 "badrcptto|badrecipientto|validrcptto|"
	 "envelope recipient (has been denied|is in my)",
	 NULL, ANY, CLASS_INVALID_RECIPIENT,
	 "Postfix, sendmail, Exim, qmail, Gmail NoSuchUser, "
	 "Outlook RecipNotFound/5.4.1 DBEB, Yahoo dd, iCloud, GMX, Mimecast, "
	 "Zoho, Domino"},

	/* 2g. Rate limits, greylisting, the receiving system's trouble. */
	{"rate limit|rate-limit|ratelimit|too many (messages|connections|"
	 "recipients|mails|emails|concurrent)|frequency limited|"
	 "receiving mail at a rate|sending (quota|limit)|throttl|"
	 "sent to too many|try (again )?later|temporarily deferred|"
	 "receiving mail too (quickly|fast)|"
	 "(relay|receive|thread|session|hourly|daily) limit|"
	 "max(imum)? number of messages|messages per (session|hour|connection)|"
	 "too many (smtp )?sessions|exceeded permitted limits|exceeded threshold",
	 NULL, ANY, CLASS_TRANSIENT_FAILURE,
	 "Gmail ReceivingRate, QQ, GoDaddy, Mail.ru, Yandex, RFC 5321 421/452"},
	{"system (error|failure)|internal (server |system )?error|"
	 "temporar(il)?y (unavailable|failure|error|problem)|"
	 "service (is )?(currently )?unavailable|local error in processing|"
	 "could not load drd|config(uration)? error|misconfigured|"
	 "incorrectly configured|error while being processed",
	 NULL, ANY, CLASS_TRANSIENT_FAILURE,
	 "RFC 5321 451/421 wordings, Exchange, Mimecast, MXLogic"},
	/*
	 * Another MTA's notice that it gave up after retrying (Gmail's
	 * "did not accept our requests to connect" notices, qmail, sendmail,
	 * Exchange's X.4.7): the message expired in that queue, whatever the
	 * last attempt said.  Postfix's own per-attempt texts are above.
	 */
	{NULL, "*.4.7", ANY, CLASS_TRANSIENT_FAILURE,
	 "RFC 3463 X.4.7 delivery time expired: Exchange, sendmail"},
	{"expired|in the queue too long|could not be delivered for|"
	 "not delivered within|retry timeout exceeded|could not deliver for|"
	 "giving up|will be deleted from queue|unable to deliver .*(after|within)|"
	 "has been delayed|will be retried|delivery failed [0-9]+ attempts|"
	 "failing for a long time|did not accept our requests to connect",
	 NULL, ANY, CLASS_TRANSIENT_FAILURE,
	 "queue lifetime reached: Gmail 7720 notices, qmail, sendmail, Exim, "
	 "Exchange"},
	{"connection (refused|timed out|reset|dropped|closed)|no route to host|"
	 "network is unreachable|host (is )?(not reachable|unreachable)|"
	 "(unable|could not|couldn't|failed) to connect|"
	 "establish an? (smtp )?connection|socket error|timed out",
	 NULL, ANY, CLASS_CONNECTION_ERROR,
	 "qmail, sendmail, Exim, RFC 5321 421: the remote could not be reached"},
	{"improper sequence|command parameter not implemented|syntax error|"
	 "bad syntax|"
	 "command not recognized|unrecogni[sz]ed command|starttls|[^a-z]tls[^a-z]",
	 NULL, ANY, CLASS_PROTOCOL_ERROR,
	 "RFC 5321 500-504, RFC 3207 STARTTLS"},

	/* 3. The enhanced code alone (RFC 3463, RFC 7372, RFC 7505). */
	{NULL, "*.1.1", ANY, CLASS_INVALID_RECIPIENT, "X.1.1 bad destination mailbox"},
	{NULL, "*.1.2", ANY, CLASS_INVALID_DOMAIN, "X.1.2 bad destination system"},
	{NULL, "*.1.3", ANY, CLASS_INVALID_RECIPIENT, "X.1.3 bad mailbox syntax"},
	{NULL, "*.1.4", ANY, CLASS_INVALID_RECIPIENT, "X.1.4 ambiguous mailbox"},
	{NULL, "*.1.6", ANY, CLASS_INACTIVE_MAILBOX, "X.1.6 mailbox has moved"},
	{NULL, "*.1.10", ANY, CLASS_INVALID_DOMAIN, "X.1.10 null MX (RFC 7505)"},
	{NULL, "*.2.1", ANY, CLASS_INACTIVE_MAILBOX, "X.2.1 mailbox disabled"},
	{NULL, "*.2.2", ANY, CLASS_MAILBOX_FULL, "X.2.2 mailbox full"},
	{NULL, "*.2.3", ANY, CLASS_POLICY_REJECTION, "X.2.3 message too long"},
	{NULL, "*.3.1", ANY, CLASS_TRANSIENT_FAILURE, "X.3.1 mail system full"},
	{NULL, "*.3.4", ANY, CLASS_POLICY_REJECTION, "X.3.4 message too big"},
	{NULL, "4.4.1", ANY, CLASS_CONNECTION_ERROR, "4.4.1 no answer from host"},
	{NULL, "4.4.2", ANY, CLASS_CONNECTION_ERROR, "4.4.2 bad connection"},
	{NULL, "*.4.3", ANY, CLASS_DNS_FAILURE, "X.4.3 directory (DNS) failure"},
	{NULL, "5.4.4", ANY, CLASS_INVALID_DOMAIN, "5.4.4 unable to route"},
	{NULL, "*.4.6", ANY, CLASS_ROUTING_ERROR, "X.4.6 routing loop"},
	{NULL, "5.5.1", ANY, CLASS_PROTOCOL_ERROR, "5.5.1 invalid command"},
	{NULL, "5.5.2", ANY, CLASS_PROTOCOL_ERROR, "5.5.2 syntax error"},
	{NULL, "5.5.4", ANY, CLASS_PROTOCOL_ERROR, "5.5.4 invalid command arguments"},
	{NULL, "*.6.*", ANY, CLASS_POLICY_REJECTION, "X.6.X message content"},
	{NULL, "*.7.13", ANY, CLASS_INACTIVE_MAILBOX, "X.7.13 user account disabled"},
	{NULL, "*.7.17", ANY, CLASS_INACTIVE_MAILBOX, "X.7.17 mailbox owner changed"},
	{NULL, "*.7.25", ANY, CLASS_SPAM_BLOCK, "X.7.25 reverse DNS failed"},
	{"after MAIL FROM|in reply to MAIL FROM", NULL, PERM,
	 CLASS_POLICY_REJECTION,
	 "Exim, Postfix: the sender refused for a reason not given above"},
	{"rejected|denied|refused|not allowed|prohibited", NULL, PERM,
	 CLASS_POLICY_REJECTION,
	 "any receiver: a refusal that gives no reason the rules know"},
	{NULL, "5.7.*", ANY, CLASS_POLICY_REJECTION, "5.7.X security or policy"},

	/* 4. The SMTP code's class. */
	{NULL, NULL, TEMP, CLASS_TRANSIENT_FAILURE,
	 "RFC 5321 4XX: any other temporary failure"},
};

const size_t classify_rule_count = sizeof(classify_rules) / sizeof(classify_rules[0]);
