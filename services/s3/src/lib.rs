//! S3-compatible object storage (restXml), path-style and virtual-hosted-style (the server
//! rewrites virtual-hosted requests to path style before they reach [`S3::handle`]).
//!
//! Implemented operations (see `docs/coverage/s3.md`): CreateBucket, HeadBucket, ListBuckets,
//! DeleteBucket, GetBucketLocation, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
//! CopyObject, ListObjectsV2, ListObjects, CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
//!
//! Durability: object bytes go to a blob (temp file, fsync, rename) and only then is the object
//! record committed to the metadata store; the reply is sent after both. An acknowledged object
//! survives `kill -9`.
//!
//! In-process, other services read objects whole ([`internal`]) or stream them with
//! [`S3::open_object`] ([`reader`]: a blocking `Read + Seek` over the blob files that keeps
//! them readable while the object is overwritten or deleted).

pub mod api;
pub mod error;
mod handlers;
pub mod internal;
pub mod reader;
pub mod store;

use api::Operation;
use axum::body::Body;
use error::S3Error;
use hearth_protocol::codec::{self, rest};
use hearth_protocol::sigv4::Payload;
use hearth_protocol::{Protocol, RequestContext};
use hearth_runtime::blob::BlobStore;
use hearth_runtime::{Clock, MetaStore};
use serde::Serialize;
use std::sync::Arc;

pub use reader::ObjectReader;

/// Largest object a single PUT may carry (AWS: 5 GiB).
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Largest non-streaming request body (XML documents such as DeleteObjects).
const MAX_XML_BODY: usize = 4 * 1024 * 1024;

/// The S3 service: metadata store + blob store.
#[derive(Clone)]
pub struct S3 {
    pub(crate) meta: MetaStore,
    pub(crate) blobs: BlobStore,
    pub(crate) clock: Arc<dyn Clock>,
}

/// What a handler returns: the output value plus, for GetObject, a streamed body.
pub(crate) struct Reply {
    pub value: serde_json::Value,
    pub body: Option<Body>,
    pub status: Option<u16>,
    /// Headers beyond those the output value encodes.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn of<T: Serialize>(out: &T) -> Result<Reply, S3Error> {
        let value = serde_json::to_value(out).map_err(|e| S3Error::Internal(e.to_string()))?;
        Ok(Reply { value, body: None, status: None, headers: Vec::new() })
    }
}

/// One S3 request after authentication.
pub(crate) struct Call {
    pub ctx: RequestContext,
    pub parts: http::request::Parts,
    pub payload: Payload,
    /// The body, still unread for streaming operations (PutObject, UploadPart).
    pub body: Option<Body>,
    pub input: serde_json::Value,
}

impl S3 {
    pub fn new(meta: MetaStore, blobs: BlobStore, clock: Arc<dyn Clock>) -> Self {
        S3 { meta, blobs, clock }
    }

    /// Serve one authenticated request.
    pub async fn handle(&self, ctx: RequestContext, payload: Payload, req: http::Request<Body>) -> http::Response<Body> {
        let head = req.method() == http::Method::HEAD;
        let request_id = ctx.request_id.clone();
        let mut routed = None;
        match self.dispatch(ctx, payload, req, &mut routed).await {
            Ok((op, reply)) => respond(op, reply, &request_id),
            Err(e) => {
                let mut resp = error_response(&e.to_aws(), &request_id, head);
                if let Some(op) = routed {
                    resp.extensions_mut().insert(hearth_protocol::context::OperationName(op.name()));
                }
                resp
            }
        }
    }

