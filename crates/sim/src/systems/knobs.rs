//! Knobs that make a system slow, flaky or down, for tests and benchmarks of its clients.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Spec;
use super::net::Conn;

/// Longest added latency: enough to trip any client timeout, short enough not to hang tests.
pub const MAX_LATENCY_MS: u64 = 120_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// Serving.
    #[default]
    None,
    /// Every request answered with 503 and `Retry-After`.
    Unavailable,
    /// Every connection closed without an answer, as a crashed process would.
    Close,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Knobs {
    /// Added to every answer.
    pub latency_ms: u64,
    /// A further uniform 0..=jitter_ms on top of `latency_ms`.
    pub jitter_ms: u64,
    /// Probability (0 to 1) that a request is answered with 500 or 503.
    pub error_rate: f64,
    pub outage: Outage,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidKnobs(String);

impl Knobs {
    pub fn validate(&self) -> Result<(), InvalidKnobs> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(InvalidKnobs(format!(
                "error_rate must be between 0 and 1, not {}",
                self.error_rate
            )));
        }
        if self.latency_ms.saturating_add(self.jitter_ms) > MAX_LATENCY_MS {
            return Err(InvalidKnobs(format!(
                "latency_ms plus jitter_ms must be at most {MAX_LATENCY_MS}"
            )));
        }
        Ok(())
    }
}

/// A change to some knobs; the others keep their values.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnobsPatch {
    pub latency_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub error_rate: Option<f64>,
    pub outage: Option<Outage>,
}

/// The knobs of one running system; clones share them.
#[derive(Debug, Clone, Default)]
pub struct KnobHandle(Arc<RwLock<Knobs>>);

impl KnobHandle {
    pub fn new(knobs: Knobs) -> KnobHandle {
        KnobHandle(Arc::new(RwLock::new(knobs)))
    }

    pub fn get(&self) -> Knobs {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, knobs: Knobs) -> Result<(), InvalidKnobs> {
        knobs.validate()?;
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = knobs;
        Ok(())
    }

    /// Changes the knobs through `f`; nothing changes when the result is invalid.
    pub fn update(&self, f: impl FnOnce(&mut Knobs)) -> Result<Knobs, InvalidKnobs> {
        let mut guard = self.0.write().unwrap_or_else(|e| e.into_inner());
        let mut next = guard.clone();
        f(&mut next);
        next.validate()?;
        *guard = next.clone();
        Ok(next)
    }

    /// Back to a healthy, prompt system.
    pub fn reset(&self) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Knobs::default();
    }

    pub(crate) fn patch(&self, p: &KnobsPatch) -> Result<Knobs, InvalidKnobs> {
        self.update(|k| {
            if let Some(v) = p.latency_ms {
                k.latency_ms = v;
            }
            if let Some(v) = p.jitter_ms {
                k.jitter_ms = v;
            }
            if let Some(v) = p.error_rate {
                k.error_rate = v;
            }
            if let Some(v) = p.outage {
                k.outage = v;
            }
        })
    }
}

/// Applies the knobs before the system's own routes: outage, then latency, then errors.
pub(crate) async fn apply(
    State((spec, handle)): State<(&'static Spec, KnobHandle)>,
    req: Request,
    next: Next,
) -> Response {
    let k = handle.get();
    match k.outage {
        Outage::None => {}
        Outage::Unavailable => return unavailable(),
        Outage::Close => {
            if let Some(ConnectInfo(conn)) = req.extensions().get::<ConnectInfo<Conn>>() {
                conn.sever();
            }
            // Never written: the severed connection refuses it.
            return unavailable();
        }
    }
    // ThreadRng is not Send: draw everything before the first await.
    let (delay, fail, which) = {
        let mut rng = rand::rng();
        let jitter = if k.jitter_ms > 0 {
            rng.random_range(0..=k.jitter_ms)
        } else {
            0
        };
        let fail = k.error_rate > 0.0 && rng.random::<f64>() < k.error_rate;
        (k.latency_ms + jitter, fail, rng.random::<bool>())
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if fail {
        // Half from the system itself, half from the gateway in front of it.
        return if which {
            (spec.error)(StatusCode::INTERNAL_SERVER_ERROR, "系统繁忙，请稍后再试")
        } else {
            unavailable()
        };
    }
    next.run(req).await
}

fn unavailable() -> Response {
    let mut res = (
        StatusCode::SERVICE_UNAVAILABLE,
        "503 Service Temporarily Unavailable\n",
    )
        .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    res
}
