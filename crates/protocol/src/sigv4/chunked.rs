//! Incremental decoder of `Content-Encoding: aws-chunked` bodies (S3 streaming uploads).
//!
//! Wire format (AWS "Signature Calculations for the Authorization Header: Transferring Payload in
//! Multiple Chunks" and "... Including Trailing Headers"):
//!
//! ```text
//! <hex-size>;chunk-signature=<sig>\r\n<data>\r\n      (signed; unsigned chunks omit ";chunk-signature=...")
//! ...
//! 0;chunk-signature=<sig>\r\n                         (final chunk, no data)
//! x-amz-checksum-crc32:<base64>\r\n                   (optional trailers)
//! x-amz-trailer-signature:<sig>\r\n                   (signed trailer variant only)
//! \r\n
//! ```
//!
//! Each chunk signature is the HMAC, with the request's signing key, of
//! `AWS4-HMAC-SHA256-PAYLOAD\n<datetime>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(data)>`,
//! chained from the seed signature of the `Authorization` header; the trailer signature is the
//! HMAC of `AWS4-HMAC-SHA256-TRAILER\n<datetime>\n<scope>\n<final chunk signature>\n<sha256(trailers)>`
//! where `trailers` is each `name:value\n`.
//!
//! Input may arrive split anywhere. In signed mode a chunk's bytes are held until its signature
//! is checked, so every byte handed out is authenticated (chunks are limited to
//! [`MAX_SIGNED_CHUNK`]); in unsigned mode bytes are handed out as they arrive. Chunk header and
//! trailer lines are limited to [`MAX_LINE`] bytes. Hand-written because no maintained crate
//! decodes aws-chunked incrementally with chained signature checks.
//!
//! Leniencies, for clients seen in the wild: an empty line between the final chunk and the
//! trailers (the layout of AWS's own trailer example) is accepted, and so is a body that ends
//! after the last trailer line without the closing empty line.

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};

use super::error::AuthError;
use super::signing::{decode_signature, SigningKey};

/// Longest chunk header or trailer line accepted, CRLF excluded.
pub const MAX_LINE: usize = 4096;
/// Largest signed chunk accepted (SDKs send 64 KiB to 1 MiB).
pub const MAX_SIGNED_CHUNK: u64 = 16 * 1024 * 1024;
/// Most trailer lines accepted.
pub const MAX_TRAILERS: usize = 32;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// What a signed aws-chunked body is checked against: the request's signing key, time, scope and
/// seed signature. Produced by [`super::verify`] for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`.
#[derive(Clone)]
pub struct ChunkVerifier {
    key: SigningKey,
    datetime: String,
    scope: String,
    seed: [u8; 32],
    trailer: bool,
}

impl std::fmt::Debug for ChunkVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkVerifier")
            .field("datetime", &self.datetime)
            .field("scope", &self.scope)
            .field("seed", &hex::encode(self.seed))
            .field("trailer", &self.trailer)
            .finish_non_exhaustive()
    }
}

impl ChunkVerifier {
    pub(crate) fn from_key(
        key: SigningKey,
        datetime: String,
        scope: String,
        seed: [u8; 32],
        trailer: bool,
    ) -> Self {
        ChunkVerifier {
            key,
            datetime,
            scope,
            seed,
            trailer,
        }
    }

    /// Builds a verifier from the secret and the request's signing values; `None` if
    /// `seed_signature` is not 64 hex digits or `scope` is not `date/region/service/aws4_request`.
    /// [`super::verify`] is the usual source; this is for tests and tools.
    pub fn new(
        secret: &str,
        datetime: &str,
        scope: &str,
        seed_signature: &str,
        trailer: bool,
    ) -> Option<Self> {
        let mut parts = scope.split('/');
        let (Some(date), Some(region), Some(service), Some("aws4_request"), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let seed = decode_signature(seed_signature)?;
        let key = SigningKey::derive(secret, date, region, service);
        Some(ChunkVerifier {
            key,
            datetime: datetime.to_string(),
            scope: scope.to_string(),
            seed,
            trailer,
        })
    }

    /// Whether the body ends with signed trailers (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`).
    pub fn expects_trailer(&self) -> bool {
        self.trailer
    }

    /// The seed signature (of the `Authorization` header), hex.
    pub fn seed_signature(&self) -> String {
        hex::encode(self.seed)
    }

    fn chunk_string_to_sign(&self, previous: &[u8; 32], data_sha256: &[u8]) -> String {
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.datetime,
            self.scope,
            hex::encode(previous),
            hex::encode(data_sha256)
        )
    }

