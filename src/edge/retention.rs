//! The scheduled handler (cron in wrangler.toml): deletes expired events in
//! chunks of [`CHUNK_ROWS`], at most [`MAX_CHUNKS_PER_RUN`] per run.

use chrono::Utc;
use worker::{console_error, console_log, Env};

use crate::edge::{env, store};
use crate::retention::{cutoff, retention_days, CHUNK_ROWS, MAX_CHUNKS_PER_RUN};
use crate::storage::{sql, Bind, Statement};

pub async fn run(env: &Env) {
    let days = env.var("RETENTION_DAYS").ok().map(|v| v.to_string());
    let days = match retention_days(days.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            console_error!("retention skipped: {e}");
            return;
        }
    };
    let Ok(db) = env::db(env) else { return };
    let cutoff = cutoff(Utc::now(), days);
    let mut deleted = 0usize;
    for _ in 0..MAX_CHUNKS_PER_RUN {
        let delete = Statement::with(sql::DELETE_EXPIRED_EVENTS, [Bind::text(&cutoff), Bind::Int(CHUNK_ROWS)]);
        let changes = match store::batch(&db, &[delete]).await {
            Ok(results) => results
                .first()
                .and_then(|r| r.meta().ok().flatten())
                .and_then(|m| m.changes)
                .unwrap_or(0),
            Err(_) => return, // logged by the store; the next run retries
        };
        deleted += changes;
        if (changes as i64) < CHUNK_ROWS {
            let prune: Vec<Statement> = sql::PRUNE_EXPIRED
                .iter()
                .map(|q| Statement::with(q, [Bind::text(&cutoff)]))
                .collect();
            if store::batch(&db, &prune).await.is_ok() {
                console_log!("retention: deleted {deleted} events before {cutoff}; done");
            }
            return;
        }
    }
    console_log!("retention: deleted {deleted} events before {cutoff}; more remain for the next run");
}
