#!/usr/bin/env bash
# Command 1: set everything up and start funnel locally.
# Installs the toolchain (once), builds the worker, applies the migrations to
# the local D1, writes .dev.vars with fresh secrets if there is none, starts
# `wrangler dev` on 127.0.0.1 and prints the URL and a signed ingest example.
# PORT=8787 by default.
source "$(dirname "$0")/toolchain.sh"
PORT="${PORT:-8787}"

ensure_toolchain
ensure_dev_vars
log "applying migrations to the local D1 (.wrangler/state)"
apply_local_migrations

BODY='{"events":[{"event_type":"m_auth_login_start","email":"kim@example.com","trace_id":"trace_demo_1"}]}'
cat <<MSG

  funnel is starting on http://127.0.0.1:$PORT   (the first start compiles the worker)
    console:  http://127.0.0.1:$PORT/
    health:   http://127.0.0.1:$PORT/api/health
    secrets:  .dev.vars (git-ignored; delete it to get new ones)

  A signed ingest call, ready to paste in another terminal at the repo root:

    BODY='$BODY'
    curl -sS http://127.0.0.1:$PORT/internal/funnel-events/ingest \\
      -H 'content-type: application/json' \\
      -H "x-funnel-signature: \$(node scripts/sign.mjs "\$BODY")" \\
      --data "\$BODY"

MSG
cd "$ROOT"
exec wrangler dev --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
