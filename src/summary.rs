//! The counts of one invocation, and the one list of them that the log line,
//! the CLI and the EMF metrics all read ([`FIELDS`]).

use crate::redact::Detector;
use std::fmt;

/// Counts for the invocation's summary line and metrics. The core fills the
/// record counts; the invocation protocol adds re-ingestion and duration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records in the event.
    pub records_in: usize,
    /// Records answered `Ok`.
    pub ok: usize,
    /// Records answered `Dropped` (control messages, empty, excluded, re-ingested).
    pub dropped: usize,
    /// Records answered `ProcessingFailed`.
    pub processing_failed: usize,
    /// Log events written as lines (in Ok records).
    pub events_out: usize,
    /// base64 characters of `data` received.
    pub bytes_in: usize,
    /// Line bytes written into Ok records (before base64).
    pub bytes_out: usize,
    /// Serialized response size.
    pub response_bytes: usize,
    /// Records handed to re-ingestion as they were.
    pub reingested: usize,
    /// Records split into several documents for re-ingestion.
    pub split: usize,
    /// Documents re-ingested (as-is records plus split parts).
    pub parts: usize,
    /// Card numbers and verification codes masked (records in the response,
    /// and records whose every event the event filters dropped).
    pub masked_pans: usize,
    /// Records dropped because their log group is excluded (`EXCLUDE_LOG_GROUPS`).
    pub excluded: usize,
    /// Events the event filters dropped, in records in the response and in
    /// records whose every event they dropped.
    pub events_filtered: usize,
    /// The same by rule: each rule's name and count, in rule order (empty
    /// without rules).
    pub events_filtered_by_rule: Vec<(String, usize)>,
    /// Merged keys renamed by the key rule (empty, or equal to another key
    /// ignoring case), in records in the response.
    pub merged_keys_renamed: usize,
    /// Merged values left out because they do not fit their declared column
    /// (`MERGE_COLUMNS`), in records in the response.
    pub merged_values_rejected: usize,
    /// Re-ingestion API calls made.
    pub reingest_calls: usize,
    /// Parts sent again after a failed attempt.
    pub reingest_retries: usize,
    /// Parts that were finally not accepted.
    pub reingest_failed: usize,
    /// Part attempts the API throttled (whole calls or per record).
    pub reingest_throttled: usize,
    /// Calls that failed whole (no answer, connection, 5xx).
    pub reingest_call_errors: usize,
    /// Log groups whose tags were read (`LOG_GROUP_TAGS`).
    pub group_tags_read: usize,
    /// Log groups whose tags could not be read (their lines lack them).
    pub group_tags_failed: usize,
    /// Wall time of the invocation, in milliseconds.
    pub duration_ms: u64,
    /// Values the `aws_access_key_id` detector redacted (`REDACT`), in records in the response.
    pub redacted_aws_access_key_id: usize,
    /// Values the `aws_secret_key` detector redacted (`REDACT`), in records in the response.
    pub redacted_aws_secret_key: usize,
    /// Values the `authorization` detector redacted (`REDACT`), in records in the response.
    pub redacted_authorization: usize,
    /// Values the `jwt` detector redacted (`REDACT`), in records in the response.
    pub redacted_jwt: usize,
    /// Values the `private_key` detector redacted (`REDACT`), in records in the response.
    pub redacted_private_key: usize,
    /// Values the `url_credentials` detector redacted (`REDACT`), in records in the response.
    pub redacted_url_credentials: usize,
    /// Values the `secret_value` detector redacted (`REDACT`), in records in the response.
    pub redacted_secret_value: usize,
    /// Values the `email` detector redacted (`REDACT`), in records in the response.
    pub redacted_email: usize,
    /// Values the `ipv4` detector redacted (`REDACT`), in records in the response.
    pub redacted_ipv4: usize,
    /// Values the `ipv6` detector redacted (`REDACT`), in records in the response.
    pub redacted_ipv6: usize,
    /// Values the `phone` detector redacted (`REDACT`), in records in the response.
    pub redacted_phone: usize,
    /// Values the `my_number` detector redacted (`REDACT`), in records in the response.
    pub redacted_my_number: usize,
    /// Values custom rules (`REDACT_RULES`) redacted, in records in the response.
    pub redacted_custom: usize,
}

/// The unit CloudWatch gives a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// A size in bytes.
    Bytes,
    /// A duration.
    Milliseconds,
}

impl Unit {
    /// CloudWatch's name for the unit.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Bytes => "Bytes",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One count: its key in logs and on the CLI, its metric name and unit.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// snake_case key (log line, CLI).
    pub key: &'static str,
    /// CloudWatch metric name (EMF).
    pub metric: &'static str,
    /// CloudWatch unit.
    pub unit: Unit,
    /// Reads the value.
    pub value: fn(&Summary) -> u64,
}

macro_rules! fields {
    ($($key:ident $metric:literal $unit:ident),* $(,)?) => {
        /// Every count of [`Summary`], in the order they are printed.
        pub const FIELDS: &[Field] = &[$(Field {
            key: stringify!($key),
            metric: $metric,
            unit: Unit::$unit,
            value: |s: &Summary| s.$key as u64,
        }),*];
    };
}

