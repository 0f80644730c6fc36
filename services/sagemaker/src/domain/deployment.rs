//! Deployment guardrails without I/O: the policy an `UpdateEndpoint` asks for
//! ([`Policy::from_config`], checked with AWS's ranges and messages), and the steps that move
//! traffic from the old (blue) fleet to the new (green) one ([`plan`]).
//!
//! A blue/green update provisions the whole green fleet, then turns on traffic to it in steps.
//! A step is a number of green instances serving; its traffic share is that number over the
//! fleet's instance count (serverless variants count as one). After every step, including the
//! last (100 %), a baking period of `WaitIntervalInSeconds` watches the rollback alarms.
//!
//! - `ALL_AT_ONCE`: one step, all instances.
//! - `CANARY`: the canary (`CanarySize`, at most half the fleet), then everything.
//! - `LINEAR`: `LinearStepSize` instances per step (10–50 % of the fleet) until all serve.
//! - `RollingUpdatePolicy`: batches of `MaximumBatchSize` (5–50 %), the same way.
//!
//! `CAPACITY_PERCENT` sizes are turned into instances by rounding down, with at least one
//! instance (33 % of 3 instances is 1 instance, as in AWS's examples; 50 % of 3 is 1, which
//! keeps a canary at most half the fleet).

use crate::api;
use crate::domain::validate::Violations;
use crate::error::SageMakerError;
use serde::{Deserialize, Serialize};

/// How traffic moves to the green fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Routing {
    /// `ALL_AT_ONCE`.
    AllAtOnce,
    /// `CANARY` with the canary's size.
    Canary(Size),
    /// `LINEAR` with the step size.
    Linear(Size),
    /// `RollingUpdatePolicy` with `MaximumBatchSize`.
    Rolling(Size),
}

/// A `CapacitySize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Size {
    /// `INSTANCE_COUNT`.
    Instances(u32),
    /// `CAPACITY_PERCENT`.
    Percent(u32),
}

impl Size {
    /// Instances of a fleet of `total` this size stands for (percent rounded down, at least 1,
    /// at most `total`).
    pub fn instances(self, total: u32) -> u32 {
        let n = match self {
            Size::Instances(n) => n,
            Size::Percent(p) => (total as u64 * p as u64 / 100) as u32,
        };
        n.clamp(1, total.max(1))
    }

    fn parse(c: &api::CapacitySize) -> Size {
        if c.r#type == "CAPACITY_PERCENT" {
            Size::Percent(c.value.max(0) as u32)
        } else {
            Size::Instances(c.value.max(0) as u32)
        }
    }
}

/// The deployment an `UpdateEndpoint` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Traffic routing.
    pub routing: Routing,
    /// Baking period after each step (`WaitIntervalInSeconds`).
    pub wait_seconds: u32,
    /// Time the blue fleet is kept after success (`TerminationWaitInSeconds`).
    pub termination_wait_seconds: u32,
    /// Limit of the whole deployment (`MaximumExecutionTimeoutInSeconds`).
    pub max_execution_seconds: Option<u32>,
    /// Rollback alarms (`AutoRollbackConfiguration.Alarms`).
    pub alarms: Vec<String>,
    /// `RollingUpdatePolicy.RollbackMaximumBatchSize`: traffic goes back to the old fleet in
    /// batches of this size; `None`: all at once.
    #[serde(default)]
    pub rollback_batch: Option<Size>,
}

impl Default for Policy {
    /// An update without `DeploymentConfig`: all at once, no baking, no alarms.
    fn default() -> Self {
        Policy { routing: Routing::AllAtOnce, wait_seconds: 0, termination_wait_seconds: 0, max_execution_seconds: None, alarms: Vec::new(), rollback_batch: None }
    }
}

const CAPACITY_TYPES: &[&str] = &["INSTANCE_COUNT", "CAPACITY_PERCENT"];

