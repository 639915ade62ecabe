-- The push ledger's workspace is the workspace's own id (SPEC GET /api/v2/workspaces/current `id`), so a
-- rotated API key or another URL to the same workspace changes nothing. Before this migration it was the
-- base URL plus a hash of the API key (InstantlyCredentials.workspace_key).
--
-- Existing ledger rows keep their old name until the first push that knows the id of their workspace: it
-- re-keys every row of the campaigns it pushes to (campaign ids are uuids of one workspace, so a row's
-- campaign says which workspace it belongs to, whatever key wrote it): warehouse/ledger.adopt_workspace.

-- Every workspace a push has seen, with the names it was known by before.
CREATE TABLE IF NOT EXISTS ops.workspaces (
    workspace_id VARCHAR PRIMARY KEY,       -- SPEC Workspace.id (uuid)
    name         VARCHAR,                   -- SPEC Workspace.name when the push ran
    seen_at      TIMESTAMPTZ NOT NULL
);

-- Old ledger workspace names (base URL + key hash) and the workspace id they were re-keyed to.
CREATE TABLE IF NOT EXISTS ops.workspace_aliases (
    alias        VARCHAR PRIMARY KEY,       -- a pre-0008 `ops.push_ledger.workspace` value (no secret in it)
    workspace_id VARCHAR NOT NULL,
    adopted_at   TIMESTAMPTZ NOT NULL
);