    fn trailer_string_to_sign(&self, previous: &[u8; 32], canonical_trailers: &[u8]) -> String {
        format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.datetime,
            self.scope,
            hex::encode(previous),
            hex::encode(Sha256::digest(canonical_trailers))
        )
    }
}

#[derive(Debug)]
enum State {
    /// Reading a chunk header line.
    Header,
    /// Reading `remaining` data bytes of a chunk (signature held for signed chunks).
    Data {
        remaining: u64,
        signature: Option<[u8; 32]>,
    },
    /// Expecting the CRLF after a chunk's data; `seen` bytes of it matched so far.
    DataEnd { seen: u8 },
    /// Reading trailer lines after the final chunk. `blank_first`: an empty line came right after
    /// the final chunk (complete unless trailers follow).
    Trailers { blank_first: bool },
    /// Closing empty line seen.
    Done,
    /// A previous call failed; the body is rejected.
    Failed,
}

/// Decodes an aws-chunked body fed in arbitrary pieces; see the module docs.
#[derive(Debug)]
pub struct AwsChunkedDecoder {
    verifier: Option<ChunkVerifier>,
    previous: [u8; 32],
    state: State,
    line: Vec<u8>,
    chunk: BytesMut,
    hasher: Sha256,
    decoded_len: u64,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<[u8; 32]>,
}

impl AwsChunkedDecoder {
    /// A decoder that checks every chunk signature (and the trailer signature) against `verifier`.
    pub fn new_signed(verifier: ChunkVerifier) -> Self {
        let previous = verifier.seed;
        Self::build(Some(verifier), previous)
    }

    /// A decoder for `STREAMING-UNSIGNED-PAYLOAD-TRAILER` bodies: no chunk signatures.
    pub fn new_unsigned() -> Self {
        Self::build(None, [0; 32])
    }