fn check_size(v: &mut Violations, path: &str, c: &api::CapacitySize) {
    v.one_of(&format!("{path}.type"), &c.r#type, CAPACITY_TYPES);
    v.int_range(&format!("{path}.value"), c.value as i64, Some(1), None);
}

/// Check `DeploymentConfig` against the API model's constraints (AWS's
/// `N validation errors detected: …` wording, paths in lowerCamel).
pub fn check_config(v: &mut Violations, c: &api::DeploymentConfig) {
    let p = "deploymentConfig";
    if let Some(b) = &c.blue_green_update_policy {
        let t = &b.traffic_routing_configuration;
        let tp = format!("{p}.blueGreenUpdatePolicy.trafficRoutingConfiguration");
        v.one_of(&format!("{tp}.type"), &t.r#type, &["ALL_AT_ONCE", "CANARY", "LINEAR"]);
        v.int_range(&format!("{tp}.waitIntervalInSeconds"), t.wait_interval_in_seconds as i64, Some(0), Some(3600));
        if let Some(s) = &t.canary_size {
            check_size(v, &format!("{tp}.canarySize"), s);
        }
        if let Some(s) = &t.linear_step_size {
            check_size(v, &format!("{tp}.linearStepSize"), s);
        }
        if let Some(w) = b.termination_wait_in_seconds {
            v.int_range(&format!("{p}.blueGreenUpdatePolicy.terminationWaitInSeconds"), w as i64, Some(0), Some(3600));
        }
        if let Some(m) = b.maximum_execution_timeout_in_seconds {
            v.int_range(&format!("{p}.blueGreenUpdatePolicy.maximumExecutionTimeoutInSeconds"), m as i64, Some(600), Some(28800));
        }
    }
    if let Some(r) = &c.rolling_update_policy {
        let rp = format!("{p}.rollingUpdatePolicy");
        check_size(v, &format!("{rp}.maximumBatchSize"), &r.maximum_batch_size);
        if let Some(s) = &r.rollback_maximum_batch_size {
            check_size(v, &format!("{rp}.rollbackMaximumBatchSize"), s);
        }
        v.int_range(&format!("{rp}.waitIntervalInSeconds"), r.wait_interval_in_seconds as i64, Some(0), Some(3600));
        if let Some(m) = r.maximum_execution_timeout_in_seconds {
            v.int_range(&format!("{rp}.maximumExecutionTimeoutInSeconds"), m as i64, Some(600), Some(28800));
        }
    }
    if let Some(a) = &c.auto_rollback_configuration {
        if let Some(alarms) = &a.alarms {
            v.list_len(&format!("{p}.autoRollbackConfiguration.alarms"), alarms.len(), 1, Some(10));
            for (i, al) in alarms.iter().enumerate() {
                let path = format!("{p}.autoRollbackConfiguration.alarms.{}.member.alarmName", i + 1);
                match &al.alarm_name {
                    None => {}
                    Some(n) if n.trim().is_empty() => v.pattern(&path, n, "(?!\\s*$).+"),
                    Some(n) => v.max_len(&path, n, 255),
                }
            }
        }
    }
}

fn percent_range(what: &str, s: Size, min: u32, max: u32) -> Result<(), SageMakerError> {
    if let Size::Percent(p) = s {
        if p > 100 {
            return Err(SageMakerError::validation(format!("{what} with CAPACITY_PERCENT must be between 1 and 100, but got {p}.")));
        }
        if p < min || p > max {
            return Err(SageMakerError::validation(format!("{what} must be between {min}% and {max}% of the variant's total instance count, but got {p}%.")));
        }
    }
    Ok(())
}

impl Policy {
    /// The policy of a (constraint-checked) `DeploymentConfig` for a green fleet of
    /// `instances` instances; `serverless` when any green variant is serverless (traffic
    /// shifting in steps needs instances). Errors use AWS's wording where it is known.
    pub fn from_config(c: &api::DeploymentConfig, instances: u32, serverless: bool) -> Result<Policy, SageMakerError> {
        let alarms: Vec<String> = c.auto_rollback_configuration.as_ref().and_then(|a| a.alarms.clone()).unwrap_or_default().into_iter().filter_map(|a| a.alarm_name).collect();
        let mut seen = std::collections::HashSet::new();
        for a in &alarms {
            if !seen.insert(a) {
                return Err(SageMakerError::validation(format!("Duplicate alarm name {a} found in AutoRollbackConfiguration.")));
            }
        }
        let mut rollback_batch = None;
        let (routing, wait, term, max) = match (&c.blue_green_update_policy, &c.rolling_update_policy) {
            (Some(_), Some(_)) => {
                return Err(SageMakerError::validation("Only one update policy should be used in the deployment configuration: BlueGreenUpdatePolicy or RollingUpdatePolicy."));
            }
            (Some(b), None) => {
                let t = &b.traffic_routing_configuration;
                let routing = match t.r#type.as_str() {
                    "CANARY" => {
                        if t.linear_step_size.is_some() {
                            return Err(SageMakerError::validation("LinearStepSize must not be specified for traffic routing type CANARY."));
                        }
                        let s = Size::parse(t.canary_size.as_ref().ok_or_else(|| SageMakerError::validation("CanarySize must be specified for traffic routing type CANARY."))?);
                        percent_range("CanarySize", s, 1, 50)?;
                        if let Size::Instances(n) = s {
                            if n as u64 * 2 > instances as u64 {
                                return Err(SageMakerError::validation(format!(
                                    "CanarySize ({n}) must be less than or equal to 50% of the variant's total instance count ({instances})."
                                )));
                            }
                        }
                        Routing::Canary(s)
                    }
                    "LINEAR" => {
                        if t.canary_size.is_some() {
                            return Err(SageMakerError::validation("CanarySize must not be specified for traffic routing type LINEAR."));
                        }
                        let s = Size::parse(t.linear_step_size.as_ref().ok_or_else(|| SageMakerError::validation("LinearStepSize must be specified for traffic routing type LINEAR."))?);
                        percent_range("LinearStepSize", s, 10, 50)?;
                        if let Size::Instances(n) = s {
                            if n as u64 * 10 < instances as u64 || n as u64 * 2 > instances as u64 {
                                return Err(SageMakerError::validation(format!(
                                    "LinearStepSize ({n}) must be between 10% and 50% of the variant's total instance count ({instances})."
                                )));
                            }
                        }
                        Routing::Linear(s)
                    }
                    _ => {
                        if t.canary_size.is_some() || t.linear_step_size.is_some() {
                            return Err(SageMakerError::validation("CanarySize and LinearStepSize must not be specified for traffic routing type ALL_AT_ONCE."));
                        }
                        Routing::AllAtOnce
                    }
                };
                (routing, t.wait_interval_in_seconds, b.termination_wait_in_seconds.unwrap_or(0), b.maximum_execution_timeout_in_seconds)
            }
            (None, Some(r)) => {
                let s = Size::parse(&r.maximum_batch_size);
                percent_range("MaximumBatchSize", s, 5, 50)?;
                if let Some(rb) = &r.rollback_maximum_batch_size {
                    percent_range("RollbackMaximumBatchSize", Size::parse(rb), 1, 100)?;
                    rollback_batch = Some(Size::parse(rb));
                }
                if let Size::Instances(n) = s {
                    if n as u64 * 2 > instances as u64 && instances > 1 {
                        return Err(SageMakerError::validation(format!(
                            "MaximumBatchSize ({n}) must be between 5% and 50% of the variant's total instance count ({instances})."
                        )));
                    }
                }
                (Routing::Rolling(s), r.wait_interval_in_seconds, 0, r.maximum_execution_timeout_in_seconds)
            }
            (None, None) => (Routing::AllAtOnce, 0, 0, None),
        };
        if serverless && !matches!(routing, Routing::AllAtOnce) {
            return Err(SageMakerError::validation("Deployment guardrails with CANARY, LINEAR or rolling traffic shifting are not supported for serverless endpoints; use ALL_AT_ONCE."));
        }
        Ok(Policy {
            routing,
            wait_seconds: wait.max(0) as u32,
            termination_wait_seconds: term.max(0) as u32,
            max_execution_seconds: max.map(|m| m.max(0) as u32),
            alarms,
            rollback_batch,
        })
    }
}

/// One traffic step: green instances serving and the green fleet's share of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Green instances that take traffic in this step.
    pub green_instances: u32,
    /// Share of the endpoint's traffic on the green fleet, `green_instances / total`.
    pub green_share: f64,
}

