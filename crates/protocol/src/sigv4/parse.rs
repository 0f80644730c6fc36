//! Parsing of the SigV4 `Authorization` header and of the credential string
//! (`AKID/YYYYMMDD/region/service/aws4_request`), without any verification.

use super::error::AuthError;
use super::signing::ALGORITHM;

/// The parts of an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// The credential: access key and scope.
    pub credential: Credential,
    /// The signed header names, in the order given (botocore sends them sorted and lower-case).
    pub signed_headers: Vec<String>,
    /// The signature as sent (normally 64 lower-case hex digits).
    pub signature: String,
}

/// `AKID/YYYYMMDD/region/service/aws4_request`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The signing region.
    pub region: String,
    /// The signing service name (`s3`, `sts`, `rekognition`...).
    pub service: String,
}

impl Credential {
    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Why a credential string was rejected, in S3's words (after "...; ").
pub(crate) fn parse_credential(value: &str) -> Result<Credential, String> {
    const SHAPE: &str = "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    // The access key never holds '/', but split from the right so the fixed parts are exact.
    let mut it = value.rsplitn(5, '/');
    let (Some(terminal), Some(service), Some(region), Some(date), Some(access_key)) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(SHAPE.to_string());
    };
    if access_key.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SHAPE.to_string());
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "incorrect date format \"{date}\". This date in the credential must be in the format \"yyyyMMdd\"."
        ));
    }
    if terminal != "aws4_request" {
        return Err(format!(
            "incorrect terminal \"{terminal}\". This endpoint uses \"aws4_request\"."
        ));
    }
    Ok(Credential {
        access_key: access_key.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

/// Splits a `SignedHeaders` value; `None` when empty or holding an empty or non-token name.
pub(crate) fn parse_signed_headers(value: &str) -> Option<Vec<String>> {
    let names: Vec<String> = value.split(';').map(str::to_string).collect();
    let valid = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    });
    (valid && !names.is_empty()).then_some(names)
}

/// Parses an `Authorization` header value. Never panics, whatever the input.
///
/// Errors: [`AuthError::UnsupportedAlgorithm`] for other schemes (SigV2 `AWS AKID:sig`, SigV4A,
/// `Bearer`...), [`AuthError::IncompleteHeader`] when a component is missing,
/// [`AuthError::Malformed`] otherwise.
pub fn parse_authorization_header(value: &str) -> Result<AuthorizationHeader, AuthError> {
    let trimmed = value.trim();
    let (scheme, rest) = match trimmed.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };
    if scheme != ALGORITHM {
        return Err(AuthError::UnsupportedAlgorithm(scheme.to_string()));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((name, val)) = component.split_once('=') else {
            return Err(AuthError::Malformed(format!(
                "the authorization component \"{component}\" is malformed."
            )));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(AuthError::Malformed(format!(
                    "the authorization component \"{component}\" is malformed."
                )))
            }
        };
        if slot.is_some() {
            return Err(AuthError::Malformed(format!(
                "the authorization header has a duplicate \"{}\" component.",
                name.trim()
            )));
        }
        *slot = Some(val.trim());
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Credential");
    }
    if signature.is_none() {
        missing.push("Signature");
    }
    if signed_headers.is_none() {
        missing.push("SignedHeaders");
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthError::IncompleteHeader {
            missing,
            header: value.to_string(),
        });
    };
    let credential = parse_credential(credential).map_err(AuthError::Malformed)?;
    let signed_headers = parse_signed_headers(signed_headers).ok_or_else(|| {
        AuthError::Malformed(format!(
            "the SignedHeaders component \"{signed_headers}\" is malformed."
        ))
    })?;
    if signature.is_empty() {
        return Err(AuthError::IncompleteHeader {
            missing: vec!["Signature"],
            header: value.to_string(),
        });
    }
    Ok(AuthorizationHeader {
        credential,
        signed_headers,
        signature: signature.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_header() {
        let h = parse_authorization_header(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        )
        .unwrap();
        assert_eq!(h.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(h.credential.scope(), "20130524/us-east-1/s3/aws4_request");
        assert_eq!(h.signed_headers, vec!["host", "range", "x-amz-date"]);
        assert_eq!(
            h.signature,
            "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
        );
        // No spaces after commas (Go SDK, curl --aws-sigv4).
        let h = parse_authorization_header("AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws4_request,SignedHeaders=host,Signature=00")
            .unwrap();
        assert_eq!(h.credential.region, "r");
    }

    #[test]
    fn rejects_other_schemes_and_junk() {
        assert!(
            matches!(parse_authorization_header("AWS AKID:sig"), Err(AuthError::UnsupportedAlgorithm(s)) if s == "AWS")
        );
        assert!(matches!(
            parse_authorization_header("AWS4-ECDSA-P256-SHA256 Credential=x"),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            parse_authorization_header(""),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            parse_authorization_header("AWS4-HMAC-SHA256"),
            Err(AuthError::IncompleteHeader { missing, .. }) if missing == vec!["Credential", "Signature", "SignedHeaders"]
        ));
        assert!(matches!(
            parse_authorization_header("AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws4_request, Signature=00"),
            Err(AuthError::IncompleteHeader { missing, .. }) if missing == vec!["SignedHeaders"]
        ));
        for bad in [
            "AWS4-HMAC-SHA256 Credential=a/2013052/r/s/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws5_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=/20130524/r/s/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws4_request, SignedHeaders=host;;x, Signature=00",
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws4_request, SignedHeaders=host, Signature=00, Signature=01",
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s/aws4_request, SignedHeaders=host, Signature=00, Extra",
        ] {
            assert!(matches!(parse_authorization_header(bad), Err(AuthError::Malformed(_))), "{bad}");
        }
    }
}
