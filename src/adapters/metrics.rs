//! One CloudWatch Embedded Metric Format line per invocation: CloudWatch
//! extracts the metrics from the log line itself, so the function needs no
//! API call (and no permission) to publish them. Dimensions are bounded: the
//! function and the delivery stream, nothing per record. The metrics are the
//! summary's [`FIELDS`], each under its metric name, and one
//! `EventsFiltered_<rule>` per event filter rule (bounded by the rules'
//! count).

use crate::summary::{Summary, FIELDS};

/// The CloudWatch namespace of the metrics.
pub const NAMESPACE: &str = "CwlFirehose";

/// The EMF JSON object (one line, no trailing newline).
pub fn emf_line(function: &str, delivery_stream: &str, timestamp_ms: u64, s: &Summary) -> String {
    let mut metrics: Vec<serde_json::Value> = FIELDS
        .iter()
        .map(|f| serde_json::json!({"Name": f.metric, "Unit": f.unit.as_str()}))
        .collect();
    let by_rule: Vec<(String, usize)> = s
        .events_filtered_by_rule
        .iter()
        .map(|(rule, n)| (format!("EventsFiltered_{rule}"), *n))
        .collect();
    metrics.extend(
        by_rule
            .iter()
            .map(|(name, _)| serde_json::json!({"Name": name, "Unit": "Count"})),
    );
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
        for (field, value) in s.values() {
            fields.insert(field.metric.to_string(), serde_json::json!(value));
        }
        for (name, n) in by_rule {
            fields.insert(name, serde_json::json!(n));
        }
    }
    line.to_string()
}

/// An EMF line for a scheduled function's own namespace: one dimension,
/// `FunctionName`; each metric `(name, unit, value)`; `fields` are logged
/// beside them (not metrics).
pub fn emf_function_line(
    namespace: &str,
    function: &str,
    timestamp_ms: i64,
    metrics: &[(&str, &str, u64)],
    fields: &[(&str, &str)],
) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics
                    .iter()
                    .map(|(n, u, _)| serde_json::json!({"Name": n, "Unit": u}))
                    .collect::<Vec<_>>(),
            }],
        },
        "FunctionName": function,
    });
    if let Some(object) = line.as_object_mut() {
        for (name, value) in fields {
            object.insert((*name).to_string(), serde_json::json!(value));
        }
        for (name, _, value) in metrics {
            object.insert((*name).to_string(), serde_json::json!(value));
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
            excluded: 1,
            duration_ms: 7,
            ..Summary::default()
        };
        let line = emf_line("fn", "stream", 1, &s);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), FIELDS.len());
        for m in declared {
            assert!(v[m["Name"].as_str().unwrap()].is_u64(), "{m}");
        }
        assert_eq!(v["RecordsIn"], 3);
        assert_eq!(v["RecordsExcluded"], 1);
        assert_eq!(v["Duration"], 7);
        assert_eq!(v["DeliveryStream"], "stream");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn each_filter_rule_has_its_metric() {
        let s = Summary {
            events_filtered: 5,
            events_filtered_by_rule: vec![("health".into(), 3), ("drop_messages".into(), 2)],
            ..Summary::default()
        };
        let v: serde_json::Value = serde_json::from_str(&emf_line("fn", "s", 1, &s)).unwrap();
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), FIELDS.len() + 2);
        assert_eq!(v["EventsFiltered"], 5);
        assert_eq!(v["EventsFiltered_health"], 3);
        assert_eq!(v["EventsFiltered_drop_messages"], 2);
    }
}
