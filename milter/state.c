/*
 * state.c - per-connection and per-message state of the milter.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state.h"
#include "track.h"

/* conn_state_new - a connection's state. */
struct conn_state *
conn_state_new(struct milter_settings *set)
{
	struct conn_state *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->set = settings_hold(set);
	return cs;
}

/* conn_state_free - the connection is gone. */
void
conn_state_free(struct conn_state *cs)
{
	if (cs == NULL)
		return;
	msg_state_free(cs->msg);
	free(cs->daemon_name);
	settings_release(cs->set);
	free(cs);
}

/* msg_state_new - a message's state. */
struct msg_state *
msg_state_new(void)
{
	struct msg_state *ms = calloc(1, sizeof(*ms));

	if (ms != NULL)
		ms->spam = SPAM_NOT_CHECKED;
	return ms;
}

/* msg_state_free - release a message's state. */
void
msg_state_free(struct msg_state *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	free(ms->queue_id);
	free(ms->sasl_username);
	free(ms->from);
	for (i = 0; i < ms->nrcpts; i++)
		free(ms->rcpts[i]);
	free(ms->rcpts);
	free(ms->tag);
	free(ms->metadata);
	free(ms->token);
	free(ms->subject);
	free(ms->message_id);
	free(ms->track_hdr);
	free(ms->ctype);
	free(ms->cte);
	free(ms->list_unsub);
	track_msg_free(ms->track);
	free(ms);
}

/* strip_angle - "<a@b>" to "a@b"; "<>" to "". */
char *
strip_angle(const char *addr)
{
	size_t len = strlen(addr);

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
		return strndup(addr + 1, len - 2);
	return strdup(addr);
}

/* msg_add_rcpt - append one recipient. */
int
msg_add_rcpt(struct msg_state *ms, const char *rcpt)
{
	char *copy;

	if (ms->nrcpts == ms->rcpts_cap) {
		size_t cap = ms->rcpts_cap ? 2 * ms->rcpts_cap : 4;
		char **n = realloc(ms->rcpts, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		ms->rcpts = n;
		ms->rcpts_cap = cap;
	}
	if ((copy = strip_angle(rcpt)) == NULL)
		return -1;
	ms->rcpts[ms->nrcpts++] = copy;
	return 0;
}

/* keep_first - copy value into *slot unless it is set; -1 when OOM. */
static int
keep_first(char **slot, const char *value, size_t max)
{
	if (*slot != NULL)
		return 0;
	*slot = strndup(value, max);
	return *slot != NULL ? 0 : -1;
}

/* msg_see_header - note the headers the milter acts on. */
int
msg_see_header(struct msg_state *ms, const struct milter_settings *set, const char *name,
	       const char *value)
{
	enum spam_status sp;

	if (strcasecmp(name, set->hdr_tag) == 0) {
		ms->ntag++;
		return keep_first(&ms->tag, value, STATE_RAW_MAX);
	}
	if (strcasecmp(name, set->hdr_metadata) == 0) {
		if (++ms->nmetadata == 1 && strlen(value) > STATE_RAW_MAX)
			ms->metadata_huge = 1;
		return keep_first(&ms->metadata, value, STATE_RAW_MAX);
	}
	if (strcasecmp(name, set->hdr_token) == 0) {
		ms->ntoken++;
		return keep_first(&ms->token, value, 256);
	}
	if (strcasecmp(name, set->hdr_track) == 0) {
		ms->ntrack++;
		return keep_first(&ms->track_hdr, value, 256);
	}
	if (strcasecmp(name, "Content-Type") == 0)
		return keep_first(&ms->ctype, value, STATE_RAW_MAX);
	if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
		return keep_first(&ms->cte, value, 256);
	if (strcasecmp(name, "List-Unsubscribe") == 0)
		return keep_first(&ms->list_unsub, value, STATE_RAW_MAX);
	if (strcasecmp(name, "DKIM-Signature") == 0 || strcasecmp(name, "ARC-Seal") == 0)
		ms->app_signed = 1;
	if (strcasecmp(name, "Subject") == 0)
		return keep_first(&ms->subject, value, STATE_RAW_MAX);
	if (strcasecmp(name, "Message-ID") == 0)
		return keep_first(&ms->message_id, value, 1000);
	if ((sp = spam_status_from_header(name, value)) != SPAM_NOT_CHECKED)
		ms->spam = sp;
	return 0;
}
