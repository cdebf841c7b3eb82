//! A run's options as the hparams plugin's hyper-parameters.

use std::collections::BTreeMap;

use nn_train::RunOptions;
use prost_types::value::Kind;
use serde_json::Value as Json;

/// The hyper-parameters of a run: every field of `options` by its name, as its JSON in the
/// metrics file (`options`) gives it, in the three kinds the hparams dashboard shows:
/// numbers, booleans and strings. A list is its items joined by commas (`784,30,10`, `none`
/// for an empty one), an option that is off (`null`) is left out, so that each
/// hyper-parameter keeps one kind across runs, and anything else is its compact JSON.
///
/// Numbers go through their JSON text, so that an `f32` such as η = 0.1 is recorded as the
/// 0.1 the metrics file says rather than as 0.10000000149011612 (the `f64` of the `f32`, which
/// [`RunOptions::to_fields`] gives: right for comparing options, not for showing them).
pub(crate) fn of(options: &RunOptions) -> Result<BTreeMap<String, prost_types::Value>, String> {
    let text = serde_json::to_string(options).map_err(|e| e.to_string())?;
    let Json::Object(fields) = serde_json::from_str(&text).map_err(|e| e.to_string())? else {
        return Err("the run options are not a JSON object".to_string());
    };
    Ok(fields
        .into_iter()
        .filter_map(|(name, value)| {
            let kind = match value {
                Json::Null => return None,
                Json::Bool(b) => Kind::BoolValue(b),
                Json::Number(n) => Kind::NumberValue(n.as_f64()?),
                Json::String(s) => Kind::StringValue(s),
                Json::Array(items) if items.is_empty() => Kind::StringValue("none".to_string()),
                Json::Array(items) => Kind::StringValue(
                    items
                        .iter()
                        .map(|item| match item {
                            Json::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                object @ Json::Object(_) => Kind::StringValue(object.to_string()),
            };
            Some((name, prost_types::Value { kind: Some(kind) }))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use nn_train::{MonitorItem, RunOptions};
    use prost_types::value::Kind;

    #[test]
    fn every_option_that_is_on_is_recorded_in_its_kind() {
        let options = RunOptions {
            eta: 0.1,
            max_norm: Some(3.5),
            monitor: vec![MonitorItem::TrainingCost, MonitorItem::EvaluationAccuracy],
            ..RunOptions::default()
        };
        let hparams = super::of(&options).unwrap();
        let kind = |name: &str| hparams[name].kind.clone().unwrap();
        assert_eq!(kind("eta"), Kind::NumberValue(0.1));
        assert_eq!(kind("max_norm"), Kind::NumberValue(3.5));
        assert_eq!(kind("layers"), Kind::StringValue("784,30,10".into()));
        assert_eq!(kind("cost"), Kind::StringValue("cross-entropy".into()));
        assert_eq!(kind("invert"), Kind::BoolValue(false));
        assert_eq!(kind("expand"), Kind::StringValue("none".into()));
        assert_eq!(
            kind("monitor"),
            Kind::StringValue("training-cost,evaluation-accuracy".into())
        );
        assert!(!hparams.contains_key("early_stopping"));
        // Every field of the options' JSON that is not null is there.
        let json = serde_json::to_value(&options).unwrap();
        let on = json
            .as_object()
            .unwrap()
            .values()
            .filter(|v| !v.is_null())
            .count();
        assert_eq!(hparams.len(), on);
    }
}
