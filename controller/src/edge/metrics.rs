//! Prometheus metrics served at `/metrics`: reports ingested, agents enrolled and seen, and the
//! latency of every request by route.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReportLabels {
    /// `stored`, `duplicate` or `rejected`.
    pub result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route as declared (`/api/agent/v1/reports`), never the raw path.
    pub route: String,
    pub method: String,
    pub status: String,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The controller's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub reports: Family<ReportLabels, Counter>,
    pub requests: HistogramFamily,
    pub agents_enrolled: Gauge,
    pub agents_seen: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("fitcheck");
        let reports = Family::<ReportLabels, Counter>::default();
        registry.register(
            "reports_ingested",
            "Reports delivered by agents, by result",
            reports.clone(),
        );
        let requests: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route, method and status",
            requests.clone(),
        );
        let agents_enrolled = Gauge::default();
        registry.register(
            "agents_enrolled",
            "Agents enrolled and not revoked",
            agents_enrolled.clone(),
        );
        let agents_seen = Gauge::default();
        registry.register(
            "agents_seen",
            "Agents that contacted the controller in the last 15 minutes",
            agents_seen.clone(),
        );
        Metrics {
            registry,
            reports,
            requests,
            agents_enrolled,
            agents_seen,
        }
    }

    pub fn report(&self, result: &str) {
        self.reports
            .get_or_create(&ReportLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
