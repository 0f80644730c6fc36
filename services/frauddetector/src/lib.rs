pub mod api;
pub mod domain;
