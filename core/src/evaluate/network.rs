//! `[network]` needs judged on one device: its own latency and throughput measurements, never
//! critical here (the controller judges them per site).

use super::{Finding, Judge, Line, RequirementKind, Status, fmt_num};
use crate::cause::Cause;
use crate::profile::{NetworkNeeds, Profile};
use crate::report::{CheckResult, HTTP_FETCH, MeasureOutcome};
use crate::requirement::{NetworkKey, RequirementId};

/// Every `[network]` need, judged on this device's own measurements.
pub(super) fn judge(p: &Profile, j: &mut Judge<'_>) {
    let Some(n) = &p.network else { return };
    let measured = RequirementId::NetworkMeasure;
    // Only round trips to the profile's latency host are the product's; a browser agent also
    // times its controller, which says nothing about the path to the vendor.
    let host = p.latency_host();
    let latency = j.of(&measured).find_map(|r| match r {
        CheckResult::Latency(l)
            if l.outcome == MeasureOutcome::Measured
                && host
                    .as_deref()
                    .is_some_and(|h| l.target.eq_ignore_ascii_case(h)) =>
        {
            Some(l.clone())
        }
        _ => None,
    });
    // Round trips timed as HTTP requests ride on TCP, which resends a lost packet: a request
    // that fails is not a lost packet, and a lost packet only delays its request.
    let over_http = latency.as_ref().is_some_and(|l| l.method == HTTP_FETCH);
    let bandwidth = j.of(&measured).find_map(|r| match r {
        CheckResult::Bandwidth(b) if b.outcome == MeasureOutcome::Measured => Some(b.clone()),
        _ => None,
    });
    let seen = Measured {
        rtt_ms: latency.as_ref().and_then(|l| l.rtt_ms),
        jitter_ms: latency.as_ref().and_then(|l| l.jitter_ms),
        loss_percent: latency
            .as_ref()
            .filter(|_| !over_http)
            .and_then(|l| l.loss_percent),
        download_mbps: bandwidth.as_ref().and_then(|b| b.download_mbps),
        upload_mbps: bandwidth.as_ref().and_then(|b| b.upload_mbps),
        over_http,
    };
    for need in needs(n, &seen) {
        judge_need(need, j);
    }
}

/// What this device measured on the path to the product.
struct Measured {
    rtt_ms: Option<f64>,
    jitter_ms: Option<f64>,
    /// Not over HTTP: TCP resends lost packets.
    loss_percent: Option<f64>,
    download_mbps: Option<f64>,
    upload_mbps: Option<f64>,
    /// Whether round trips were timed as HTTP requests.
    over_http: bool,
}

struct Need {
    key: NetworkKey,
    title: &'static str,
    need: Option<f64>,
    seen: Option<f64>,
    at_least: bool,
    unit: &'static str,
    /// Said after a measured figure: how it was measured, where that qualifies it.
    how: &'static str,
    /// Said when nothing was measured.
    unseen: &'static str,
}

const NOT_MEASURED: &str = "not measured on this device (judged per site)";

/// The profile's needs beside what this device measured, in profile order.
fn needs(n: &NetworkNeeds, m: &Measured) -> [Need; 5] {
    let row = |key, title, need, seen, at_least, unit| Need {
        key,
        title,
        need,
        seen,
        at_least,
        unit,
        how: "",
        unseen: NOT_MEASURED,
    };
    let timed = if m.over_http {
        " (timed HTTP requests, the server's time to answer included)"
    } else {
        ""
    };
    [
        row(
            NetworkKey::DownloadMbpsPerUser,
            "Download per user",
            n.download_mbps_per_user,
            m.download_mbps,
            true,
            "Mbit/s",
        ),
        row(
            NetworkKey::UploadMbpsPerUser,
            "Upload per user",
            n.upload_mbps_per_user,
            m.upload_mbps,
            true,
            "Mbit/s",
        ),
        Need {
            how: timed,
            ..row(
                NetworkKey::MaxRttMs,
                "Round-trip time",
                n.max_rtt_ms,
                m.rtt_ms,
                false,
                "ms",
            )
        },
        Need {
            how: timed,
            ..row(
                NetworkKey::MaxJitterMs,
                "Jitter",
                n.max_jitter_ms,
                m.jitter_ms,
                false,
                "ms",
            )
        },
        Need {
            unseen: if m.over_http {
                "not measured on this device: its round trips were HTTP requests, where TCP \
                 resends lost packets (judged per site)"
            } else {
                NOT_MEASURED
            },
            ..row(
                NetworkKey::MaxLossPercent,
                "Packet loss",
                n.max_loss_percent,
                m.loss_percent,
                false,
                "%",
            )
        },
    ]
}

/// One need, judged; a need the profile does not state is not a requirement.
fn judge_need(n: Need, j: &mut Judge<'_>) {
    let Some(need) = n.need else { return };
    let unit = n.unit;
    let line = Line {
        id: RequirementId::Network(n.key),
        kind: RequirementKind::Network,
        title: n.title.to_owned(),
        critical: false,
        expected: format!(
            "{} {} {unit}",
            if n.at_least { "≥" } else { "≤" },
            fmt_num(need)
        ),
    };
    let finding = match n.seen {
        None => Finding::new(Status::Unknown, n.unseen.to_owned(), None),
        Some(v) => {
            let ok = if n.at_least { v >= need } else { v <= need };
            let status = if ok { Status::Pass } else { Status::Warn };
            Finding::new(
                status,
                format!("{} {unit}{}", fmt_num(v), n.how),
                Some("compare with the site's other devices before acting".to_owned()),
            )
            .because(Cause::Path { metric: n.key })
        }
    };
    j.record(line, finding);
}