/// The traffic steps of `routing` for a fleet of `total` instances; the last step always
/// puts all traffic on green.
pub fn plan(routing: Routing, total: u32) -> Vec<Step> {
    let total = total.max(1);
    let step = |n: u32| Step { green_instances: n, green_share: n as f64 / total as f64 };
    match routing {
        Routing::AllAtOnce => vec![step(total)],
        Routing::Canary(s) => {
            let c = s.instances(total);
            if c >= total {
                vec![step(total)]
            } else {
                vec![step(c), step(total)]
            }
        }
        Routing::Linear(s) | Routing::Rolling(s) => {
            let k = s.instances(total);
            let mut out = Vec::new();
            let mut n = 0;
            while n < total {
                n = (n + k).min(total);
                out.push(step(n));
            }
            out
        }
    }
}

/// The steps of a rollback from `green_instances` serving on the new fleet (of `total`): with a
/// `RollbackMaximumBatchSize` (rolling updates), each step brings one batch back to the old
/// fleet and takes it off the new one; without, one step puts everything back. The last step
/// always has no green instance.
pub fn rollback_plan(green_instances: u32, total: u32, batch: Option<Size>) -> Vec<Step> {
    let total = total.max(1);
    let step = |n: u32| Step { green_instances: n, green_share: n as f64 / total as f64 };
    let Some(batch) = batch else { return vec![step(0)] };
    let k = batch.instances(total);
    let mut out = Vec::new();
    let mut n = green_instances.min(total);
    loop {
        n = n.saturating_sub(k);
        out.push(step(n));
        if n == 0 {
            return out;
        }
    }
}