    fn build(verifier: Option<ChunkVerifier>, previous: [u8; 32]) -> Self {
        AwsChunkedDecoder {
            verifier,
            previous,
            state: State::Header,
            line: Vec::new(),
            chunk: BytesMut::new(),
            hasher: Sha256::new(),
            decoded_len: 0,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Payload bytes handed out so far; compare with `x-amz-decoded-content-length` after
    /// [`finish`](Self::finish).
    pub fn decoded_len(&self) -> u64 {
        self.decoded_len
    }

    /// Whether the body looks complete so far: the final chunk and the closing empty line were seen.
    pub fn is_complete(&self) -> bool {
        match self.state {
            State::Done => true,
            State::Trailers { blank_first } => blank_first && self.line.is_empty(),
            _ => false,
        }
    }

    /// Feeds raw body bytes; returns the payload bytes they complete (authenticated ones only,
    /// when signed). After an error the decoder stays failed.
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<Bytes>, AuthError> {
        let mut out = Vec::new();
        match self.feed_inner(input, &mut out) {
            Ok(()) => Ok(out),
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    fn feed_inner(&mut self, mut input: &[u8], out: &mut Vec<Bytes>) -> Result<(), AuthError> {
        while !input.is_empty() {
            match &mut self.state {
                State::Failed => {
                    return Err(AuthError::MalformedChunk(
                        "the body was already rejected".into(),
                    ))
                }
                State::Done => {
                    return Err(AuthError::MalformedChunk(
                        "data after the final chunk".into(),
                    ))
                }
                State::Header => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    self.start_chunk(&line)?;
                }
                State::Data {
                    remaining,
                    signature,
                } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (data, rest) = input.split_at(take);
                    input = rest;
                    *remaining -= take as u64;
                    let done = *remaining == 0;
                    let signature = *signature;
                    if self.verifier.is_some() {
                        self.hasher.update(data);
                        self.chunk.extend_from_slice(data);
                    } else if !data.is_empty() {
                        self.add_len(data.len())?;
                        out.push(Bytes::copy_from_slice(data));
                    }
                    if done {
                        if let Some(signature) = signature {
                            self.verify_chunk(&signature)?;
                            let bytes = self.chunk.split().freeze();
                            self.add_len(bytes.len())?;
                            out.push(bytes);
                        }
                        self.state = State::DataEnd { seen: 0 };
                    }
                }
                State::DataEnd { seen } => {
                    let expected = b"\r\n"[usize::from(*seen)];
                    if input[0] != expected {
                        return Err(AuthError::MalformedChunk(
                            "chunk data is not followed by CRLF".into(),
                        ));
                    }
                    input = &input[1..];
                    *seen += 1;
                    if *seen == 2 {
                        self.state = State::Header;
                    }
                }
                State::Trailers { .. } => {
                    let Some(line) = self.take_line(&mut input)? else {
                        continue;
                    };
                    self.trailer_line(&line)?;
                }
            }
        }
        Ok(())
    }

    /// Ends the body: checks that it was complete (and its trailer signature, when signed with
    /// trailers) and returns the trailers (`x-amz-checksum-*`...), names lower-cased, without
    /// `x-amz-trailer-signature`. Checking the checksums is the caller's business.
    pub fn finish(mut self) -> Result<Vec<(String, String)>, AuthError> {
        match self.state {
            State::Done => Ok(self.trailers),
            State::Trailers { .. } => {
                if !self.line.is_empty() {
                    // The body ended on a trailer line without CRLF: take it as the last one.
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line).to_vec();
                    if !line.is_empty() {
                        self.add_trailer(&line)?;
                    }
                }
                self.close_trailers()?;
                Ok(self.trailers)
            }
            State::Failed => Err(AuthError::MalformedChunk(
                "the body was already rejected".into(),
            )),
            _ => Err(AuthError::IncompleteBody),
        }
    }

    fn add_len(&mut self, n: usize) -> Result<(), AuthError> {
        self.decoded_len = self
            .decoded_len
            .checked_add(n as u64)
            .ok_or_else(|| AuthError::MalformedChunk("decoded length overflows".into()))?;
        Ok(())
    }

    /// Takes a CRLF-terminated line (without the CRLF) from `input`, buffering partial lines.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, AuthError> {
        match input.iter().position(|&b| b == b'\n') {
            Some(i) => {
                if self.line.len() + i > MAX_LINE + 1 {
                    return Err(AuthError::MalformedChunk(format!(
                        "line longer than {MAX_LINE} bytes"
                    )));
                }
                self.line.extend_from_slice(&input[..i]);
                *input = &input[i + 1..];
                let mut line = std::mem::take(&mut self.line);
                if line.pop() != Some(b'\r') {
                    return Err(AuthError::MalformedChunk(
                        "line not terminated by CRLF".into(),
                    ));
                }
                Ok(Some(line))
            }
            None => {
                if self.line.len() + input.len() > MAX_LINE + 1 {
                    return Err(AuthError::MalformedChunk(format!(
                        "line longer than {MAX_LINE} bytes"
                    )));
                }
                self.line.extend_from_slice(input);
                *input = &[];
                Ok(None)
            }
        }
    }

