/*
 * classify_vocab.c - the general vocabulary of bounce causes: Postfix's own
 * texts, the generic prefixes of replies, the words of each cause, and the
 * weak words that say "refused" and not why.
 *
 * Each rule has a POSIX extended regular expression matched, ignoring case,
 * against the reply (a multi-line reply without its continuation codes),
 * an optional code condition, an optional temporary or permanent condition,
 * the classification, and where its wording comes from: an RFC, an MTA's
 * own source texts (Postfix, Exim, Sendmail, qmail, Exchange/Office 365,
 * Domino, Courier, OpenSMTPD, Zimbra, Haraka, Dovecot, amavis) or the
 * large receivers' published reply pages.  A provider's wording that
 * contradicts the general reading is in classify_provider.c, not here.
 *
 * Order and tie-breaks (classify_int.h gives the layers):
 *  - Postfix's own texts first: they are exact, and the remote said nothing.
 *  - The cause vocabulary is matched on the cause: the text after the last
 *    generic prefix (classify_prefixes[]), so that "Recipient address
 *    rejected: Greylisted" is greylisting and not an unknown recipient;
 *    the cause decides, not the prefix.  A recipient's trouble named in a
 *    reply about the sender (a sender prefix, a reply to MAIL FROM, X.1.7,
 *    X.1.8) is a refusal of the sender: policy_rejection; in a refusal of
 *    the sending host (its greeting, HELO name, client address) it is
 *    that host's block: spam_block ("my name was rejected: Invalid
 *    domain name" is about our HELO name).
 *  - Within the causes, first match wins, and the order is:
 *    transport security, greylisting, loops and relaying, the sender's own
 *    address, content judged spam or malware, attachments and the
 *    recipient's own filter, authentication of the sender, blocklists and
 *    the sending host's reputation and reverse DNS, spam in other words,
 *    size and form, mailing lists, the recipient's mailbox (disabled, then
 *    the sender's quota and a full system, then full, then the domain,
 *    then unknown), rate limits, the receiving system's trouble, a
 *    connection that failed, then an expired queue, then protocol errors.
 *    Why: a specific cause beats a general one that can occur in the same
 *    reply ("blocked as spam" names content before "blocked" names a
 *    host); a cause beats its consequence (a connection that timed out
 *    until the queue expired is a connection error); what concerns the
 *    sender or the message beats what a reply says of the mailbox, which a
 *    filter often claims instead of its reason.
 *  - Then the status code's detail (classify_status.c), then the prefix's
 *    own reading (a client or HELO refusal is the sending host's block, a
 *    sender refusal is policy), then the weak words, then the code's
 *    subject and class.
 */
#include "classify/classify_int.h"

#define ANY CLASSIFY_ANY
#define TEMP CLASSIFY_TEMP
#define PERM CLASSIFY_PERM

/* Postfix's own texts: its smtp client's words, not a remote's reply. */
const struct classify_rule classify_postfix[] = {
	{ "loops back to myself", NULL, ANY, CLASS_ROUTING_ERROR,
	  "Postfix smtp: the MX points back to this host", NULL, NULL },
	{ "TLS is required, but|cannot start TLS|TLS handshake|"
	  "server certificate not (verified|trusted)|untrusted issuer|"
	  "certificate verification failed",
	  NULL, ANY, CLASS_PROTOCOL_ERROR,
	  "Postfix smtp: smtp_tls_security_level encrypt/verify failures", NULL, NULL },
	{ "(host or domain name not found|name service error).*try again|"
	  "malformed or unexpected name server reply|host name lookup failure|"
	  "temporary failure in name resolution",
	  NULL, ANY, CLASS_DNS_FAILURE, "Postfix smtp, sendmail: temporary DNS failure",
	  NULL, NULL },
	{ "(^|[^a-z])connect to [^ ]+(\\[[^]]*\\])?(:[0-9]+)?: |"
	  "lost connection with|conversation with .* timed out",
	  NULL, ANY, CLASS_CONNECTION_ERROR,
	  "Postfix smtp: connection refused, timed out, lost", NULL, NULL },
};

const size_t classify_postfix_count =
    sizeof(classify_postfix) / sizeof(classify_postfix[0]);

/*
 * The generic prefixes: the cause is read after the last one in the
 * reply that is cut.  Prefixes that name a subject give their reading when
 * the cause names nothing; the last one that is cut decides the subject,
 * else the last one that only names it.
 */