/// What an operator asked of a running deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Roll back now (who asked).
    Abort(String),
    /// Skip the remaining baking.
    Promote,
}

/// What the deployment sees at one look: the clock, the first rollback alarm in `ALARM` (if
/// any), an operator's request.
#[derive(Debug, Clone)]
pub struct Observation {
    pub now: time::OffsetDateTime,
    pub alarm: Option<String>,
    pub request: Option<Request>,
}

/// Why a deployment rolls back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackCause {
    Alarm(String),
    Abort(String),
    Timeout(u32),
}

impl RollbackCause {
    /// The endpoint's `FailureReason` after the rollback.
    pub fn reason(&self) -> String {
        match self {
            RollbackCause::Alarm(a) => format!("Alarm {a} is in ALARM state; deployment rolled back."),
            RollbackCause::Abort(who) => format!("Deployment aborted by {who}; rolled back."),
            RollbackCause::Timeout(s) => format!("Deployment exceeded MaximumExecutionTimeoutInSeconds ({s} s); rolled back."),
        }
    }
}

/// The next move of a deployment that is baking step `step` of `steps` (or, with `step ==
/// steps`, waiting to retire blue after all traffic went to green).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing to do before this long (at most one poll).
    Wait(std::time::Duration),
    /// Turn on traffic step `n`.
    Step(usize),
    /// The last bake passed: all traffic on green, blue waits `TerminationWaitInSeconds`.
    AllOnGreen,
    /// Retire blue: the deployment succeeded.
    Retire,
    /// Put all traffic back on blue.
    RollBack(RollbackCause),
}

