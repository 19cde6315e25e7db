//! `--web.get-concurrency`: at most N GET requests are served at once; the next one gets upstream's 503
//! `Limit of concurrent GET requests reached (N), try again later.` so a burst of expensive queries (a dashboard
//! listing 100k alerts) cannot starve alert ingestion.

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warp::http::{header, HeaderValue, Method, Response, StatusCode};
use warp::{Filter, Rejection};

type Labels = Vec<(String, String)>;

/// `alertmanager_http_requests_in_flight{method="get"}` and
/// `alertmanager_http_concurrency_limit_exceeded_total{method="get"}`.
#[derive(Debug, Clone, Default)]
pub struct LimitMetrics {
    in_flight: Family<Labels, Gauge>,
    exceeded: Family<Labels, Counter>,
}

fn get_labels() -> Labels {
    vec![("method".to_owned(), "get".to_owned())]
}

impl LimitMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = LimitMetrics::default();
        registry.register(
            "alertmanager_http_requests_in_flight",
            "Current number of HTTP requests being processed",
            m.in_flight.clone(),
        );
        registry.register(
            "alertmanager_http_concurrency_limit_exceeded",
            "Total number of times an HTTP request failed because the concurrency limit was reached",
            m.exceeded.clone(),
        );
        drop(m.in_flight.get_or_create(&get_labels()));
        drop(m.exceeded.get_or_create(&get_labels()));
        m
    }
}

/// `--web.get-concurrency` ≤ 0 means max(available parallelism, 8), as upstream's max(GOMAXPROCS, 8).
pub fn effective_limit(flag: i64) -> usize {
    if flag > 0 {
        usize::try_from(flag).unwrap_or(usize::MAX).min(Semaphore::MAX_PERMITS)
    } else {
        std::thread::available_parallelism().map_or(8, |n| n.get().max(8))
    }
}

/// Held while a GET request is served.
struct InFlight {
    _permit: OwnedSemaphorePermit,
    gauge: Gauge,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// The rejection that turns into the 503; it never reaches `inner`.
#[derive(Debug)]
struct LimitReached(usize);

impl warp::reject::Reject for LimitReached {}

/// Wraps `inner` with the GET concurrency limit. A rejected request never reaches `inner`.
pub fn limit_get<F>(
    limit: usize,
    metrics: LimitMetrics,
    inner: F,
) -> impl Filter<Extract = (Response<Bytes>,), Error = Rejection> + Clone + Send + Sync + 'static
where
    F: Filter<Extract = (Response<Bytes>,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    let semaphore = Arc::new(Semaphore::new(limit));
    let admit = warp::method().and_then(move |method: Method| {
        let admitted = if method != Method::GET {
            Ok(None)
        } else {
            match Arc::clone(&semaphore).try_acquire_owned() {
                Ok(permit) => {
                    let gauge = metrics.in_flight.get_or_create(&get_labels()).clone();
                    gauge.inc();
                    Ok(Some(InFlight { _permit: permit, gauge }))
                }
                Err(_) => {
                    metrics.exceeded.get_or_create(&get_labels()).inc();
                    Err(warp::reject::custom(LimitReached(limit)))
                }
            }
        };
        futures::future::ready(admitted)
    });
    admit
        .and(inner)
        .map(|_in_flight: Option<InFlight>, resp: Response<Bytes>| resp)
        .recover(|rejection: Rejection| async move {
            match rejection.find::<LimitReached>() {
                Some(LimitReached(limit)) => Ok(too_many(*limit)),
                None => Err(rejection),
            }
        })
        .unify()
}

fn too_many(limit: usize) -> Response<Bytes> {
    let body = format!("Limit of concurrent GET requests reached ({limit}), try again later.\n");
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}