const struct classify_prefix classify_prefixes[] = {
	{ "recipient address rejected:", SUBJECT_RECIPIENT, CLASS_NONE, 1,
	  "Postfix smtpd check_recipient_access, reject_unlisted_recipient" },
	{ "recipient address rejected: access denied", SUBJECT_RECIPIENT,
	  CLASS_INVALID_RECIPIENT, 1,
	  "Postfix smtpd: check_recipient_access REJECT's default text, the "
	  "address refused and no cause given; Exchange Online's 5.4.1 page "
	  "says the same words for a recipient its directory does not have" },
	{ "sender address rejected:", SUBJECT_SENDER, CLASS_POLICY_REJECTION, 1,
	  "Postfix smtpd check_sender_access, reject_unknown_sender_domain" },
	{ "client host rejected:", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "Postfix smtpd check_client_access, reject_rbl_client" },
	{ "helo command rejected:", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "Postfix smtpd check_helo_access, reject_invalid_helo_hostname" },
	{ "after initial connection:", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "Exim: \"SMTP error from remote mail server after initial connection\"" },
	{ "after ehlo", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "Exim: \"SMTP error from remote mail server after EHLO\"" },
	{ "after helo", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "Exim: \"SMTP error from remote mail server after HELO\"" },
	{ "but my name was rejected", SUBJECT_CLIENT, CLASS_SPAM_BLOCK, 1,
	  "qmail-remote: \"Connected to X but my name was rejected.\"" },
	{ "but sender was rejected", SUBJECT_SENDER, CLASS_POLICY_REJECTION, 1,
	  "qmail-remote: \"Connected to X but sender was rejected.\"" },
	{ "does not like recipient", SUBJECT_RECIPIENT, CLASS_NONE, 1,
	  "qmail-remote: \"X does not like recipient.\"" },
	{ "technical details of temporary failure:", SUBJECT_NONE, CLASS_NONE, 1,
	  "Gmail's delivery status notification" },
	{ "technical details of permanent failure:", SUBJECT_NONE, CLASS_NONE, 1,
	  "Gmail's delivery status notification" },
	{ "said:", SUBJECT_NONE, CLASS_NONE, 1,
	  "Postfix \"host X said:\", qmail \"Remote host said:\"" },
	{ "remote server returned", SUBJECT_NONE, CLASS_NONE, 1,
	  "Exchange NDR \"Remote Server returned '...'\"" },
	{ "responded with failure:", SUBJECT_NONE, CLASS_NONE, 1,
	  "MailFoundry, Barracuda relays: \"HOST responded with failure:\"" },
	{ "in reply to mail from command", SUBJECT_SENDER, CLASS_POLICY_REJECTION, 0,
	  "Postfix: \"(in reply to MAIL FROM command)\"" },
	{ "after mail from", SUBJECT_SENDER, CLASS_POLICY_REJECTION, 0,
	  "Exim: \"SMTP error from remote mail server after MAIL FROM\"" },
};

const size_t classify_prefix_count =
    sizeof(classify_prefixes) / sizeof(classify_prefixes[0]);
_Static_assert(sizeof(classify_prefixes) / sizeof(classify_prefixes[0])
		   <= CLASSIFY_PREFIX_MAX,
	       "find_cause keeps a 32-bit mask of prefixes");

