-- The W3C traceparent of the assignment: the worker runs the job as a child of it, so a rollout
-- shows as one trace from the POST to each node's materialization.
ALTER TABLE te_jobs ADD COLUMN trace_parent text;
