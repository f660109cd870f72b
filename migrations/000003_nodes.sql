-- The fleet: one row per registered node, for target selection (all nodes, a list, or a label selector).
CREATE TABLE te_nodes (
  node_id        text PRIMARY KEY,
  labels         jsonb NOT NULL,
  cas_volume     text NOT NULL,
  capacity_bytes bigint NOT NULL,
  registered_at  timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

-- Label selectors are containment queries: labels @> '{"zone": "a"}'.
CREATE INDEX te_nodes_labels ON te_nodes USING gin (labels jsonb_path_ops);
