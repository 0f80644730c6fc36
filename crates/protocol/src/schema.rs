//! The runtime schema of a service: the shapes and operations of its botocore model that
//! Hearth implements, as static tables generated into each service's `api.rs` by `cargo xtask gen`.
//!
//! The protocol codecs are driven by these tables: they bind HTTP headers, query strings, URI
//! labels and XML/JSON bodies to a canonical `serde_json::Value` (timestamps as epoch seconds,
//! blobs as base64 strings), which the generated serde types then read. One codec per protocol
//! serves every service that speaks it.

use crate::error::Protocol;

/// Index of a shape in [`Service::shapes`].
pub type ShapeId = u16;

/// One service's model (the implemented subset).
#[derive(Debug)]
pub struct Service {
    /// botocore's service name, e.g. `s3`.
    pub name: &'static str,
    pub protocol: Protocol,
    /// `X-Amz-Target` prefix for awsJson services.
    pub target_prefix: &'static str,
    /// XML namespace of replies (restXml, query).
    pub xml_namespace: &'static str,
    /// API version (sent in query requests as `Version`).
    pub api_version: &'static str,
    pub shapes: &'static [Shape],
    pub operations: &'static [OperationSpec],
}

impl Service {
    pub fn shape(&self, id: ShapeId) -> &'static Shape {
        &self.shapes[id as usize]
    }
    pub fn operation(&self, name: &str) -> Option<&'static OperationSpec> {
        self.operations.iter().find(|o| o.name == name)
    }
}

#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    pub kind: ShapeKind,
}

#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        members: &'static [Member],
        /// Name of the member bound to the HTTP body (rest protocols), if any.
        payload: Option<&'static str>,
    },
    List {
        member: ShapeId,
        /// XML element name of each item (`member` by default).
        member_name: &'static str,
        flattened: bool,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        key_name: &'static str,
        value_name: &'static str,
        flattened: bool,
    },
    String,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
    Timestamp {
        format: Option<TimestampFormat>,
    },
    Blob {
        streaming: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    Iso8601,
    Rfc822,
    UnixTimestamp,
}

/// Where a member lives on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Header,
    /// A map of headers sharing a prefix (`x-amz-meta-`).
    Headers,
    Query,
    Uri,
    StatusCode,
}

#[derive(Debug)]
pub struct Member {
    /// The member name (serde field name in the generated type).
    pub name: &'static str,
    pub shape: ShapeId,
    pub location: Location,
    /// Header name, query key, URI label or XML element name.
    pub location_name: &'static str,
    pub required: bool,
    pub flattened: bool,
    pub xml_attribute: bool,
    /// `xmlns` to put on this member's element, if the model says so.
    pub xml_namespace: Option<&'static str>,
    pub timestamp_format: Option<TimestampFormat>,
}

impl Member {
    /// The element/key name on the wire for body members.
    pub fn wire_name(&self) -> &'static str {
        if self.location_name.is_empty() {
            self.name
        } else {
            self.location_name
        }
    }
}

#[derive(Debug)]
pub struct OperationSpec {
    pub name: &'static str,
    pub method: &'static str,
    /// Request URI template, e.g. `/{Bucket}/{Key+}?uploads`.
    pub uri: &'static str,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// Success status code (200 unless the model says otherwise).
    pub status: u16,
    /// XML element name of the input body root when the model gives one (restXml).
    pub input_xml_name: Option<&'static str>,
    /// Name of the output wrapper for query replies (`resultWrapper`).
    pub result_wrapper: Option<&'static str>,
    /// Root element name of a restXml reply body without a payload member (e.g. `ListBucketResult`).
    pub output_xml_name: Option<&'static str>,
}
