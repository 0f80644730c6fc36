//! How deliveries leave Hearth: HTTP/S POSTs ([`http`]) and mail to an SMTP relay ([`smtp`]).
//! Both report a failed attempt as `Err(reason)`; the delivery job decides about retries.

pub mod http;
pub mod smtp;