    async fn dispatch(&self, ctx: RequestContext, payload: Payload, req: http::Request<Body>, routed: &mut Option<Operation>) -> Result<(Operation, Reply), S3Error> {
        let (parts, body) = req.into_parts();
        let query = rest::parse_query(parts.uri.query().unwrap_or(""));
        let route = rest::route(&api::SERVICE, parts.method.as_str(), parts.uri.path(), &query, &parts.headers).ok_or_else(|| {
            S3Error::Aws(hearth_protocol::AwsError::new("MethodNotAllowed", "The specified method is not allowed against this resource.", 405))
        })?;
        let op = Operation::from_name(route.op.name).expect("routed operations are generated");
        *routed = Some(op);
        if op == Operation::UploadPart && parts.headers.contains_key("x-amz-copy-source") {
            return Err(S3Error::NotImplemented("UploadPartCopy".into()));
        }
        let streaming = matches!(op, Operation::PutObject | Operation::UploadPart);
        let (raw, body) = if streaming {
            (Vec::new(), Some(body))
        } else {
            (handlers::body::read_small(body, &payload, &parts.headers, MAX_XML_BODY).await?, None)
        };
        let spec = op.spec();
        let input = rest::decode_input(&api::SERVICE, spec, &route.labels, &query, &parts.headers, &raw)
            .map_err(|e| S3Error::Aws(e.to_aws(Protocol::RestXml)))?;
        let call = Call { ctx, parts, payload, body, input };
        tracing::debug!(operation = op.name(), "s3 request");
        let reply = match op {
            Operation::CreateBucket => handlers::buckets::create_bucket(self, call).await,
            Operation::HeadBucket => handlers::buckets::head_bucket(self, call).await,
            Operation::ListBuckets => handlers::buckets::list_buckets(self, call).await,
            Operation::DeleteBucket => handlers::buckets::delete_bucket(self, call).await,
            Operation::GetBucketLocation => handlers::buckets::get_bucket_location(self, call).await,
            Operation::PutObject => handlers::objects::put_object(self, call).await,
            Operation::GetObject => handlers::objects::get_object(self, call, false).await,
            Operation::HeadObject => handlers::objects::get_object(self, call, true).await,
            Operation::DeleteObject => handlers::objects::delete_object(self, call).await,
            Operation::DeleteObjects => handlers::objects::delete_objects(self, call).await,
            Operation::CopyObject => handlers::objects::copy_object(self, call).await,
            Operation::ListObjectsV2 => handlers::listing::list_objects_v2(self, call).await,
            Operation::ListObjects => handlers::listing::list_objects(self, call).await,
            Operation::CreateMultipartUpload => handlers::multipart::create_multipart_upload(self, call).await,
            Operation::UploadPart => handlers::multipart::upload_part(self, call).await,
            Operation::CompleteMultipartUpload => handlers::multipart::complete_multipart_upload(self, call).await,
            Operation::AbortMultipartUpload => handlers::multipart::abort_multipart_upload(self, call).await,
            Operation::ListParts => handlers::multipart::list_parts(self, call).await,
            Operation::ListMultipartUploads => handlers::multipart::list_multipart_uploads(self, call).await,
        }?;
        Ok((op, reply))
    }
}

fn respond(op: Operation, reply: Reply, request_id: &str) -> http::Response<Body> {
    let enc = rest::encode_output(&api::SERVICE, op.spec(), &reply.value);
    let mut b = http::Response::builder().status(reply.status.unwrap_or(enc.status));
    b = b.header("x-amz-request-id", request_id).header("x-amz-id-2", request_id);
    for (k, v) in enc.headers.iter().chain(reply.headers.iter()) {
        if let Ok(v) = http::HeaderValue::from_str(v) {
            b = b.header(k.as_str(), v);
        }
    }
    let body = match reply.body {
        Some(body) => body,
        None => {
            let len = enc.body.len();
            if !enc.headers.iter().chain(reply.headers.iter()).any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
                b = b.header("content-length", len);
            }
            Body::from(enc.body)
        }
    };
    let mut resp = b.body(body).unwrap_or_else(|_| error_response(&S3Error::Internal("bad response header".into()).to_aws(), request_id, false));
    resp.extensions_mut().insert(hearth_protocol::context::OperationName(op.name()));
    resp
}

/// An S3 error reply (also used by the server for authentication failures).
pub fn error_response(e: &hearth_protocol::AwsError, request_id: &str, head: bool) -> http::Response<Body> {
    let r = e.render(Protocol::RestXml, request_id, head);
    let mut b = http::Response::builder().status(r.status);
    for (k, v) in r.headers {
        b = b.header(k, v);
    }
    b.header("content-length", r.body.len()).body(Body::from(r.body)).expect("static headers are valid")
}

pub(crate) fn input<T: serde::de::DeserializeOwned>(call: &Call) -> Result<T, S3Error> {
    codec::from_value(call.input.clone()).map_err(|e| S3Error::Aws(e.to_aws(Protocol::RestXml)))
}
