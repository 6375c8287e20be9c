//! The committee's decision on an evaluation, read: each party's standing decision (its
//! latest), the history, and whether the product is approved (all three approve, with or
//! without conditions); and which parties a person may record. The API, the pages, the exports
//! and the watches all read it here.

use crate::clock;
use crate::edge::error::Failure;
use crate::store::{ApprovalRow, Store, UserRow};
use crate::types::{ApprovalInfo, ApprovalOutcome, Decision, Party};

/// The parties `user` may record decisions for.
pub async fn parties_of(store: &Store, user: &UserRow) -> Result<Vec<Party>, Failure> {
    Ok(store
        .approver_parties(&user.id)
        .await?
        .iter()
        .filter_map(|p| Party::parse(p))
        .collect())
}

/// An evaluation's decision: each party's latest, the history, and whether all approve.
pub async fn decision_of(store: &Store, evaluation_id: &str) -> Result<Decision, Failure> {
    let history: Vec<ApprovalInfo> = store
        .approvals_for(evaluation_id)
        .await?
        .into_iter()
        .map(info)
        .collect::<Result<_, _>>()?;
    let approvals: Vec<ApprovalInfo> = Party::ALL
        .into_iter()
        .filter_map(|p| history.iter().rev().find(|a| a.party == p).cloned())
        .collect();
    let approved =
        approvals.len() == Party::ALL.len() && approvals.iter().all(|a| a.outcome.approves());
    Ok(Decision {
        approvals,
        history,
        approved,
    })
}

fn info(row: ApprovalRow) -> Result<ApprovalInfo, Failure> {
    let bad = |what: &str| Failure::internal(format!("approval {}: stored {what}", row.id));
    Ok(ApprovalInfo {
        party: Party::parse(&row.party).ok_or_else(|| bad("party"))?,
        outcome: ApprovalOutcome::parse(&row.outcome).ok_or_else(|| bad("outcome"))?,
        recommendation: row
            .recommendation
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| bad("recommendation"))?,
        note: row.note,
        decided_by: row.decided_by,
        decided_at: clock::rfc3339(row.decided_at),
    })
}
