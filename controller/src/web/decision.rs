//! The committee's decision on an evaluation's page: each party's standing decision, its
//! history, and for a person the administrator named for a party, the form that records it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{PageError, Viewer, encode, read_form, see_other};
use crate::api::decisions::record_decision;
use crate::edge::extract::Body;
use crate::edge::state::AppState;
use crate::types::{ApprovalInfo, ApprovalOutcome, Decision, NewApproval, Party};

/// The decision section: who decided what, and the form for the parties `mine`.
pub fn section(eid: &str, d: &Decision, mine: &[Party]) -> Markup {
    html! {
        section #decision {
            h2 { "Committee decision" }
            p {
                @if d.approved {
                    strong { "Approved" } " by Business, Curriculum and Technology: the product can be watched."
                } @else {
                    "Not approved yet: a product needs the approval of Business, Curriculum and Technology."
                }
            }
            table {
                thead { tr {
                    th scope="col" { "Party" }
                    th scope="col" { "Decision" }
                    th scope="col" { "By" }
                    th scope="col" { "When" }
                    th scope="col" { "Note" }
                } }
                tbody {
                    @for party in Party::ALL {
                        (party_row(party, d.approvals.iter().find(|a| a.party == party)))
                    }
                }
            }
            @if d.history.len() > d.approvals.len() {
                details {
                    summary { "Every decision recorded (" (d.history.len()) ")" }
                    ul {
                        @for a in &d.history {
                            li { (a.decided_at) ": " (a.party.words()) " " (a.outcome.words()) " by " (a.decided_by) }
                        }
                    }
                }
            }
            @if !mine.is_empty() {
                (form(eid, mine))
            }
        }
    }
}

/// One party's row: its standing decision, or that it has not decided.
fn party_row(party: Party, a: Option<&ApprovalInfo>) -> Markup {
    html! {
        tr {
            th scope="row" { (party.words()) }
            @match a {
                Some(a) => {
                    td { (a.outcome.words()) }
                    td { (a.decided_by) }
                    td { (a.decided_at) }
                    td {
                        (a.note)
                        @if let Some(r) = &a.recommendation {
                            " " span.muted { "(based on the recommendation of " (r.generated_at) ": " (r.verdict) ")" }
                        }
                    }
                }
                None => {
                    td colspan="4" { span.muted { "not decided" } }
                }
            }
        }
    }
}

/// The form that records a decision for one of `mine`.
fn form(eid: &str, mine: &[Party]) -> Markup {
    html! {
        form method="post" action={ "/evaluations/" (eid) "/approvals" } {
            h3 { "Record a decision" }
            label { "Party " select name="party" {
                @for p in mine { option value=(p.as_str()) { (p.words()) } }
            } }
            " "
            label { "Decision " select name="outcome" {
                option value="approved" { "approved" }
                option value="approved_with_conditions" { "approved with conditions" }
                option value="declined" { "declined" }
            } }
            label { "Note (the conditions, or why) " textarea name="note" rows="3" maxlength="2000" {} }
            button.primary type="submit" { "Record" }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    party: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

/// `POST /evaluations/{id}/approvals`: the same recording as the API's, then back to the page.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    viewer: Viewer,
    Path(id): Path<String>,
    Body(raw): Body,
) -> Result<Response, PageError> {
    let form: DecisionForm = read_form(&state, &headers, &uri, &raw, "decision")?;
    let (Some(party), Some(outcome)) = (
        Party::parse(&form.party),
        ApprovalOutcome::parse(&form.outcome),
    ) else {
        return Err(PageError::bad_request(
            "The decision form names no party or decision this server knows; send it from the evaluation's page.",
        ));
    };
    let req = NewApproval {
        party,
        outcome,
        note: form.note,
    };
    record_decision(&state, &viewer.user, &id, &req)
        .await
        .map_err(|f| PageError::from(f).for_user(&viewer.user))?;
    Ok(see_other(&format!("/evaluations/{}#decision", encode(&id))))
}
