-- schema.sql - the fleet-wide event history posthook-fleet-consumer fills.
-- One row per event, whichever host published it and however often:
-- the envelope uuid is the key, so a redelivered or republished event
-- is stored once.
CREATE TABLE IF NOT EXISTS posthook_events (
	uuid          uuid PRIMARY KEY,
	event         text        NOT NULL,  -- MessageSent, MessageBounced, ...
	tenant        text        NOT NULL,
	host_name     text        NOT NULL,  -- the Postfix host that saw it
	queue_id      text,                  -- Postfix queue id on that host
	message_token text,                  -- payload.message.token
	recipient     text,                  -- payload.message.to
	event_time    timestamptz NOT NULL,  -- the envelope's timestamp
	received_at   timestamptz NOT NULL DEFAULT now(),
	body          jsonb       NOT NULL   -- the envelope as published
);
CREATE INDEX IF NOT EXISTS posthook_events_time ON posthook_events (event_time);
CREATE INDEX IF NOT EXISTS posthook_events_token ON posthook_events (message_token);
CREATE INDEX IF NOT EXISTS posthook_events_queue ON posthook_events (host_name, queue_id);
CREATE INDEX IF NOT EXISTS posthook_events_kind
	ON posthook_events (tenant, event, event_time);
