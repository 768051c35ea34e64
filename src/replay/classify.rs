//! What to do with one record of Firehose's error output: put it back into
//! the stream, deliver nothing, or quarantine it with a reason.
//!
//! Firehose's `errorCode` says what failed the last time, not whether the
//! record can pass: every code but one is about the invocation (throttled,
//! timed out, an error answer, a contract the answer broke, a permission
//! or network problem of the stream's configuration), and the one that is
//! about the record, `Lambda.ProcessingFailedStatus`, carries Firehose's
//! generic message, not our reason. So the record itself decides: it is run
//! through the current [`Transformer`] alone, with the deployed
//! configuration. A record that now gives lines (or parts to re-ingest) is
//! put back; one that is now `Dropped` has nothing to deliver; one that now
//! fails for a reason no retry changes (corrupt, not a CloudWatch Logs
//! document, past the inflate cap, an event larger than any response) is
//! quarantined. The code is kept as the [`Cause`] for the report and the
//! counts.

use crate::batch::{Disposition, DropReason};
use crate::error::RecordError;
use crate::firehose::FirehoseEvent;
use crate::pipeline::Transformer;
use base64::Engine;

/// What Firehose's error code says failed, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `Lambda.ProcessingFailedStatus`: the function answered
    /// `ProcessingFailed` for this record (a deadline, re-ingestion that
    /// gave up, or a record that can never pass).
    Record,
    /// The invocation failed: throttled, timed out, or an error answer
    /// (`Lambda.InvokeLimitExceeded`, `Lambda.FunctionError`, ...).
    Invocation,
    /// The function answered, but the answer broke the contract
    /// (`Lambda.JsonProcessingException`, `Lambda.MissingRecordId`, ...).
    Response,
    /// Firehose could not invoke the function: permissions, a missing
    /// function, the VPC (`Lambda.InvokeAccessDenied`, ...).
    Configuration,
    /// A code this version does not know.
    Other,
}

impl Cause {
    /// The family of a Firehose data-transformation error code.
    pub fn of(code: &str) -> Self {
        match code.strip_prefix("Lambda.").unwrap_or(code) {
            "ProcessingFailedStatus" => Self::Record,
            "InvokeLimitExceeded"
            | "FunctionError"
            | "FunctionTimedOut"
            | "FunctionRequestTimedOut"
            | "ServiceException"
            | "ServiceUnavailableException"
            | "TooManyRequestsException"
            | "EC2ThrottledException"
            | "ResourceConflictException"
            | "ResourceNotReadyException" => Self::Invocation,
            "JsonProcessingException"
            | "MissingRecordId"
            | "DuplicatedRecordId"
            | "ResponseTooLarge"
            | "RequestTooLarge" => Self::Response,
            "InvokeAccessDenied"
            | "AssumeRoleAccessDenied"
            | "ResourceNotFound"
            | "ResourceNotFoundException"
            | "InvalidSubnetIDException"
            | "InvalidSecurityGroupIDException"
            | "SubnetIPAddressLimitReachedException"
            | "ENILimitReachedException"
            | "EC2AccessDeniedException"
            | "KMSAccessDeniedException"
            | "KMSDisabledException"
            | "KMSNotFoundException" => Self::Configuration,
            _ => Self::Other,
        }
    }

    /// Its name in reports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Invocation => "invocation",
            Self::Response => "response",
            Self::Configuration => "configuration",
            Self::Other => "other",
        }
    }
}

/// What to do with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It passes now: put its original bytes back into the stream.
    Replay,
    /// It is `Dropped` now (a control message, no events, an excluded log
    /// group, every event filtered out): a first delivery would deliver
    /// nothing either.
    NothingToDeliver(String),
    /// It can never pass with this configuration: why.
    Quarantine(String),
}

/// Whether a record that fails this way fails again however often it is
/// tried with the same configuration.
pub fn permanent(e: &RecordError) -> bool {
    match e {
        RecordError::DataNotString
        | RecordError::Empty
        | RecordError::Base64(_)
        | RecordError::NotGzipOrJson
        | RecordError::Gzip(_)
        | RecordError::InflateCap { .. }
        | RecordError::LinesCap { .. }
        | RecordError::Json(_)
        | RecordError::UnknownMessageType(_)
        | RecordError::EventTooLarge { .. }
        | RecordError::Overflow
        | RecordError::Unwritable => true,
        // Time and the stream, not the record: another run may pass.
        RecordError::Deadline | RecordError::Reingest(_) => false,
    }
}