fields! {
    records_in "RecordsIn" Count,
    ok "RecordsOk" Count,
    dropped "RecordsDropped" Count,
    processing_failed "RecordsProcessingFailed" Count,
    events_out "EventsOut" Count,
    bytes_in "BytesIn" Bytes,
    bytes_out "BytesOut" Bytes,
    response_bytes "ResponseBytes" Bytes,
    reingested "RecordsReingested" Count,
    split "RecordsSplit" Count,
    parts "PartsReingested" Count,
    masked_pans "MaskedPans" Count,
    excluded "RecordsExcluded" Count,
    events_filtered "EventsFiltered" Count,
    merged_keys_renamed "MergedKeysRenamed" Count,
    merged_values_rejected "MergedValuesRejected" Count,
    reingest_calls "ReingestCalls" Count,
    reingest_retries "ReingestRetries" Count,
    reingest_failed "ReingestFailed" Count,
    reingest_throttled "ReingestThrottled" Count,
    reingest_call_errors "ReingestCallErrors" Count,
    group_tags_read "GroupTagsRead" Count,
    group_tags_failed "GroupTagsFailed" Count,
    duration_ms "Duration" Milliseconds,
    redacted_aws_access_key_id "RedactedAwsAccessKeyId" Count,
    redacted_aws_secret_key "RedactedAwsSecretKey" Count,
    redacted_authorization "RedactedAuthorization" Count,
    redacted_jwt "RedactedJwt" Count,
    redacted_private_key "RedactedPrivateKey" Count,
    redacted_url_credentials "RedactedUrlCredentials" Count,
    redacted_secret_value "RedactedSecretValue" Count,
    redacted_email "RedactedEmail" Count,
    redacted_ipv4 "RedactedIpv4" Count,
    redacted_ipv6 "RedactedIpv6" Count,
    redacted_phone "RedactedPhone" Count,
    redacted_my_number "RedactedMyNumber" Count,
    redacted_custom "RedactedCustom" Count,
}

impl Summary {
    /// Adds what the line writer counted in one record in the response.
    pub(crate) fn add_counts(&mut self, counts: crate::lines::Counts) {
        self.masked_pans += counts.masked;
        self.merged_keys_renamed += counts.merged_keys_renamed;
        self.merged_values_rejected += counts.merged_values_rejected;
        self.redacted_aws_access_key_id += counts.redacted.of(Detector::AwsAccessKeyId);
        self.redacted_aws_secret_key += counts.redacted.of(Detector::AwsSecretKey);
        self.redacted_authorization += counts.redacted.of(Detector::Authorization);
        self.redacted_jwt += counts.redacted.of(Detector::Jwt);
        self.redacted_private_key += counts.redacted.of(Detector::PrivateKey);
        self.redacted_url_credentials += counts.redacted.of(Detector::UrlCredentials);
        self.redacted_secret_value += counts.redacted.of(Detector::SecretValue);
        self.redacted_email += counts.redacted.of(Detector::Email);
        self.redacted_ipv4 += counts.redacted.of(Detector::Ipv4);
        self.redacted_ipv6 += counts.redacted.of(Detector::Ipv6);
        self.redacted_phone += counts.redacted.of(Detector::Phone);
        self.redacted_my_number += counts.redacted.of(Detector::MyNumber);
        self.redacted_custom += counts.redacted.custom();
        self.events_filtered += counts.filtered;
    }

    /// Adds one record's events dropped by each rule of `rules`.
    pub(crate) fn add_filtered_by_rule(&mut self, rules: &[crate::filter::Rule], counts: &[usize]) {
        if self.events_filtered_by_rule.is_empty() {
            self.events_filtered_by_rule = rules.iter().map(|r| (r.name.clone(), 0)).collect();
        }
        for ((_, total), n) in self.events_filtered_by_rule.iter_mut().zip(counts) {
            *total += n;
        }
    }

    /// `(key, value)` of every count, in [`FIELDS`] order.
    pub fn values(&self) -> impl Iterator<Item = (&'static Field, u64)> + '_ {
        FIELDS.iter().map(move |f| (f, (f.value)(self)))
    }
}

/// `records_in=3 ok=2 …`: every field, for a log line or the CLI.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, value)) in self.values().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}={value}", field.key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_listed_once() {
        let s = Summary {
            records_in: 1,
            ok: 2,
            dropped: 3,
            processing_failed: 4,
            events_out: 5,
            bytes_in: 6,
            bytes_out: 7,
            response_bytes: 8,
            reingested: 9,
            split: 10,
            parts: 11,
            masked_pans: 12,
            excluded: 13,
            events_filtered: 14,
            events_filtered_by_rule: vec![],
            merged_keys_renamed: 15,
            merged_values_rejected: 16,
            reingest_calls: 17,
            reingest_retries: 18,
            reingest_failed: 19,
            reingest_throttled: 20,
            reingest_call_errors: 21,
            group_tags_read: 22,
            group_tags_failed: 23,
            duration_ms: 24,
            redacted_aws_access_key_id: 25,
            redacted_aws_secret_key: 26,
            redacted_authorization: 27,
            redacted_jwt: 28,
            redacted_private_key: 29,
            redacted_url_credentials: 30,
            redacted_secret_value: 31,
            redacted_email: 32,
            redacted_ipv4: 33,
            redacted_ipv6: 34,
            redacted_phone: 35,
            redacted_my_number: 36,
            redacted_custom: 37,
        };
        let values: Vec<u64> = s.values().map(|(_, v)| v).collect();
        assert_eq!(values, (1..=37).collect::<Vec<u64>>());
        let mut keys: Vec<_> = FIELDS.iter().map(|f| f.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), FIELDS.len());
        assert!(s.to_string().starts_with("records_in=1 ok=2 dropped=3"));
    }
}
