//! One CloudWatch Embedded Metric Format line per invocation: CloudWatch
//! extracts the metrics from the log line itself, so the function needs no
//! API call (and no permission) to publish them. Dimensions are bounded: the
//! function and the delivery stream, nothing per record.

use crate::batch::Summary;

/// The CloudWatch namespace of the metrics.
pub const NAMESPACE: &str = "CwlFirehose";

/// Numbers that come from the adapter rather than the core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdapterCounts {
    pub reingest_retries: usize,
    pub reingest_failed: usize,
    pub masked_pans: usize,
    pub duration_ms: u64,
}

/// The EMF JSON object (one line, no trailing newline).
pub fn emf_line(
    function: &str,
    delivery_stream: &str,
    timestamp_ms: u64,
    s: &Summary,
    a: &AdapterCounts,
) -> String {
    let counts: [(&str, u64, &str); 15] = [
        ("RecordsIn", s.records_in as u64, "Count"),
        ("RecordsOk", s.ok as u64, "Count"),
        ("RecordsDropped", s.dropped as u64, "Count"),
        (
            "RecordsProcessingFailed",
            s.processing_failed as u64,
            "Count",
        ),
        ("EventsOut", s.events_out as u64, "Count"),
        ("BytesIn", s.bytes_in as u64, "Bytes"),
        ("BytesOut", s.bytes_out as u64, "Bytes"),
        ("ResponseBytes", s.response_bytes as u64, "Bytes"),
        ("RecordsReingested", s.reingested as u64, "Count"),
        ("RecordsSplit", s.split as u64, "Count"),
        ("PartsReingested", s.parts as u64, "Count"),
        ("ReingestRetries", a.reingest_retries as u64, "Count"),
        ("ReingestFailed", a.reingest_failed as u64, "Count"),
        ("MaskedPans", a.masked_pans as u64, "Count"),
        ("Duration", a.duration_ms, "Milliseconds"),
    ];
    let metrics: Vec<serde_json::Value> = counts
        .iter()
        .map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit}))
        .collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName", "DeliveryStream"]],
                "Metrics": metrics,
            }],
        },
        "FunctionName": function,
        "DeliveryStream": delivery_stream,
    });
    if let Some(fields) = line.as_object_mut() {
        for (name, value, _) in counts {
            fields.insert(name.to_string(), serde_json::json!(value));
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value() {
        let s = Summary {
            records_in: 3,
            ok: 2,
            processing_failed: 1,
            ..Summary::default()
        };
        let line = emf_line(
            "fn",
            "stream",
            1,
            &s,
            &AdapterCounts {
                duration_ms: 7,
                ..Default::default()
            },
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), 15);
        for m in declared {
            assert!(v[m["Name"].as_str().unwrap()].is_u64(), "{m}");
        }
        assert_eq!(v["RecordsIn"], 3);
        assert_eq!(v["Duration"], 7);
        assert_eq!(v["DeliveryStream"], "stream");
        assert!(!line.contains('\n'));
    }
}
