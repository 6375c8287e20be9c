//! Prometheus metrics served at `/metrics`: reports ingested, agents enrolled and seen, the
//! latency of every request by route, and the watches: products watched, rounds decided,
//! alerts open, alert messages delivered and failed.

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
    pub watches: Gauge,
    pub alerts_open: Gauge,
    pub rounds: Counter,
    pub messages: Family<MessageLabels, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    /// `delivered` or `failed` (an attempt that will be retried).
    pub result: String,
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
        let watches = Gauge::default();
        registry.register("watches", "Approved products watched", watches.clone());
        let alerts_open = Gauge::default();
        registry.register(
            "alerts_open",
            "Regression alerts open now",
            alerts_open.clone(),
        );
        let rounds = Counter::default();
        registry.register("watch_rounds", "Watch rounds decided", rounds.clone());
        let messages = Family::<MessageLabels, Counter>::default();
        registry.register(
            "alert_messages",
            "Alert message delivery attempts, by result",
            messages.clone(),
        );
        Metrics {
            registry,
            reports,
            requests,
            agents_enrolled,
            agents_seen,
            watches,
            alerts_open,
            rounds,
            messages,
        }
    }

    pub fn report(&self, result: &str) {
        self.reports
            .get_or_create(&ReportLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// One alert message delivery attempt.
    pub fn alert_messages(&self, delivered: bool) {
        let result = if delivered { "delivered" } else { "failed" };
        self.messages
            .get_or_create(&MessageLabels {
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
