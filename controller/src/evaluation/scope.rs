//! Which agents an evaluation takes in: its sites and groups as a device's scope, and the
//! group of machines that send the roster files, which are never devices. The agents' API, the
//! people's, the pages and the dossier all ask here.

use fitcheck_core::api::AgentKind;

use crate::edge::error::Failure;
use crate::store::{AgentRow, EvaluationRow, ProfileRow, Store};
use crate::types::NewEvaluation;

/// Whether an evaluation's scope takes in this agent as one of its devices.
pub fn in_scope(spec: &NewEvaluation, agent: &AgentRow) -> bool {
    Scope::of(spec).takes(agent.site.as_deref(), agent.grp.as_deref())
}

/// Whether this agent is on a machine that sends the evaluation's roster files (a native agent
/// in its `data_senders` group): it checks the transfer endpoint alone.
pub fn sends(spec: &NewEvaluation, agent: &AgentRow) -> bool {
    agent.kind == AgentKind::Native.as_str() && Scope::of(spec).sends(agent.grp.as_deref())
}

/// The sites and groups an evaluation takes in, as sets: a district's evaluation is asked
/// about tens of thousands of agents at once.
#[derive(Debug)]
pub struct Scope<'a> {
    sites: std::collections::HashSet<&'a str>,
    groups: std::collections::HashSet<&'a str>,
    /// The group of the machines that send the roster files: never devices.
    senders: Option<&'a str>,
}

impl<'a> Scope<'a> {
    pub fn of(spec: &'a NewEvaluation) -> Scope<'a> {
        Scope {
            sites: spec.sites.iter().map(String::as_str).collect(),
            groups: spec.groups.iter().map(String::as_str).collect(),
            senders: spec.data_senders.as_deref(),
        }
    }

    /// Whether an agent with this site and group label is in scope as a device: every site
    /// (group) when the evaluation names none, else one of those named; never a machine of
    /// the data senders' group.
    pub fn takes(&self, site: Option<&str>, group: Option<&str>) -> bool {
        let site_ok = self.sites.is_empty() || site.is_some_and(|s| self.sites.contains(s));
        let group_ok = self.groups.is_empty() || group.is_some_and(|g| self.groups.contains(g));
        site_ok && group_ok && !self.sends(group)
    }

    /// Whether an agent of this group sends the roster files.
    pub fn sends(&self, group: Option<&str>) -> bool {
        self.senders.is_some() && group == self.senders
    }
}

/// The stored definition of an evaluation.
pub fn spec_of(row: &EvaluationRow) -> Result<NewEvaluation, Failure> {
    serde_json::from_str(&row.spec).map_err(|e| {
        Failure::internal(format!(
            "evaluation {} has an unreadable definition: {e}",
            row.id
        ))
    })
}

/// The stored profile an evaluation runs; one that is gone is the controller's fault.
pub async fn profile_of(store: &Store, row: &EvaluationRow) -> Result<ProfileRow, Failure> {
    store
        .get_profile(&row.profile)
        .await?
        .ok_or_else(|| Failure::internal(format!("evaluation {} lost its profile", row.id)))
}
