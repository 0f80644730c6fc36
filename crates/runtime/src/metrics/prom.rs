//! The process's Prometheus registry (crate `prometheus-client`) and its HTTP request metrics.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: String,
    operation: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    service: String,
    operation: String,
}

/// Buckets from 1 ms to about 65 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// The Prometheus registry with Hearth's own metrics; cheap to clone. Other components add
/// theirs with [`Prometheus::register`].
#[derive(Clone)]
pub struct Prometheus {
    registry: Arc<Mutex<Registry>>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<DurationLabels, Histogram, fn() -> Histogram>,
    pub(crate) points_written: Counter,
    pub(crate) points_dropped: Counter,
}

impl Default for Prometheus {
    fn default() -> Self {
        Self::new()
    }
}

impl Prometheus {
    /// A registry holding the HTTP request metrics and the metric store's counters.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hearth");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<DurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram);
        let points_written = Counter::default();
        let points_dropped = Counter::default();
        registry.register("http_requests", "HTTP requests served, by service, operation and status code", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by service and operation",
            durations.clone(),
        );
        registry.register("metric_points_written", "Metric data points written to the store", points_written.clone());
        registry.register(
            "metric_points_dropped",
            "Metric data points dropped because the buffer was full or the store kept failing",
            points_dropped.clone(),
        );
        Prometheus { registry: Arc::new(Mutex::new(registry)), requests, durations, points_written, points_dropped }
    }

    /// Count one request (`http_requests_total`) and observe its duration
    /// (`http_request_duration_seconds`).
    pub fn observe_http(&self, service: &str, operation: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                service: service.to_string(),
                operation: operation.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels { service: service.to_string(), operation: operation.to_string() })
            .observe(elapsed.as_secs_f64());
    }

    /// Register another metric (see `prometheus_client::registry::Registry::register`).
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.registry.lock().unwrap_or_else(|p| p.into_inner()).register(name, help, metric);
    }

    /// The text exposition (OpenMetrics, ending in `# EOF`) of every registered metric.
    pub fn encode(&self) -> String {
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
            tracing::warn!(error = %e, "prometheus encoding failed");
        }
        out
    }
}