/* The cause vocabulary, in the order of the header comment. */
const struct classify_rule classify_causes[] = {
	/* Transport security. */
	{ "certificate(-| is )expired|tlsa-invalid|dnssec-invalid|failed dane|"
	  "must issue a starttls command first|encryption required|"
	  "tls (is )?required",
	  NULL, ANY, CLASS_PROTOCOL_ERROR,
	  "Exchange Online DANE 5.7.322-5.7.324; sendmail/Postfix smtpd "
	  "\"Must issue a STARTTLS command first\"; RFC 3207 530",
	  NULL, NULL },

	/* Greylisting, loops, relaying. */
	{ "grey ?-?list|gray ?-?list|try again slower", NULL, ANY,
	  CLASS_TRANSIENT_FAILURE,
	  "Postgrey \"Greylisted, see ...\", Exim greylisting ACLs; Postfix "
	  "policy \"Please try again slower\"",
	  NULL, NULL },
	{ "mail loop|routing loop|loop detected|hop count|too many hops", NULL, ANY,
	  CLASS_ROUTING_ERROR,
	  "RFC 5321 6.3 loop detection: sendmail \"Too many hops\", Exchange "
	  "5.4.14, qmail, Domino \"Maximum hop count exceeded\"",
	  NULL, NULL },
	{ "relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)|"
	  "not (configured|authorized|permitted|allowed) to relay|unable to relay|"
	  "insecure mail relay|we do not relay|relay not permitted|"
	  "as a relay|not a gateway|"
	  "relaying mail to|(don't|do not) handle mail for|not an open relay|"
	  "invalid credentials for relay|to a non-local e-?mail address|"
	  "allowed rcpthosts",
	  NULL, ANY, CLASS_ROUTING_ERROR,
	  "Postfix \"Relay access denied\", sendmail \"Relaying denied\", "
	  "Exchange 5.7.54 \"Unable to relay\", qmail \"allowed rcpthosts\", "
	  "Domino, MailEnable",
	  NULL, NULL },

	/* The sender's own address. */
	{ "sender address rejected|domain of sender address|"
	  "sender verif(y|ication) failed|"
	  "sender (domain|address) (is )?(invalid|unknown|does not exist)|"
	  "from: domain is invalid|sender e-?mail address rejected|"
	  "invalid sender|not owned by user|"
	  "(sender|mail from)('s)? domain( [^ ]+)? (does not|doesn't) exist|"
	  "unroute?able sender|sender'?s? domain (has no|not found|is unresolvable)|"
	  "backscatter|sender account (is |has been )?(disabled|blocked|suspended)|"
	  "mail sending denied|(account|client) (has been |is )?blocked from sending",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "Postfix reject_unknown_sender_domain, reject_sender_login_mismatch; "
	  "Exim sender callout; sendmail \"Domain of sender address\"; "
	  "Exchange 5.7.750; a blocklisted sender stays spam_block "
	  "(seed: \"IP or domain blocklisted\")",
	  NULL, NULL },

	/* Content judged spam or malware. */
	{ "scored as spam|spam classification|"
	  "suspicion of spam|spam message rejected|likely unsolicited mail|"
	  "(message|mail|content|email) (was |is |has been )?"
	  "(rejected|blocked|flagged|identified|detected|classified|refused) "
	  "(as|due to|for|because of|by) ([a-z]+ )?(spam|junk|bulk)|"
	  "(message|content) (was |is )?rejected as spam|"
	  "content rejected|[^a-z]ube[^a-z]|blacklisted url|uribl|surbl|"
	  "spam (content|detected|signature)|looks like spam|considered (as )?spam|"
	  "appears to be (spam|junk|unsolicited)|"
	  "virus|malware|infected|probability of spam|"
	  "rejected (due to|because of|for|as) spam|"
	  "reject, id=[^ ]+ - (spam|virus|infected)",
	  NULL, ANY, CLASS_SPAM_CONTENT,
	  "amavisd-new \"Reject, id=... - SPAM\"/\"- VIRUS\", SpamAssassin, "
	  "Barracuda \"Message content rejected, UBE\", Proofpoint, Mimecast, "
	  "ClamAV milters, URIBL/SURBL",
	  NULL, NULL },
	{ "(bad|banned|blocked|prohibited|forbidden|dangerous|unacceptable|"
	  "not allowed) (attachment|file)|reject, id=[^ ]+ - banned|"
	  "attachment (extension|type)",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "attachment policies: amavisd-new BANNED, Exchange attachment "
	  "filtering, Mimecast",
	  NULL, NULL },
	{ "message filtered|"
	  "purported responsible address|user reject|"
	  "refuses? to receive|blocked by the recipient|not accepting any mail|"
	  "only accepting mail from specific|account is protected by|"
	  "recipient'?s? (preferences|settings|filter)",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "Sender ID (RFC 4407 PRA: Courier, Exchange); the recipient's own "
	  "filter: Amazon SES \"Message Filtered\", AOL, Japanese carriers, "
	  "Facebook's published \"recipient preferences\"",
	  NULL, NULL },

	/* Authentication of the sender: SPF, DKIM, DMARC, SMTP AUTH. */
	{ "dmarc|[^a-z]spf[^a-z]|dkim|sender policy framework|"
	  "authentication (checks? )?(failed|required)|unauthenticated|"
	  "not authenticated|authrequired|sendernotauthenticated|"
	  "not allowed to send from|must (first )?authenticate|"
	  "requires? (smtp )?auth(entication)?|auth(entication)? is required|"
	  "authentication needed",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "RFC 7372 X.7.26; RFC 4954 530 \"Authentication required\"; "
	  "Exchange RESOLVER.RST.AuthRequired; Gmail 5.7.26, Outlook 5.7.509, "
	  "Yahoo, iCloud published DMARC/SPF replies",
	  NULL, NULL },

	/* Blocklists, the sending host's reputation and reverse DNS. */
	{ "not accepting connections|traffic not accepted from this ip", NULL, ANY,
	  CLASS_SPAM_BLOCK,
	  "iCloud/me.com \"not accepting connections\", Exchange Online 5.7.708 "
	  "page \"traffic not accepted from this IP\"",
	  NULL, NULL },
	{ "spamhaus|spamcop|sorbs|barracuda|uceprotect|abuseat|psbl|"
	  "invaluement|mailspike|dnsbl|[^a-z]rbl|blocked using|"
	  "(is|are|was|been|currently) (black|block|deny)?listed|"
	  "black ?list|block ?list|deny ?list|reputation|blocked for abuse|"
	  "open relay|my name was rejected|(user|spam|abuse) complaints|"
	  "please use the smtp server of your isp|dynamic ip|dial-?up|"
	  "residential",
	  NULL, ANY, CLASS_SPAM_BLOCK,
	  "DNSBLs (Spamhaus, SpamCop, SORBS, Barracuda, UCEPROTECT), Postfix "
	  "reject_rbl_client \"blocked using\", sendmail, qmail \"my name was "
	  "rejected\", dynamic/residential IP policies; complaints against the "
	  "sender (Yahoo TSS04, Outlook published reputation pages)",
	  NULL, NULL },
	{ "[^a-z]ptr[^a-z]|reverse dns|[^a-z]rdns|reverse (dns )?lookup|"
	  "ip name lookup failed|cannot find your (reverse )?hostname|"
	  "may not be mail exchanger",
	  NULL, ANY, CLASS_SPAM_BLOCK,
	  "Postfix reject_unknown_client_hostname \"cannot find your "
	  "hostname\", sendmail \"IP name lookup failed\", RFC 7372 X.7.25",
	  NULL, NULL },
	{ "(^|[^a-z])(ip( address)?|server at)( \\(?\\[?[0-9a-f.:]+\\]?\\)?)? (has been |is |was )?"
	  "(temporarily )?(blocked|banned|blacklisted|listed as abusive)|"
	  "mail from your (mail server'?s )?ip|forbidden by your ip|"
	  "(bad|invalid|banned|forbidden|unauthori[sz]ed) "
	  "(sender |sending |client )?ip([^a-z]|$)|"
	  "(mismatch(es)?|does not match|doesn't match) (the )?(client|sending|connecting) ip|"
	  "spam ips?([^a-z]|$)|open proxy|like (a )?spammer|"
	  "too many spams|(are|is) (currently )?sending spam|"
	  "too many (invalid|unknown|bad) recipients|sender ip (address )?rejected|"
	  "bad helo|helo/ehlo (argument|parameter)|client host blocked",
	  NULL, ANY, CLASS_SPAM_BLOCK,
	  "the sending IP or host refused: sendmail access db, Postfix HELO "
	  "restrictions, EarthLink, Spectrum published replies",
	  NULL, NULL },
	{ "(probable|probably|is|as|be|being|for|no|like|much|accept|consider|"
	  "considered|suspected|similar to|from) spam([^a-z]|$)|"
	  "spam (blocked|block|check|e-?mail|not accepted|refused|rejection|"
	  "score|points|filter|message|is)|spam-like|\\(spam\\)|"
	  "spamassassin|spamprofiler|spambouncer|anti-? ?spam|content filter|"
	  "bulk[ .](e-?mail|mail|advertising)|mass mailer|"
	  "recurrent pattern detection|content denied",
	  NULL, ANY, CLASS_SPAM_CONTENT,
	  "SpamAssassin, amavis, Trustwave, Cyberoam, Cyren RPD, Exchange "
	  "content filter agent",
	  NULL, NULL },

	/* The message's size and form; security policies of gateways. */
	{ "message (size|length)( [0-9]+)? exceeds|exceeds (the )?size limit|"
	  "(message|mail|e-?mail) size limit|maximum (e-?mail |message )?size|"
	  "maximum allowed size|"
	  "(e-?mail|message|mail) size exceeded|"
	  "message (is )?too (big|large)|line limit exceeded|line too long|"
	  "headers? (is |are )?too (large|long)|too many headers|header error|"
	  "rfc ?5322|rfc ?2?822|multiple addresses in from|duplicate header|"
	  "8-bit data|policy violation|policy reasons|policy restrictions|"
	  "not accepted for policy|protocol violation|anti-spoofing|"
	  "administrative prohibition|security polic|network not allowed|"
	  "violat(es|ed|ion of) (our |the |local |company )?([a-z]+ )?polic|"
	  "(blocked|rejected|quarantined|denied) (by|due to) (the |our |local )?"
	  "([a-z]+ )?(security|e-?mail|mail|content|data loss|dlp) "
	  "(polic|filter|gateway|rule)",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "RFC 5321 4.5.3 size/line limits (sendmail \"Message size exceeds "
	  "fixed maximum message size\", Postfix \"message size limit\"), "
	  "RFC 5322 form (Gmail), Exim \"administrative prohibition\", Yahoo "
	  "5.7.9, Sophos/Proofpoint/Mimecast/Cisco policy rejections",
	  NULL, NULL },

	/* Mailing lists. */
	{ "not a member|non-?members?( are)? not allowed|members only|"
	  "only (list )?members|not subscribed|subscribers only|"
	  "(list|group) (is )?moderated|not allowed to post|"
	  "no permission to post|may not post|posting (is )?(restricted|not allowed)",
	  NULL, ANY, CLASS_POLICY_REJECTION,
	  "Mailman \"Post by non-member\", Sympa, Google Groups, ezmlm: "
	  "posting restricted to members",
	  NULL, NULL },

	/* The recipient's mailbox: disabled, moved, locked. */
	{ "account (has been |is |was )?(disabled|deactivated|suspended|inactive|"
	  "expired|locked|closed|terminated|discontinued|frozen)|"
	  "(disabled|inactive|suspended|deactivated|closed|expired|frozen|locked) "
	  "(account|mailbox|recipient|user)|"
	  "mailbox (is |has been )?(disabled|inactive|suspended|closed|deactivated|"
	  "locked|frozen)|"
	  "no longer (on (this )?server|active|in use|available|valid)|"
	  "user not local|has moved|"
	  "recipient account is blocked|"
	  "(address|recipient) is (currently )?deactivated|"
	  "(account|mailbox|address)( that)? you tried to reach is "
	  "(disabled|inactive|suspended)",
	  NULL, ANY, CLASS_INACTIVE_MAILBOX,
	  "RFC 5321 551 \"User not local\", \"has moved\"; "
	  "mailbox servers' \"account is locked/closed/frozen\"; Exchange disabled mailbox; "
	  "Apple \"recipient no longer on server\"; Gmail's published 5.2.1 "
	  "\"account that you tried to reach is disabled\"",
	  NULL, NULL },
	{ "(daily|hourly|sending|submission) ([a-z]+ )?quota|"
	  "submissionquotaexceeded",
	  NULL, ANY, CLASS_TRANSIENT_FAILURE,
	  "Exchange SubmissionQuotaExceeded, Amazon SES sending quota: the "
	  "sender's quota, not the mailbox's",
	  NULL, NULL },
	{ "insufficient (system (resources|storage)|disk space)", NULL, ANY,
	  CLASS_TRANSIENT_FAILURE,
	  "RFC 5321 452 \"Insufficient system storage\", Exchange 4.3.1, "
	  "sendmail 4.4.5: the receiving system is full",
	  NULL, NULL },
	{ "mail ?box (is |was )?full|mailbox.{0,40} full|over ?quota|"
	  "quota ?(exceeded|reached|full|exhausted)|"
	  "exceeds? (the |its |allowed |their )*(quota|storage|size)|"
	  "(reached|exceeded|exceeds?) (the |its |their |his |her )?"
	  "(mailbox |storage |disk |inbox )(quota|limit|size)|"
	  "mail ?folder is full|inbox is full|account is full|"
	  "out of storage|storage (quota|limit|space)|disk quota|"
	  "not enough (disk )?space|mailbox size limit|user.{0,20} is full|"
	  "would exceed (the )?(mailbox|quota)|"
	  "too many messages (on the server|in (the |this |his |her |their )?"
	  "(mailbox|inbox))",
	  NULL, ANY, CLASS_MAILBOX_FULL,
	  "Dovecot \"Quota exceeded (mailbox for user is full)\", Courier "
	  "maildrop \"maildir over quota\", Exim appendfile \"mailbox is full\", "
	  "qmail, Zimbra, sendmail \"Mailbox full\", Exchange STOREDRV "
	  "QuotaExceededException, Gmail/Outlook/Yahoo pages",
	  NULL, NULL },
	{ "dns query failed|"
	  "dns (lookup|server|resolving|resolution) (error|failure|failed|timeout|timed out)|"
	  "servfail|temporary dns",
	  NULL, ANY, CLASS_DNS_FAILURE,
	  "Exchange 5.4.312 \"DNS query failed\", RFC 1035 SERVFAIL, Exim "
	  "\"DNS timeout\": the domain's DNS did not answer",
	  NULL, NULL },
	{ "host unknown|unknown host|domain (does not|doesn't|did not) exist|"
	  "no such (domain|host)|domain (name )?not found|nxdomain|"
	  "illegal host/domain|does not accept mail|no (mx|mail exchanger)|"
	  "no smtp service|couldn't find (a mail exchanger|any host)|null mx|"
	  "doesn't receive email|bad destination system|"
	  "domain is not reachable|invalid domain|unroute?able|"
	  "host or domain name not found|no relevant answers|unknown domain|"
	  "domain [^ ]+ (does not|doesn't) exist|domain (is )?(not valid|unknown)|"
	  "unresolvable",
	  NULL, ANY, CLASS_INVALID_DOMAIN,
	  "Postfix 5.4.4 \"Host or domain name not found\", sendmail \"Host "
	  "unknown\", qmail \"couldn't find any host named\", Exim \"Unrouteable "
	  "address\", NXDOMAIN wordings (\"Domain does not exist\"), RFC 7505 null MX",
	  NULL, NULL },
	{ "user unknown|unknown user|unknown (recipient|mailbox|account|local ?part)|"
	  "unknown address([^ ]| [^e]|$)|no such (user|mailbox|recipient|address|account|person)|"
	  "(user|recipient|mailbox|address|account|addressee)( name)? "
	  "(does not|doesn't|did not) exist|"
	  "(user|recipient|mailbox|address) (is |was )?not found|recip(ient)?notfound|"
	  "invalid (final delivery )?(recipient|mailbox|user|address|userid)|"
	  "not a valid (recipient|mailbox|user)|mailbox (unavailable|not found)|"
	  "address (not found|unknown)|not listed in|no mailbox here|"
	  "illegal alias|nosuchuser|"
	  "bad destination mailbox|undeliverable address|"
	  "no valid recipients|"
	  "(recipient|mailbox|user)( address)? is (invalid|unknown|not valid)|"
	  "badrcptto|badrecipientto|validrcptto|"
	  "envelope recipient (has been denied|is in my)",
	  NULL, ANY, CLASS_INVALID_RECIPIENT,
	  "Postfix \"User unknown in local recipient table\", sendmail \"User "
	  "unknown\", Exim \"unknown user\", qmail \"no mailbox here by that "
	  "name\", Exchange RESOLVER.ADR.RecipNotFound, Domino, Courier, qmail "
	  "badrcptto/validrcptto patches",
	  NULL, NULL },
	{ "(bad|malformed|illegal) (recipient |destination |e-?mail )?address|"
	  "address syntax|syntax error in (the )?(recipient|address|mailbox)|"
	  "(improperly|incorrectly) formatted|need fully-qualified address|"
	  "(does not|doesn't) have an? ([^ ]+ )?account|"
	  "(account|mailbox|address)( that)? you tried to reach "
	  "(does not|doesn't) exist",
	  NULL, ANY, CLASS_INVALID_RECIPIENT,
	  "RFC 5321 501/553 mailbox syntax (Postfix \"malformed address\", "
	  "sendmail \"Bad recipient address syntax\", Postfix reject_non_fqdn_recipient "
	  "\"need fully-qualified address\"); Gmail's and Yahoo's "
	  "published 5.1.1/554 replies",
	  NULL, NULL },

	/* Rate limits, the receiving system's trouble. */
	{ "rate limit|rate-limit|ratelimit|too many (messages|connections|"
	  "recipients|mails|emails|concurrent)|frequency limited|"
	  "receiving mail at a rate|sending (quota|limit)|throttl|"
	  "sent to too many|"
	  "receiving mail too (quickly|fast)|"
	  "(relay|receive|thread|session|hourly|daily) limit|"
	  "max(imum)? number of messages|messages per (session|hour|connection)|"
	  "too many (smtp )?sessions|exceeded permitted limits|exceeded threshold",
	  NULL, ANY, CLASS_TRANSIENT_FAILURE,
	  "RFC 5321 421/452, Postfix anvil \"too many connections\", Exim "
	  "ratelimit ACL, Gmail ReceivingRate page",
	  NULL, NULL },
	{ "system (error|failure)|internal (server |system )?error|"
	  "temporar(il)?y (unavailable|failure|error|problem)|"
	  "service (is )?(currently )?unavailable|local error in processing|"
	  "config(uration)? error|misconfigured|"
	  "incorrectly configured",
	  NULL, ANY, CLASS_TRANSIENT_FAILURE,
	  "RFC 5321 451 \"Requested action aborted: local error in "
	  "processing\", 421 \"Service not available\", Exchange",
	  NULL, NULL },

	/* A connection that failed, then an expired queue: the cause first. */
	{ "connection (refused|timed out|reset|dropped|closed|lost|failed)|"
	  "no route to host|network (error|failure|is unreachable|unreachable)|"
	  "host (is )?(not reachable|unreachable)|"
	  "(unable|could not|couldn't|failed|cannot) to connect|"
	  "unable to connect|establish an? (smtp )?connection|socket error|"
	  "timed out|(read|write) timeout|timeout (reading|writing|waiting)|"
	  "broken pipe|did not accept our requests to connect",
	  NULL, ANY, CLASS_CONNECTION_ERROR,
	  "RFC 5321 421; qmail \"wasn't able to establish an SMTP connection\", "
	  "sendmail \"Connection refused by\", Exim \"Connection timed out\", "
	  "Exchange \"unable to connect\", Gmail's published 4.4.1 notice",
	  NULL, NULL },
	{ "expired|in the queue too long|could not be delivered for|"
	  "not delivered within|retry timeout exceeded|could not deliver for|"
	  "giving up|will be deleted from queue|unable to deliver .*(after|within)|"
	  "has been delayed|will be retried|"
	  "(failed|after) [0-9]+ (delivery )?attempts|"
	  "failing for a long time",
	  NULL, ANY, CLASS_TRANSIENT_FAILURE,
	  "queue lifetime reached: qmail \"in the queue too long\", sendmail "
	  "\"could not be delivered for\", Exim \"retry timeout exceeded\", "
	  "OpenSMTPD \"Envelope expired\", Exchange",
	  NULL, NULL },
	{ "improper sequence|command parameter not implemented|syntax error|"
	  "bad syntax|"
	  "command not recognized|unrecogni[sz]ed command|starttls|[^a-z]tls[^a-z]",
	  NULL, ANY, CLASS_PROTOCOL_ERROR, "RFC 5321 500-504, RFC 3207 STARTTLS", NULL,
	  NULL },
};

const size_t classify_causes_count = sizeof(classify_causes) / sizeof(classify_causes[0]);

/* Words that name no cause: after the codes and the prefix's reading. */
const struct classify_rule classify_weak[] = {
	/*
	 * "Try later" says what to do, not why: after the prefix's reading
	 * (a greeting that refuses us and says "try later" is a block), and
	 * only for a temporary reply (in a permanent failure it is an
	 * earlier attempt's answer).
	 */
	{ "try (again )?later|temporarily deferred", NULL, TEMP, CLASS_TRANSIENT_FAILURE,
	  "RFC 5321 421/450/451 replies: \"try again later\"", NULL, NULL },
	{ "rejected|denied|refused|not allowed|prohibited|not accepted", NULL, PERM,
	  CLASS_POLICY_REJECTION,
	  "any receiver: a refusal that gives no reason the rules know", NULL, NULL },
};

const size_t classify_weak_count = sizeof(classify_weak) / sizeof(classify_weak[0]);
