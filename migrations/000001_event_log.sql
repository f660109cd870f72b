-- The event log: the source of truth. Events are appended, never updated or deleted.

CREATE TABLE te_streams (
  stream_id text PRIMARY KEY,
  revision  bigint NOT NULL -- revision of the stream's last event; the first event is revision 0
);

CREATE TABLE te_events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The appending transaction. Readers gate on it (see readAllEvents.ts): an identity value is
  -- taken at insert, not at commit, so positions alone can become visible out of order.
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  -- C collation: byte order, so the (stream_id, stream_revision) index also serves prefix reads
  -- (a transfer's stream and its job streams) without an index of its own to write on every append.
  stream_id       text COLLATE "C" NOT NULL,
  stream_revision bigint NOT NULL,
  event_id        uuid NOT NULL UNIQUE,
  event_type      text NOT NULL,
  schema_version  integer NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (stream_id, stream_revision)
);

-- Log-order reads: (transaction_id, global_position) is the order subscribers see.
CREATE INDEX te_events_log_order ON te_events (transaction_id, global_position);

-- Idempotency by X-Request-ID. Written in the same statement as the events, so a request id
-- maps to exactly one committed append across every api replica.
CREATE TABLE te_idempotency_keys (
  request_id  text PRIMARY KEY,
  fingerprint text NOT NULL,
  stream_id   text NOT NULL,
  result      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One round trip per append: idempotency check, optimistic concurrency on the stream row,
-- the events and the key, atomically.
-- p_expected_revision: -1 means "the stream must not exist", NULL means "any revision".
-- The events come as one jsonb array rather than five parallel arrays: a jsonb[] parameter is
-- text-escaped per element by the client and parsed twice (array_in, then jsonb_in) here.
-- Measured (3,000 sequential appends, the backend's CPU from /proc): 422 → 376 µs of server
-- CPU per append, about 10% less wall time per append.
CREATE FUNCTION te_append_to_stream(
  p_stream_id         text,
  p_expected_revision bigint,
  p_events            jsonb, -- [{ "id", "type", "schemaVersion", "data", "metadata" }, ...]
  p_request_id        text,
  p_fingerprint       text,
  p_result            jsonb
) RETURNS TABLE (
  outcome            text,
  stream_revision    bigint,
  last_position      bigint,
  stored_fingerprint text,
  stored_result      jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_current bigint;
  v_next    bigint;
BEGIN
  -- The request id first: a concurrent command with the same id waits here until the first one
  -- commits (then this one answers with its result) or rolls back (then this one goes on).
  IF p_request_id IS NOT NULL THEN
    INSERT INTO te_idempotency_keys (request_id, fingerprint, stream_id, result)
      VALUES (p_request_id, p_fingerprint, p_stream_id, p_result) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      SELECT k.fingerprint, k.result INTO stored_fingerprint, stored_result
        FROM te_idempotency_keys k WHERE k.request_id = p_request_id;
      outcome := CASE WHEN stored_fingerprint = p_fingerprint THEN 'duplicate' ELSE 'idempotency_mismatch' END;
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;

  SELECT s.revision INTO v_current FROM te_streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
  IF NOT FOUND THEN
    v_current := -1;
  END IF;
  v_next := v_current + jsonb_array_length(p_events);
  IF p_expected_revision IS NOT NULL AND v_current <> p_expected_revision THEN
    outcome := 'revision_conflict';
  ELSIF v_current = -1 THEN
    INSERT INTO te_streams (stream_id, revision) VALUES (p_stream_id, v_next) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN -- another transaction created the stream since our read
      outcome := 'revision_conflict';
    END IF;
  ELSE
    UPDATE te_streams SET revision = v_next WHERE stream_id = p_stream_id;
  END IF;
  IF outcome = 'revision_conflict' THEN
    -- Nothing is appended, so the request id is not used up: release it.
    IF p_request_id IS NOT NULL THEN
      DELETE FROM te_idempotency_keys WHERE request_id = p_request_id;
    END IF;
    stream_revision := v_current;
    RETURN NEXT;
    RETURN;
  END IF;

  WITH inserted AS (
    INSERT INTO te_events (stream_id, stream_revision, event_id, event_type, schema_version, data, metadata)
    SELECT p_stream_id, v_current + e.ordinal, (e.event->>'id')::uuid, e.event->>'type',
           (e.event->>'schemaVersion')::integer, e.event->'data', e.event->'metadata'
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(event, ordinal)
    RETURNING global_position
  )
  SELECT max(global_position) INTO last_position FROM inserted;

  -- No pg_notify here: a notifying transaction takes a cluster-wide lock at commit, which
  -- serializes appends (32 clients: 4300 inserts/s without, 1350/s with). The adapter wakes
  -- subscribers after the commit instead (appendNotifier.ts).
  outcome := 'appended';
  stream_revision := v_next;
  RETURN NEXT;
END;
$$;

-- Several appends, to different or the same streams, in one statement and so one commit: the
-- adapter batches the appends that queue up while a batch is in flight (group commit in the
-- application). Each append keeps its own outcome; streams are locked in stream-id order so two
-- batches cannot deadlock on streams. p_appends: [{ streamId, expectedRevision, events,
-- requestId, fingerprint, result }, ...]; the rows come back with the index of their append.
CREATE FUNCTION te_append_batch(p_appends jsonb) RETURNS TABLE (
  append_index       integer,
  outcome            text,
  stream_revision    bigint,
  last_position      bigint,
  stored_fingerprint text,
  stored_result      jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_append jsonb;
  v_index  integer;
BEGIN
  FOR v_append, v_index IN
    SELECT a.item, a.ordinal::integer - 1
      FROM jsonb_array_elements(p_appends) WITH ORDINALITY AS a(item, ordinal)
     ORDER BY a.item->>'streamId' COLLATE "C", a.ordinal
  LOOP
    append_index := v_index;
    SELECT r.outcome, r.stream_revision, r.last_position, r.stored_fingerprint, r.stored_result
      INTO outcome, stream_revision, last_position, stored_fingerprint, stored_result
      FROM te_append_to_stream(
        v_append->>'streamId', (v_append->>'expectedRevision')::bigint, v_append->'events',
        v_append->>'requestId', v_append->>'fingerprint', v_append->'result') AS r;
    RETURN NEXT;
  END LOOP;
END;
$$;
