//! Durable jobs (see crate docs). Implemented by the runtime work.
