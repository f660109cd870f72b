-- te_transfers and te_jobs are now written by one projection ('transfers') under one checkpoint,
-- so that a transfer never reads completed while one of its jobs still reads leased. The two
-- followed the log at their own pace before, so their rows may stand at different places in it:
-- both are emptied here and rebuilt from the log by the projector when it starts.
--
-- Stop every projector of an earlier version before this runs: one still running would go on
-- writing te_transfers under the 'transfers' checkpoint without the jobs, and recreate 'jobs'.
-- Like every migration here it is forward-only; going back means replaying both read models.
TRUNCATE te_transfers, te_jobs;
DELETE FROM te_projection_checkpoints WHERE projection IN ('transfers', 'jobs');
