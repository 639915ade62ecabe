-- Who runs each run, so a run whose process is gone does not stay `running` for ever (warehouse/run_history.py).
-- `<pid>@<host>`, then what tells that process apart from a later one with the same pid: the process's start
-- time (/proc/<pid>/stat field 22, clock ticks after boot), the machine's boot id and its pid namespace, e.g.
-- `4242@worker-2 start=912345 boot=048cb26d-0f36-4555-be28-a880facb547a pidns=4026531836`. Only
-- `<pid>@<host>` where /proc cannot tell these (not Linux); NULL for rows written before this migration.
-- From this version ops.sync_runs.status is running | completed | failed | crashed: `crashed` is set by a
-- later run's start when this run's process has certainly ended without recording an outcome.
ALTER TABLE ops.sync_runs ADD COLUMN IF NOT EXISTS runner VARCHAR;
