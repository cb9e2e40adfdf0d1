//! Monthly usage per action and quota overrides:
//! `GET /internal/usage`, `GET /internal/usage/over-quota`, `GET /internal/usage/summary`,
//! `GET /internal/quotas`, `PUT` and `DELETE /internal/quotas/overrides`.
//!
//! Usage and limits come from the same SQL fragments the ingest guard uses,
//! so these answers can never disagree with what ingest enforces.

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response, Result, RouteContext};

use super::{authorize, header, query};
use crate::catalog::quotas::{self, ACTIONS};
use crate::edge::{env, http, store};
use crate::error::{AppError, AppResult};
use crate::ingest::body;
use crate::report::usage::{self, ActionUsage, SubjectKind, UsageLine};
use crate::storage::{sql, Bind, Statement};
use crate::time::to_stored;

pub async fn user(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(user_usage(req, ctx).await)
}

pub async fn over_quota(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(all_users(req, ctx, true).await)
}

pub async fn summary(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(all_users(req, ctx, false).await)
}

pub async fn quotas(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(list_quotas(req, ctx).await)
}

pub async fn put_override(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(set_override(req, ctx).await)
}

pub async fn delete_override(req: Request, ctx: RouteContext<()>) -> Result<Response> {
    http::respond(remove_override(req, ctx).await)
}

async fn user_usage(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, &["user_id", "month"])?;
    let user_id = usage::subject_id(params.get("user_id"), "user_id")?;
    let month = usage::month(&params, Utc::now())?;
    let statements: Vec<Statement> = ACTIONS
        .iter()
        .map(|a| {
            Statement::with(
                sql::QUOTA_STATE,
                sql::quota_binds(None, (&month.from, &month.to), a, Some(&user_id), None),
            )
        })
        .collect();
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;
    let mut lines = Vec::new();
    for r in &results {
        lines.extend(store::rows::<ActionUsage>(r)?.iter().map(UsageLine::from));
    }
    http::json(200, &json!({ "user_id": user_id, "month": month, "actions": lines }))
}

/// Every user per action in the month: the over-quota list, or the system summary.
async fn all_users(req: Request, ctx: RouteContext<()>, only_over: bool) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, &["month"])?;
    let month = usage::month(&params, Utc::now())?;
    let statements: Vec<Statement> = ACTIONS
        .iter()
        .map(|a| {
            Statement::with(
                sql::QUOTA_USERS,
                sql::quota_binds(None, (&month.from, &month.to), a, None, None),
            )
        })
        .collect();
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &statements).await?;
    let mut per_action = Vec::new();
    for (action, r) in ACTIONS.iter().zip(&results) {
        per_action.push((action, store::rows::<ActionUsage>(r)?));
    }
    if only_over {
        let users: Vec<_> = per_action
            .iter()
            .flat_map(|(_, users)| users.iter().filter(|u| u.used >= u.limit))
            .map(|u| json!({ "user_id": u.user_id, "line": UsageLine::from(u) }))
            .collect();
        return http::json(200, &json!({ "month": month, "users": users }));
    }
    let lines: Vec<_> = per_action
        .iter()
        .map(|(a, users)| usage::system_summary(a, users))
        .collect();
    http::json(200, &json!({ "month": month, "actions": lines }))
}

#[derive(Deserialize, serde::Serialize)]
struct OverrideRow {
    subject_kind: String,
    subject_id: String,
    action: String,
    monthly_limit: i64,
    updated_at: String,
}

async fn list_quotas(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    query(&req, &[])?;
    let db = env::db(&ctx.env)?;
    let overrides: Vec<OverrideRow> = store::all(&db, &Statement::new(sql::LIST_QUOTA_OVERRIDES)).await?;
    http::json(
        200,
        &json!({
            "time_zone": quotas::MONTH_TIME_ZONE.name(),
            "plan_from": "the user's latest subscription event (free after a cancel or without one)",
            "actions": ACTIONS,
            "overrides": overrides,
        }),
    )
}

async fn set_override(mut req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    if !body::is_json_content_type(header(&req, "content-type").as_deref()) {
        return Err(AppError::UnsupportedMediaType);
    }
    let raw = req
        .bytes()
        .await
        .map_err(|_| AppError::InvalidBody("The body could not be read.".into()))?;
    if raw.len() > 4096 {
        return Err(AppError::PayloadTooLarge { limit_bytes: 4096 });
    }
    let o = usage::parse_override(&raw)?;
    let statement = Statement::with(
        sql::UPSERT_QUOTA_OVERRIDE,
        [
            Bind::text(o.subject_kind.as_str()),
            Bind::text(&o.subject_id),
            Bind::text(o.action),
            Bind::Int(o.monthly_limit),
            Bind::text(to_stored(Utc::now())),
        ],
    );
    let db = env::db(&ctx.env)?;
    store::batch(&db, &[statement]).await?;
    http::json(200, &json!({ "override": o }))
}

async fn remove_override(req: Request, ctx: RouteContext<()>) -> AppResult<Response> {
    authorize(&req, &ctx.env)?;
    let params = query(&req, &["subject_kind", "subject_id", "action"])?;
    let kind: SubjectKind = SubjectKind::parse(params.get("subject_kind"), "subject_kind")?;
    let id = usage::subject_id(params.get("subject_id"), "subject_id")?;
    let action = usage::action(params.get("action"), "action")?;
    let statement = Statement::with(
        sql::DELETE_QUOTA_OVERRIDE,
        [Bind::text(kind.as_str()), Bind::text(&id), Bind::text(action.name)],
    );
    let db = env::db(&ctx.env)?;
    let results = store::batch(&db, &[statement]).await?;
    let deleted = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0;
    http::json(200, &json!({ "deleted": deleted }))
}
