-- Read models written by the projector. Each projection's checkpoint commits in the same
-- transaction as its rows, so a projection is exactly-once in effect.

-- The checkpoint is the log's opaque position; a batch commits only if the row still holds the
-- checkpoint the batch started from, so a replay or a second projector never double-applies.
CREATE TABLE te_projection_checkpoints (
  projection text PRIMARY KEY,
  checkpoint text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE te_transfers (
  transfer_id     uuid PRIMARY KEY,
  status          text NOT NULL,
  name            text,
  source          jsonb NOT NULL,
  total_bytes     bigint,
  piece_length    integer,
  piece_count     integer,
  nodes_total     integer NOT NULL DEFAULT 0,
  nodes_completed integer NOT NULL DEFAULT 0,
  nodes_failed    integer NOT NULL DEFAULT 0,
  chunks_verified bigint NOT NULL DEFAULT 0, -- summed over nodes
  bytes_verified  bigint NOT NULL DEFAULT 0,
  progress        double precision GENERATED ALWAYS AS (
    CASE WHEN piece_count > 0 AND nodes_total > 0
         THEN chunks_verified::double precision / (piece_count::double precision * nodes_total)
         ELSE 0 END
  ) STORED,
  bytes_origin    bigint NOT NULL DEFAULT 0,
  bytes_peer      bigint NOT NULL DEFAULT 0,
  bytes_cas       bigint NOT NULL DEFAULT 0,
  failure_reason  text,
  request_id      text NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);

-- Newest first, keyset-paged on (created_at, transfer_id).
CREATE INDEX te_transfers_recent ON te_transfers (created_at DESC, transfer_id DESC);

CREATE TABLE te_jobs (
  transfer_id           uuid NOT NULL,
  node_id               text NOT NULL,
  state                 text NOT NULL,
  role                  text NOT NULL,
  worker_id             text,
  highest_fencing_token bigint NOT NULL DEFAULT 0,
  chunks_verified       integer NOT NULL DEFAULT 0,
  bytes_origin          bigint NOT NULL DEFAULT 0,
  bytes_peer            bigint NOT NULL DEFAULT 0,
  bytes_cas             bigint NOT NULL DEFAULT 0,
  failure_reason        text,
  assigned_at           timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  completed_at          timestamptz,
  PRIMARY KEY (transfer_id, node_id)
);

CREATE TABLE te_chunks (
  transfer_id   uuid NOT NULL,
  node_id       text NOT NULL,
  chunk_index   integer NOT NULL,
  source        text NOT NULL,
  fencing_token bigint NOT NULL,
  verified_at   timestamptz NOT NULL,
  PRIMARY KEY (transfer_id, node_id, chunk_index)
);