    /// Parses `hex-size[;name=value...]` and moves to the chunk's data (or the trailers).
    fn start_chunk(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let text = std::str::from_utf8(line)
            .map_err(|_| AuthError::MalformedChunk("chunk header is not text".into()))?;
        let mut fields = text.split(';');
        let size_text = fields.next().unwrap_or("").trim();
        if size_text.is_empty()
            || size_text.len() > 16
            || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(AuthError::MalformedChunk(format!(
                "invalid chunk size {size_text:?}"
            )));
        }
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| AuthError::MalformedChunk(format!("invalid chunk size {size_text:?}")))?;
        let mut signature = None;
        for field in fields {
            let (name, value) = field.split_once('=').unwrap_or((field, ""));
            if name.trim() == "chunk-signature" {
                if signature.is_some() {
                    return Err(AuthError::MalformedChunk(
                        "duplicate chunk-signature".into(),
                    ));
                }
                signature = Some(value.trim());
            }
        }
        let signature = match (&self.verifier, signature) {
            (Some(_), None) => {
                return Err(AuthError::MalformedChunk(
                    "chunk without chunk-signature".into(),
                ))
            }
            (Some(_), Some(sig)) => Some(decode_signature(sig).ok_or_else(|| {
                AuthError::MalformedChunk(format!("invalid chunk-signature {sig:?}"))
            })?),
            (None, _) => None,
        };
        if self.verifier.is_some() && size > MAX_SIGNED_CHUNK {
            return Err(AuthError::MalformedChunk(format!(
                "chunk of {size} bytes exceeds {MAX_SIGNED_CHUNK}"
            )));
        }
        if size == 0 {
            self.hasher = Sha256::new();
            if let Some(signature) = signature {
                self.verify_chunk(&signature)?;
            }
            self.state = State::Trailers { blank_first: false };
        } else {
            self.hasher = Sha256::new();
            self.chunk.clear();
            if self.verifier.is_some() {
                self.chunk
                    .reserve(usize::try_from(size).unwrap_or(0).min(1 << 20));
            }
            self.state = State::Data {
                remaining: size,
                signature,
            };
        }
        Ok(())
    }

    /// Checks the signature of the chunk whose data went through `self.hasher` and chains it.
    fn verify_chunk(&mut self, signature: &[u8; 32]) -> Result<(), AuthError> {
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        let digest = std::mem::take(&mut self.hasher).finalize();
        let sts = verifier.chunk_string_to_sign(&self.previous, &digest);
        if !verifier.key.verify(sts.as_bytes(), signature) {
            return Err(AuthError::ChunkSignatureMismatch {
                string_to_sign: sts,
            });
        }
        self.previous = *signature;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let State::Trailers { blank_first } = &mut self.state else {
            return Ok(());
        };
        if line.is_empty() {
            if self.trailers.is_empty() && self.trailer_signature.is_none() && !*blank_first {
                *blank_first = true;
                return Ok(());
            }
            self.close_trailers()?;
            self.state = State::Done;
            return Ok(());
        }
        self.add_trailer(line)
    }

    fn add_trailer(&mut self, line: &[u8]) -> Result<(), AuthError> {
        if self.trailer_signature.is_some() {
            return Err(AuthError::MalformedTrailer(
                "trailer after x-amz-trailer-signature".into(),
            ));
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| AuthError::MalformedTrailer("trailer is not text".into()))?;
        let Some((name, value)) = text.split_once(':') else {
            return Err(AuthError::MalformedTrailer(format!(
                "trailer line without ':' {text:?}"
            )));
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AuthError::MalformedTrailer(format!(
                "invalid trailer name {name:?}"
            )));
        }
        if name == TRAILER_SIGNATURE {
            if self.verifier.is_some() {
                let sig = decode_signature(&value).ok_or_else(|| {
                    AuthError::MalformedTrailer(format!("invalid trailer signature {value:?}"))
                })?;
                self.trailer_signature = Some(sig);
            }
            return Ok(());
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(AuthError::MalformedTrailer("too many trailers".into()));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    /// End of the trailer section: checks the trailer signature in signed mode.
    fn close_trailers(&mut self) -> Result<(), AuthError> {
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        if !verifier.trailer {
            if !self.trailers.is_empty() || self.trailer_signature.is_some() {
                return Err(AuthError::MalformedTrailer(
                    "trailers in a body signed without them".into(),
                ));
            }
            return Ok(());
        }
        if self.trailers.is_empty() && self.trailer_signature.is_none() {
            return Ok(());
        }
        let Some(signature) = self.trailer_signature else {
            return Err(AuthError::MalformedTrailer(
                "missing x-amz-trailer-signature".into(),
            ));
        };
        let mut canonical = Vec::new();
        for (name, value) in &self.trailers {
            canonical.extend_from_slice(name.as_bytes());
            canonical.push(b':');
            canonical.extend_from_slice(value.as_bytes());
            canonical.push(b'\n');
        }
        let sts = verifier.trailer_string_to_sign(&self.previous, &canonical);
        if !verifier.key.verify(sts.as_bytes(), &signature) {
            return Err(AuthError::ChunkSignatureMismatch {
                string_to_sign: sts,
            });
        }
        self.previous = signature;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
    const DATETIME: &str = "20130524T000000Z";

    /// The body of AWS's "Example: PUT Object" (chunked upload): 64 KiB + 1 KiB of 'a'.
    fn aws_example_body() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        body.extend(std::iter::repeat_n(b'a', 65536));
        body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        body.extend(std::iter::repeat_n(b'a', 1024));
        body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        body
    }

    fn aws_example_verifier() -> ChunkVerifier {
        ChunkVerifier::new(
            SECRET,
            DATETIME,
            SCOPE,
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            false,
        )
        .unwrap()
    }

    /// The body of AWS's trailing-header example (crc32c trailer).
    fn aws_trailer_example(extra_blank: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(b"10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n");
        body.extend(std::iter::repeat_n(b'a', 65536));
        body.extend_from_slice(b"\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n");
        body.extend(std::iter::repeat_n(b'a', 1024));
        body.extend_from_slice(b"\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n");
        if extra_blank {
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"x-amz-checksum-crc32c:sOO8/Q==\r\n");
        body.extend_from_slice(b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n");
        body
    }

    fn aws_trailer_verifier() -> ChunkVerifier {
        ChunkVerifier::new(
            SECRET,
            DATETIME,
            SCOPE,
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            true,
        )
        .unwrap()
    }

    /// Decoded body, trailers and reported decoded length.
    type Decoded = (Vec<u8>, Vec<(String, String)>, u64);

    fn decode_in_pieces(
        mut decoder: AwsChunkedDecoder,
        body: &[u8],
        sizes: &mut dyn FnMut() -> usize,
    ) -> Result<Decoded, AuthError> {
        let mut out = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let n = sizes().clamp(1, rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            for b in decoder.feed(piece)? {
                out.extend_from_slice(&b);
            }
        }
        let len = decoder.decoded_len();
        let trailers = decoder.finish()?;
        Ok((out, trailers, len))
    }

    /// xorshift: deterministic "random" split sizes without a dependency.
    fn splitter(seed: u64, max: usize) -> impl FnMut() -> usize {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % max as u64) as usize + 1
        }
    }

    #[test]
    fn aws_chunked_example_whole_and_split() {
        let body = aws_example_body();
        let (data, trailers, len) = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_example_verifier()),
            &body,
            &mut || usize::MAX,
        )
        .unwrap();
        assert_eq!(data, vec![b'a'; 66560]);
        assert_eq!(len, 66560);
        assert!(trailers.is_empty());
        for seed in 1..20 {
            let (data, _, _) = decode_in_pieces(
                AwsChunkedDecoder::new_signed(aws_example_verifier()),
                &body,
                &mut splitter(seed, 5000),
            )
            .unwrap();
            assert_eq!(data.len(), 66560);
        }
    }

    #[test]
    fn aws_chunked_example_one_byte_at_a_time() {
        let body = aws_example_body();
        let (data, _, _) = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_example_verifier()),
            &body,
            &mut || 1,
        )
        .unwrap();
        assert_eq!(data, vec![b'a'; 66560]);
    }

    #[test]
    fn aws_trailer_example_verifies() {
        for extra_blank in [false, true] {
            let body = aws_trailer_example(extra_blank);
            for seed in [0u64, 7, 99] {
                let mut sizes: Box<dyn FnMut() -> usize> = if seed == 0 {
                    Box::new(|| 1)
                } else {
                    Box::new(splitter(seed, 3000))
                };
                let (data, trailers, _) = decode_in_pieces(
                    AwsChunkedDecoder::new_signed(aws_trailer_verifier()),
                    &body,
                    &mut *sizes,
                )
                .unwrap();
                assert_eq!(data.len(), 66560);
                assert_eq!(
                    trailers,
                    vec![("x-amz-checksum-crc32c".to_string(), "sOO8/Q==".to_string())]
                );
            }
        }
        // Without the closing empty line.
        let mut body = aws_trailer_example(false);
        body.truncate(body.len() - 4);
        let (_, trailers, _) = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_trailer_verifier()),
            &body,
            &mut || 777,
        )
        .unwrap();
        assert_eq!(trailers.len(), 1);
    }

    #[test]
    fn tampering_is_detected() {
        let body = aws_example_body();
        // A changed data byte in each chunk.
        for at in [100usize, 65536 + 90 + 100] {
            let mut bad = body.clone();
            bad[at] = b'b';
            let err = decode_in_pieces(
                AwsChunkedDecoder::new_signed(aws_example_verifier()),
                &bad,
                &mut splitter(3, 4000),
            )
            .unwrap_err();
            assert!(
                matches!(err, AuthError::ChunkSignatureMismatch { .. }),
                "{err:?}"
            );
        }
        // Wrong seed.
        let verifier = ChunkVerifier::new(
            SECRET,
            DATETIME,
            SCOPE,
            "5f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            false,
        )
        .unwrap();
        assert!(
            decode_in_pieces(AwsChunkedDecoder::new_signed(verifier), &body, &mut || {
                10_000
            })
            .is_err()
        );
        // Trailer value changed.
        let mut bad = aws_trailer_example(false);
        let at = bad.windows(8).position(|w| w == b"sOO8/Q==").unwrap();
        bad[at] = b't';
        let err = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_trailer_verifier()),
            &bad,
            &mut || 4096,
        )
        .unwrap_err();
        assert!(
            matches!(err, AuthError::ChunkSignatureMismatch { .. }),
            "{err:?}"
        );
        // Final chunk dropped: the body is incomplete.
        let cut = body.len() - 85;
        let err = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_example_verifier()),
            &body[..cut],
            &mut || 4096,
        )
        .unwrap_err();
        assert_eq!(err, AuthError::IncompleteBody);
        // Trailers in a body whose seed said there would be none.
        let err = decode_in_pieces(
            AwsChunkedDecoder::new_signed(aws_example_verifier()),
            &{
                let mut b = body[..body.len() - 2].to_vec();
                b.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
                b
            },
            &mut || 4096,
        )
        .unwrap_err();
        assert!(matches!(err, AuthError::MalformedTrailer(_)), "{err:?}");
    }

    #[test]
    fn unsigned_trailer_body_like_botocore() {
        // botocore's AwsChunkedWrapper: "<hex>\r\n<data>\r\n" then "0\r\n<name>:<b64>\r\n\r\n".
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for seed in 1..30 {
            let (data, trailers, len) = decode_in_pieces(
                AwsChunkedDecoder::new_unsigned(),
                body,
                &mut splitter(seed, 7),
            )
            .unwrap();
            assert_eq!(data, b"hello world");
            assert_eq!(len, 11);
            assert_eq!(
                trailers,
                vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
            );
        }
        let (data, trailers, _) =
            decode_in_pieces(AwsChunkedDecoder::new_unsigned(), b"0\r\n\r\n", &mut || 1).unwrap();
        assert!(data.is_empty() && trailers.is_empty());
    }

    #[test]
    fn garbage_is_rejected_without_panic() {
        let cases: &[&[u8]] = &[
            b"zz\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffffff\r\n",
            b"0\r\n\r\nextra",
            b"0\r\nno-colon\r\n\r\n",
            b"-1\r\n",
            b";\r\n",
            b"\r\n",
        ];
        for case in cases {
            let mut d = AwsChunkedDecoder::new_unsigned();
            let result = d.feed(case).and_then(|_| d.finish());
            assert!(result.is_err(), "{:?}", String::from_utf8_lossy(case));
        }
        // Over-long header line, even when it never ends.
        let mut d = AwsChunkedDecoder::new_unsigned();
        assert!(d.feed(&vec![b'1'; MAX_LINE + 10]).is_err());
        let mut d = AwsChunkedDecoder::new_unsigned();
        let mut failed = false;
        for _ in 0..(MAX_LINE + 10) {
            if d.feed(b"a").is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
        // Signed mode demands signatures and bounds chunk sizes.
        let mut d = AwsChunkedDecoder::new_signed(aws_example_verifier());
        assert!(d.feed(b"5\r\nhello\r\n").is_err());
        let mut d = AwsChunkedDecoder::new_signed(aws_example_verifier());
        let huge = format!("ffffffff;chunk-signature={}\r\n", "0".repeat(64));
        assert!(d.feed(huge.as_bytes()).is_err());
        // Truncated mid-chunk.
        let mut d = AwsChunkedDecoder::new_unsigned();
        d.feed(b"a\r\nabc").unwrap();
        assert_eq!(d.finish(), Err(AuthError::IncompleteBody));
    }

    #[test]
    fn pseudo_random_garbage_never_panics() {
        let mut next = splitter(42, 256);
        for round in 0..2000 {
            let len = next() % 64;
            let alphabet = b"0123456789abcdef;=\r\n:x-chunk-signature";
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect();
            let mut d = if round % 2 == 0 {
                AwsChunkedDecoder::new_unsigned()
            } else {
                AwsChunkedDecoder::new_signed(aws_example_verifier())
            };
            let _ = d.feed(&input);
            let _ = d.finish();
        }
    }
}
