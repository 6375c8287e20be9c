//! Reports are judged when they arrive and the judgement stored beside them; a recommendation
//! reads those, and judges the bodies again where a judgement is missing or stale — with the
//! same result.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{AnyPool, Row};

use crate::both;
use crate::helpers::{Auth, Db, TestApp, spawn_app};
use crate::scenario::{self, seed};

async fn store(app: &TestApp) -> AnyPool {
    sqlx::any::install_default_drivers();
    let url = app.config.database.clone().unwrap_or_else(|| {
        format!(
            "sqlite:{}",
            app.config.data_dir.join("fitcheck.db").display()
        )
    });
    AnyPool::connect(&url).await.unwrap()
}

/// (report id, engine version) of each stored judgement of the evaluation, by agent.
async fn judgements(pool: &AnyPool, evaluation: &str) -> Vec<(String, String, i64)> {
    sqlx::query(
        "SELECT agent_id, report_id, version FROM judgements WHERE evaluation_id = $1 ORDER BY agent_id",
    )
    .bind(evaluation)
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

async fn recommendation(app: &TestApp, admin: &str, evaluation: &str) -> Value {
    let path = format!("/api/v1/evaluations/{evaluation}/recommendation");
    let (s, mut r) = app.get(&path, Auth::Session(admin)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r["generated_at"] = Value::Null;
    r
}

both!(judged_at_ingestion_read_by_the_recommendation_rebuilt_when_stale);

async fn judged_at_ingestion_read_by_the_recommendation_rebuilt_when_stale(db: Db) {
    let app = spawn_app(db).await;
    let s = seed(&app).await;
    let pool = store(&app).await;

    // One judgement per agent, of the report it sent, written when the report was stored.
    let stored = judgements(&pool, &s.evaluation).await;
    assert_eq!(stored.len(), s.agents.len(), "{stored:?}");
    for (agent, _) in &s.agents {
        let (_, report, version) = stored
            .iter()
            .find(|(a, _, _)| *a == agent.id.to_string())
            .unwrap_or_else(|| panic!("no judgement for agent {}", agent.id));
        assert!(s.reports.contains(report));
        assert_eq!(*version, i64::from(fitcheck_engine::JUDGEMENT_VERSION));
    }

    // A later report of the same agent replaces its judgement; it does not add one.
    let (agent, device) = &s.agents[0];
    let again = scenario::report(agent, device, &s.digest, scenario::lincoln_blocked());
    let (st, v) = app.submit(agent, &again, Some(&s.evaluation)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let now = judgements(&pool, &s.evaluation).await;
    assert_eq!(now.len(), s.agents.len());
    let mine = now
        .iter()
        .find(|(a, _, _)| *a == agent.id.to_string())
        .unwrap();
    assert_eq!(mine.1, again["report_id"].as_str().unwrap());

    let first = recommendation(&app, &s.admin, &s.evaluation).await;
    assert_eq!(first["verdict"], "compatible_with_conditions", "{first}");

    // The recommendation reads the stored judgements, not the bodies: an observation changed
    // in a current judgement shows.
    sqlx::query(
        "UPDATE judgements SET judgement = REPLACE(judgement, '8801 filtered', '8801 tampered') WHERE evaluation_id = $1",
    )
    .bind(&s.evaluation)
    .execute(&pool)
    .await
    .unwrap();
    let read = recommendation(&app, &s.admin, &s.evaluation).await;
    assert!(
        read.to_string().contains("8801 tampered"),
        "the recommendation did not read the stored judgements"
    );

    // Stale judgements (another engine version) are judged again from the bodies: the
    // recommendation is the first one again, and the judgements are current once more.
    sqlx::query("UPDATE judgements SET version = 0 WHERE evaluation_id = $1")
        .bind(&s.evaluation)
        .execute(&pool)
        .await
        .unwrap();
    let rebuilt = recommendation(&app, &s.admin, &s.evaluation).await;
    assert!(!rebuilt.to_string().contains("tampered"));
    assert_eq!(rebuilt, first);
    let current = |rows: &[(String, String, i64)]| {
        rows.len() == s.agents.len()
            && rows
                .iter()
                .all(|(_, _, v)| *v == i64::from(fitcheck_engine::JUDGEMENT_VERSION))
    };
    let after = judgements(&pool, &s.evaluation).await;
    assert!(current(&after), "{after:?}");

    // Reports stored before judgements were kept: none stored, the evaluation marked due (as
    // the migration marks every evaluation with reports). Judged from the bodies, the same.
    sqlx::query("DELETE FROM judgements WHERE evaluation_id = $1")
        .bind(&s.evaluation)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO judgements_due (evaluation_id) VALUES ($1)")
        .bind(&s.evaluation)
        .execute(&pool)
        .await
        .unwrap();
    let rebuilt = recommendation(&app, &s.admin, &s.evaluation).await;
    assert_eq!(rebuilt, first);
    let after = judgements(&pool, &s.evaluation).await;
    assert!(current(&after), "{after:?}");
    let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM judgements_due")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(due, 0, "the evaluation is no longer due once judged");
    pool.close().await;
    app.stop().await;
}
