//! DNS: A and AAAA for a name through the system resolver.

use fitcheck_core::report::{CheckResult, DnsResult};

use super::{Ctx, ms};

/// Look a name up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
    pub name: String,
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let answer = ctx.resolve(&spec.name).await;
    CheckResult::Dns(DnsResult {
        requirement: spec.requirement.clone(),
        target: spec.name.clone(),
        outcome: answer.outcome,
        evidence: answer.evidence,
        duration_ms: ms(answer.duration),
    })
}
