//! Prometheus metrics (`GET /metrics`): requests by route template and status, request
//! durations, the pack version served, reload failures, views cached. Labels are route
//! templates and status codes only, never a path's values or anything of a record.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteStatus {
    pub(crate) route: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabel {
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PackLabel {
    pub(crate) version: String,
}

fn duration_histogram() -> Histogram {
    // 100 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) requests: Family<RouteStatus, Counter>,
    pub(crate) duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
    pub(crate) pack: Family<PackLabel, Gauge>,
    pub(crate) reload_failures: Counter,
    pub(crate) views: Gauge,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("phiguard");
        let requests = Family::<RouteStatus, Counter>::default();
        let duration = Family::<RouteLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        let pack = Family::<PackLabel, Gauge>::default();
        let reload_failures = Counter::default();
        let views = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration by route template",
            duration.clone(),
        );
        registry.register("pack", "The pack version served (1)", pack.clone());
        registry.register(
            "reload_failures",
            "Pack reloads refused (the old pack kept serving)",
            reload_failures.clone(),
        );
        registry.register(
            "views_cached",
            "Views cached (one per caller, purpose and catalog) for the pack served",
            views.clone(),
        );
        Metrics {
            registry,
            requests,
            duration,
            pack,
            reload_failures,
            views,
        }
    }

    /// The pack now served is `version`.
    pub(crate) fn set_pack(&self, version: &str) {
        self.pack.clear();
        self.pack
            .get_or_create(&PackLabel {
                version: version.to_owned(),
            })
            .set(1);
    }

    /// The text exposition format.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