/// Decides `data` (a record's original bytes) by running it alone through
/// `transformer`, as an event of `stream_arn` would, with no deadline and no
/// re-ingestion (a record that would be re-ingested passes).
pub fn decide(transformer: &mut Transformer, stream_arn: &str, data: &[u8]) -> Decision {
    let event = serde_json::json!({
        "invocationId": "cwl-firehose-recover",
        "deliveryStreamArn": stream_arn,
        "records": [{
            "recordId": "replay",
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        }],
    })
    .to_string();
    let event = match FirehoseEvent::parse(event.as_bytes()) {
        Ok(e) => e,
        // Not reachable: the event is written just above.
        Err(e) => return Decision::Quarantine(format!("internal: {e}")),
    };
    let batch = transformer.process(&event, None);
    match batch.dispositions().first() {
        Some(Disposition::Ok { .. } | Disposition::Reingest { .. }) => Decision::Replay,
        Some(Disposition::Dropped(reason)) => Decision::NothingToDeliver(
            match reason {
                DropReason::Control => "a control message",
                DropReason::NoEvents => "no log events",
                DropReason::Excluded => "an excluded log group",
                DropReason::Filtered => "every event filtered out",
                DropReason::Reingested { .. } => "re-ingested",
            }
            .to_string(),
        ),
        Some(Disposition::Failed(e)) if permanent(e) => Decision::Quarantine(e.to_string()),
        Some(Disposition::Failed(_)) => Decision::Replay,
        None => Decision::Quarantine("internal: no decision".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Config;

    const ARN: &str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";

    fn doc(message_type: &str, events: &str) -> Vec<u8> {
        crate::gzip(format!(
            r#"{{"messageType":"{message_type}","owner":"123456789012","logGroup":"/ecs/api","logStream":"a","subscriptionFilters":["f"],"logEvents":[{events}]}}"#
        ).as_bytes())
    }

    #[test]
    fn codes_fall_into_families() {
        assert_eq!(Cause::of("Lambda.ProcessingFailedStatus"), Cause::Record);
        assert_eq!(Cause::of("Lambda.InvokeLimitExceeded"), Cause::Invocation);
        assert_eq!(Cause::of("Lambda.FunctionError"), Cause::Invocation);
        assert_eq!(Cause::of("Lambda.JsonProcessingException"), Cause::Response);
        assert_eq!(Cause::of("Lambda.InvokeAccessDenied"), Cause::Configuration);
        assert_eq!(Cause::of("Something.New"), Cause::Other);
        assert_eq!(Cause::of(""), Cause::Other);
    }

    #[test]
    fn the_record_decides_now() {
        let mut t = Transformer::new(Config::default());
        let good = doc("DATA_MESSAGE", r#"{"id":"1","timestamp":1,"message":"m"}"#);
        assert_eq!(decide(&mut t, ARN, &good), Decision::Replay);
        let control = doc(
            "CONTROL_MESSAGE",
            r#"{"id":"","timestamp":1,"message":"m"}"#,
        );
        assert!(matches!(
            decide(&mut t, ARN, &control),
            Decision::NothingToDeliver(r) if r == "a control message"
        ));
        let unknown = doc("SOMETHING_NEW", r#"{"id":"1","timestamp":1,"message":"m"}"#);
        assert!(matches!(
            decide(&mut t, ARN, &unknown),
            Decision::Quarantine(r) if r.contains("unknown messageType")
        ));
        assert!(matches!(
            decide(&mut t, ARN, b"plain text"),
            Decision::Quarantine(r) if r.contains("neither gzip nor")
        ));
        assert!(matches!(
            decide(&mut t, ARN, &good[..good.len() / 2]),
            Decision::Quarantine(r) if r.contains("gzip")
        ));
    }

    #[test]
    fn an_event_larger_than_any_response_never_passes() {
        let big = "x".repeat(300_000);
        let data = doc(
            "DATA_MESSAGE",
            &format!(r#"{{"id":"1","timestamp":1,"message":"{big}"}}"#),
        );
        let mut small = Transformer::new(Config {
            response_budget: Some(200_000),
            ..Config::default()
        });
        assert!(matches!(
            decide(&mut small, ARN, &data),
            Decision::Quarantine(r) if r.contains("single log event")
        ));
        // The default budget holds it: it passes.
        let mut t = Transformer::new(Config::default());
        assert_eq!(decide(&mut t, ARN, &data), Decision::Replay);
        // Without re-ingestion, a record past the budget cannot pass either.
        let lines = (0..40)
            .map(|i| {
                format!(
                    r#"{{"id":"{i}","timestamp":1,"message":"{}"}}"#,
                    "y".repeat(9_000)
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let mut no_reingest = Transformer::new(Config {
            response_budget: Some(200_000),
            reingest: false,
            ..Config::default()
        });
        let many = doc("DATA_MESSAGE", &lines);
        assert!(matches!(
            decide(&mut no_reingest, ARN, &many),
            Decision::Quarantine(r) if r.contains("re-ingestion is off")
        ));
        assert_eq!(decide(&mut small, ARN, &many), Decision::Replay);
    }

    #[test]
    fn time_and_the_stream_are_not_the_record() {
        assert!(!permanent(&RecordError::Deadline));
        assert!(!permanent(&RecordError::Reingest(
            crate::error::ReingestError::NotAttempted
        )));
        assert!(permanent(&RecordError::Empty));
    }
}
