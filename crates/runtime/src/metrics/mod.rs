//! Metrics core (see crate docs). Implemented by the runtime work.