/// Decide a baking deployment's next move. `started` is the deployment's start, `since` the
/// start of the current step (or of the termination wait), `poll` the longest wait.
pub fn decide(policy: &Policy, steps: usize, step: usize, started: time::OffsetDateTime, since: time::OffsetDateTime, obs: &Observation, poll: std::time::Duration) -> Decision {
    let terminating = step >= steps;
    let elapsed = (obs.now - since).as_seconds_f64();
    let promote = obs.request == Some(Request::Promote);
    if terminating {
        let wait = policy.termination_wait_seconds as f64;
        if promote || elapsed >= wait {
            return Decision::Retire;
        }
        return Decision::Wait(poll.min(std::time::Duration::from_secs_f64((wait - elapsed).max(0.001))));
    }
    if let Some(Request::Abort(who)) = &obs.request {
        return Decision::RollBack(RollbackCause::Abort(who.clone()));
    }
    if let Some(max) = policy.max_execution_seconds {
        if (obs.now - started).as_seconds_f64() >= max as f64 {
            return Decision::RollBack(RollbackCause::Timeout(max));
        }
    }
    if let Some(a) = &obs.alarm {
        return Decision::RollBack(RollbackCause::Alarm(a.clone()));
    }
    let wait = policy.wait_seconds as f64;
    if promote || elapsed >= wait {
        return if promote || step + 1 >= steps { Decision::AllOnGreen } else { Decision::Step(step + 1) };
    }
    Decision::Wait(poll.min(std::time::Duration::from_secs_f64((wait - elapsed).max(0.001))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: &str, size: Option<(&str, i32)>) -> api::DeploymentConfig {
        let cs = size.map(|(t, v)| api::CapacitySize { r#type: t.into(), value: v });
        api::DeploymentConfig {
            blue_green_update_policy: Some(api::BlueGreenUpdatePolicy {
                traffic_routing_configuration: api::TrafficRoutingConfig {
                    r#type: kind.into(),
                    wait_interval_in_seconds: 300,
                    canary_size: if kind == "CANARY" { cs.clone() } else { None },
                    linear_step_size: if kind == "LINEAR" { cs } else { None },
                },
                termination_wait_in_seconds: Some(120),
                maximum_execution_timeout_in_seconds: Some(1800),
            }),
            ..Default::default()
        }
    }

    fn counts(steps: &[Step]) -> Vec<u32> {
        steps.iter().map(|s| s.green_instances).collect()
    }

    #[test]
    fn rollbacks_in_batches() {
        // Without RollbackMaximumBatchSize: everything back at once, from wherever it was.
        for g in 0..=4 {
            assert_eq!(counts(&rollback_plan(g, 4, None)), vec![0]);
        }
        assert_eq!(counts(&rollback_plan(3, 3, Some(Size::Instances(1)))), vec![2, 1, 0]);
        assert_eq!(counts(&rollback_plan(2, 3, Some(Size::Instances(1)))), vec![1, 0]);
        assert_eq!(counts(&rollback_plan(5, 5, Some(Size::Instances(2)))), vec![3, 1, 0]);
        assert_eq!(counts(&rollback_plan(10, 10, Some(Size::Percent(25)))), vec![8, 6, 4, 2, 0]);
        assert_eq!(counts(&rollback_plan(4, 10, Some(Size::Percent(100)))), vec![0]);
        // 33 % of 3 is one instance; at least one instance per batch; never below zero.
        assert_eq!(counts(&rollback_plan(3, 3, Some(Size::Percent(33)))), vec![2, 1, 0]);
        assert_eq!(counts(&rollback_plan(3, 3, Some(Size::Percent(1)))), vec![2, 1, 0]);
        assert_eq!(counts(&rollback_plan(0, 3, Some(Size::Instances(1)))), vec![0]);
        assert_eq!(counts(&rollback_plan(9, 3, Some(Size::Instances(5)))), vec![0]);
        let p = rollback_plan(3, 3, Some(Size::Instances(1)));
        assert!((p[0].green_share - 2.0 / 3.0).abs() < 1e-12 && p[2].green_share == 0.0);
        // The policy keeps the batch of a rolling update (and none for blue/green).
        let rolling = api::DeploymentConfig {
            rolling_update_policy: Some(api::RollingUpdatePolicy {
                maximum_batch_size: api::CapacitySize { r#type: "INSTANCE_COUNT".into(), value: 1 },
                wait_interval_in_seconds: 1,
                maximum_execution_timeout_in_seconds: None,
                rollback_maximum_batch_size: Some(api::CapacitySize { r#type: "CAPACITY_PERCENT".into(), value: 50 }),
            }),
            ..Default::default()
        };
        assert_eq!(Policy::from_config(&rolling, 4, false).unwrap().rollback_batch, Some(Size::Percent(50)));
        assert_eq!(Policy::from_config(&cfg("CANARY", Some(("INSTANCE_COUNT", 1))), 3, false).unwrap().rollback_batch, None);
    }

    #[test]
    fn all_at_once_for_every_capacity() {
        for n in 1..=10 {
            assert_eq!(counts(&plan(Routing::AllAtOnce, n)), vec![n]);
        }
    }

    #[test]
    fn canary_steps_for_capacities_1_to_10() {
        for n in 1..=10u32 {
            let p = plan(Routing::Canary(Size::Instances(1)), n);
            if n == 1 {
                assert_eq!(counts(&p), vec![1]);
            } else {
                assert_eq!(counts(&p), vec![1, n]);
                assert!((p[0].green_share - 1.0 / n as f64).abs() < 1e-12);
            }
            assert_eq!(p.last().unwrap().green_share, 1.0);
        }
        // Percent: rounded down, at least one instance.
        assert_eq!(counts(&plan(Routing::Canary(Size::Percent(30)), 3)), vec![1, 3]);
        assert_eq!(counts(&plan(Routing::Canary(Size::Percent(50)), 3)), vec![1, 3]);
        assert_eq!(counts(&plan(Routing::Canary(Size::Percent(10)), 3)), vec![1, 3]);
        assert_eq!(counts(&plan(Routing::Canary(Size::Percent(25)), 10)), vec![2, 10]);
        assert_eq!(counts(&plan(Routing::Canary(Size::Percent(50)), 10)), vec![5, 10]);
    }

    #[test]
    fn linear_steps_for_capacities_1_to_10() {
        // 33 % of 3 is one instance per step (the seed's example).
        let p = plan(Routing::Linear(Size::Percent(33)), 3);
        assert_eq!(counts(&p), vec![1, 2, 3]);
        assert!((p[0].green_share - 1.0 / 3.0).abs() < 1e-12);
        for n in 1..=10u32 {
            let p = plan(Routing::Linear(Size::Instances(1)), n);
            assert_eq!(counts(&p), (1..=n).collect::<Vec<_>>());
            let p = plan(Routing::Linear(Size::Percent(50)), n);
            let k = (n / 2).max(1);
            assert_eq!(p.len() as u32, n.div_ceil(k));
            assert_eq!(p.last().unwrap().green_instances, n);
            // Shares grow strictly.
            assert!(p.windows(2).all(|w| w[0].green_share < w[1].green_share));
        }
        assert_eq!(counts(&plan(Routing::Linear(Size::Percent(20)), 10)), vec![2, 4, 6, 8, 10]);
        assert_eq!(counts(&plan(Routing::Linear(Size::Percent(40)), 10)), vec![4, 8, 10]);
        assert_eq!(counts(&plan(Routing::Linear(Size::Percent(10)), 7)), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(counts(&plan(Routing::Rolling(Size::Instances(3)), 7)), vec![3, 6, 7]);
    }

    use hearth_runtime::{Clock, ManualClock};
    use std::time::Duration;

    /// Drive `decide` on a manual clock the way the job does; `event(t, step)` injects alarms
    /// and requests. Returns the moves with their times (seconds from the start).
    fn simulate(policy: &Policy, total: u32, event: impl Fn(f64) -> (Option<String>, Option<Request>)) -> Vec<(f64, Decision)> {
        let clock = ManualClock::new(time::macros::datetime!(2024-01-01 00:00 UTC));
        let start = clock.now();
        let steps = plan(policy.routing, total).len();
        let (mut step, mut since, mut out) = (0usize, start, Vec::new());
        for _ in 0..100_000 {
            let t = (clock.now() - start).as_seconds_f64();
            let (alarm, request) = event(t);
            let d = decide(policy, steps, step, start, since, &Observation { now: clock.now(), alarm, request }, Duration::from_millis(100));
            match &d {
                Decision::Wait(w) => {
                    clock.advance(*w);
                    continue;
                }
                Decision::Step(n) => {
                    step = *n;
                    since = clock.now();
                }
                Decision::AllOnGreen => {
                    step = steps;
                    since = clock.now();
                }
                Decision::Retire | Decision::RollBack(_) => {
                    out.push((t, d));
                    return out;
                }
            }
            out.push((t, d));
        }
        panic!("no end: {out:?}")
    }

    fn canary(wait: u32, term: u32, max: Option<u32>) -> Policy {
        Policy { routing: Routing::Canary(Size::Instances(1)), wait_seconds: wait, termination_wait_seconds: term, max_execution_seconds: max, alarms: vec!["a".into()], rollback_batch: None }
    }

    #[test]
    fn success_bakes_every_step_then_waits_to_retire() {
        let p = canary(300, 120, Some(1800));
        let moves = simulate(&p, 3, |_| (None, None));
        assert_eq!(moves.iter().map(|(t, d)| (t.round() as i64, d.clone())).collect::<Vec<_>>(), vec![(300, Decision::Step(1)), (600, Decision::AllOnGreen), (720, Decision::Retire)]);
        let p = Policy { routing: Routing::Linear(Size::Percent(33)), ..canary(180, 120, Some(1800)) };
        let moves = simulate(&p, 3, |_| (None, None));
        let times: Vec<i64> = moves.iter().map(|(t, _)| t.round() as i64).collect();
        assert_eq!(times, vec![180, 360, 540, 660]);
        assert_eq!(moves[0].1, Decision::Step(1));
        assert_eq!(moves[2].1, Decision::AllOnGreen);
    }

    #[test]
    fn alarm_rolls_back_within_a_poll_in_any_bake() {
        let p = Policy { routing: Routing::Linear(Size::Instances(1)), ..canary(180, 120, Some(1800)) };
        // During the first, a middle and the final bake.
        for at in [10.0, 250.0, 400.0, 539.0] {
            let moves = simulate(&p, 3, |t| ((t >= at).then(|| "err-alarm".to_string()), None));
            let (t, d) = moves.last().unwrap().clone();
            assert_eq!(d, Decision::RollBack(RollbackCause::Alarm("err-alarm".into())));
            assert!(t >= at && t - at <= 0.1 + 1e-6, "alarm at {at}, rollback at {t}");
        }
        // Not after the final bake: the termination wait does not roll back.
        let moves = simulate(&p, 3, |t| ((t >= 600.0).then(|| "err-alarm".to_string()), None));
        assert_eq!(moves.last().unwrap().1, Decision::Retire);
    }

    #[test]
    fn abort_timeout_and_promote() {
        let p = canary(300, 120, Some(1800));
        let moves = simulate(&p, 3, |t| (None, (t >= 42.0).then(|| Request::Abort("cli:ops".into()))));
        assert_eq!(moves.last().unwrap().1, Decision::RollBack(RollbackCause::Abort("cli:ops".into())));
        assert!((moves.last().unwrap().0 - 42.0).abs() <= 0.1 + 1e-6);
        // The timeout counts from the deployment's start, across steps.
        let p = Policy { routing: Routing::Linear(Size::Instances(1)), ..canary(700, 0, Some(900)) };
        let moves = simulate(&p, 3, |_| (None, None));
        assert_eq!(moves.last().unwrap().1, Decision::RollBack(RollbackCause::Timeout(900)));
        assert!((moves.last().unwrap().0 - 900.0).abs() <= 0.1 + 1e-6);
        assert_eq!(RollbackCause::Timeout(900).reason(), "Deployment exceeded MaximumExecutionTimeoutInSeconds (900 s); rolled back.");
        // Promote skips the remaining baking and the termination wait.
        let p = canary(3600, 3600, None);
        let moves = simulate(&p, 3, |t| (None, (t >= 5.0).then_some(Request::Promote)));
        let times: Vec<i64> = moves.iter().map(|(t, _)| t.round() as i64).collect();
        assert_eq!(times, vec![5, 5]);
        assert_eq!(moves.last().unwrap().1, Decision::Retire);
        // Abort after everything is on green is too late: the deployment completes.
        let p = canary(10, 60, None);
        let moves = simulate(&p, 3, |t| (None, (t >= 30.0).then(|| Request::Abort("x".into()))));
        assert_eq!(moves.last().unwrap().1, Decision::Retire);
    }

    #[test]
    fn policies_and_their_errors() {
        let p = Policy::from_config(&cfg("CANARY", Some(("INSTANCE_COUNT", 1))), 3, false).unwrap();
        assert_eq!((p.routing, p.wait_seconds, p.termination_wait_seconds, p.max_execution_seconds), (Routing::Canary(Size::Instances(1)), 300, 120, Some(1800)));
        let p = Policy::from_config(&cfg("LINEAR", Some(("CAPACITY_PERCENT", 33))), 3, false).unwrap();
        assert_eq!(p.routing, Routing::Linear(Size::Percent(33)));
        assert!(Policy::from_config(&cfg("ALL_AT_ONCE", None), 1, true).is_ok());
        let err = |c: api::DeploymentConfig, n: u32| Policy::from_config(&c, n, false).unwrap_err().to_string();
        assert!(err(cfg("CANARY", Some(("CAPACITY_PERCENT", 150))), 3).contains("between 1 and 100"));
        assert!(err(cfg("CANARY", Some(("CAPACITY_PERCENT", 60))), 3).contains("50%"));
        assert!(err(cfg("CANARY", Some(("INSTANCE_COUNT", 2))), 3).contains("50%"));
        assert!(err(cfg("CANARY", None), 3).contains("CanarySize must be specified"));
        assert!(err(cfg("LINEAR", Some(("CAPACITY_PERCENT", 5))), 3).contains("10%"));
        assert!(err(cfg("LINEAR", None), 3).contains("LinearStepSize must be specified"));
        assert!(Policy::from_config(&cfg("CANARY", Some(("INSTANCE_COUNT", 1))), 3, true).is_err());
        let mut both = cfg("ALL_AT_ONCE", None);
        both.rolling_update_policy = Some(api::RollingUpdatePolicy { maximum_batch_size: api::CapacitySize { r#type: "INSTANCE_COUNT".into(), value: 1 }, wait_interval_in_seconds: 1, ..Default::default() });
        assert!(err(both, 3).contains("Only one update policy"));
        // Model constraints.
        let mut v = Violations::new();
        let mut c = cfg("CANARY", Some(("INSTANCE_COUNT", 0)));
        if let Some(b) = c.blue_green_update_policy.as_mut() {
            b.traffic_routing_configuration.wait_interval_in_seconds = 4000;
            b.maximum_execution_timeout_in_seconds = Some(10);
        }
        check_config(&mut v, &c);
        let msg = v.finish().unwrap_err().to_string();
        assert!(msg.starts_with("3 validation errors detected"), "{msg}");
        assert!(msg.contains("'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600"));
    }
}
