//! CloudWatch's logic, free of HTTP and wire types: statistics over stored points
//! ([`stats`]), metric math ([`math`]), GetMetricData execution ([`query`]) and the alarm
//! state machine ([`alarm`]).

pub mod alarm;
pub mod math;
pub mod query;
pub mod stats;
