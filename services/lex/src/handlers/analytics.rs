//! Utterance analytics over the runtime's utterance records: ListAggregatedUtterances (each
//! distinct utterance with its detected and missed counts — the missed-utterance list a bot
//! designer tunes from), ListUtteranceMetrics, ListIntentMetrics, ListUtteranceAnalyticsData,
//! DeleteUtterances.
//!
//! Intent metrics count intent episodes: consecutive turns of one session on one intent. An
//! episode ends `Success` (fulfilled or ready for fulfilment), `Failure`, `Switched` (the user
//! moved to another intent) or `Dropped` (the session stopped while the intent was in
//! progress).

use super::{page, Cx};
use crate::api;
use crate::error::{LexError, Result};
use crate::store;
use hearth_protocol::types::Timestamp;
use hearth_runtime::ListQuery;
use std::collections::BTreeMap;
use time::Duration;

fn ms(t: &Timestamp) -> i64 {
    (t.0.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Utterance records of a bot in `[from, to]`, oldest first.
async fn records(
    cx: &Cx<'_>,
    bot: &str,
    from: &Timestamp,
    to: &Timestamp,
) -> Result<Vec<store::Utterance>> {
    let q = ListQuery {
        prefix: format!("{bot}/"),
        start_after: Some(format!("{bot}/{:013}", (ms(from) - 1).max(0))),
        limit: None,
    };
    let rows = cx.meta().list::<store::Utterance>(&cx.scope, &q).await?;
    Ok(rows
        .into_iter()
        .map(|(_, r)| r.value)
        .filter(|u| u.at >= *from && u.at <= *to)
        .collect())
}

/// `UtteranceState`: `Detected` or `Missed`.
fn state(u: &store::Utterance) -> &'static str {
    if u.missed {
        "Missed"
    } else {
        "Detected"
    }
}

fn check_window(start: &Timestamp, end: &Timestamp) -> Result<()> {
    if end < start {
        return Err(LexError::Validation(
            "The endDateTime must be later than the startDateTime.".into(),
        ));
    }
    Ok(())
}

fn field_of(u: &store::Utterance, name: &str) -> Option<String> {
    Some(match name {
        "BotAliasId" => u.alias_id.clone(),
        "BotVersion" => u.version.clone(),
        "LocaleId" => u.locale_id.clone(),
        "Modality" => u.mode.clone(),
        "Channel" => String::new(),
        "SessionId" => u.session_id.clone(),
        "OriginatingRequestId" => u.request_id.clone(),
        "UtteranceState" => state(u).to_string(),
        "UtteranceText" => u.text.clone(),
        "IntentName" => u.intent.clone().unwrap_or_default(),
        "IntentEndState" => u.intent_state.clone().unwrap_or_default(),
        _ => return None,
    })
}

fn passes(u: &store::Utterance, filters: &[(String, String, Vec<String>)]) -> Result<bool> {
    for (name, op, values) in filters {
        let v = field_of(u, name).ok_or_else(|| {
            LexError::member(
                name,
                "filters.member.name",
                "Member must satisfy enum value set",
            )
        })?;
        let ok = match op.as_str() {
            "EQ" => values.contains(&v),
            "GT" => values.iter().any(|x| v.as_str() > x.as_str()),
            "LT" => values.iter().any(|x| v.as_str() < x.as_str()),
            other => {
                return Err(LexError::member(
                    other,
                    "filters.member.operator",
                    "Member must satisfy enum value set: [EQ, GT, LT]",
                ))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The bin a time falls in: start of its hour or day, in epoch milliseconds.
fn bin(t: &Timestamp, interval: &str) -> i64 {
    let size = if interval == "OneDay" {
        86_400_000
    } else {
        3_600_000
    };
    ms(t).div_euclid(size) * size
}

fn stat(values: &[f64], statistic: &str) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    match statistic {
        "Avg" => values.iter().sum::<f64>() / values.len() as f64,
        "Max" => values.iter().cloned().fold(f64::MIN, f64::max),
        _ => values.iter().sum(),
    }
}

pub(crate) async fn list_aggregated_utterances(
    cx: &Cx<'_>,
    req: api::ListAggregatedUtterancesRequest,
) -> Result<api::ListAggregatedUtterancesResponse> {
    cx.bot(&req.bot_id).await?;
    if req.bot_alias_id.is_some() == req.bot_version.is_some() {
        return Err(LexError::Validation(
            "Specify either botAliasId or botVersion, not both.".into(),
        ));
    }
    let rel = &req.aggregation_duration.relative_aggregation_duration;
    let allowed: &[i32] = match rel.time_dimension.as_str() {
        "Hours" => &[1, 3, 6, 12, 24],
        "Days" => &[3],
        "Weeks" => &[1, 2],
        other => {
            return Err(LexError::member(
                other,
                "aggregationDuration.relativeAggregationDuration.timeDimension",
                "Member must satisfy enum value set: [Hours, Days, Weeks]",
            ))
        }
    };
    if !allowed.contains(&rel.time_value) {
        return Err(LexError::Validation(format!(
            "The timeValue {} is not valid for {}: use one of {allowed:?}.",
            rel.time_value, rel.time_dimension
        )));
    }
    let hours = match rel.time_dimension.as_str() {
        "Hours" => i64::from(rel.time_value),
        "Days" => 24 * i64::from(rel.time_value),
        _ => 24 * 7 * i64::from(rel.time_value),
    };
    let end = cx.now();
    let start = Timestamp(end.0 - Duration::hours(hours));
    let mut groups: BTreeMap<String, api::AggregatedUtterancesSummary> = BTreeMap::new();
    for u in records(cx, &req.bot_id, &start, &end).await? {
        if u.locale_id != req.locale_id
            || req.bot_alias_id.as_ref().is_some_and(|a| *a != u.alias_id)
            || req.bot_version.as_ref().is_some_and(|v| *v != u.version)
        {
            continue;
        }
        let key = u.text.trim().to_lowercase();
        let g = groups
            .entry(key.clone())
            .or_insert_with(|| api::AggregatedUtterancesSummary {
                utterance: Some(key),
                hit_count: Some(0),
                missed_count: Some(0),
                utterance_first_recorded_in_aggregation_duration: Some(u.at),
                utterance_last_recorded_in_aggregation_duration: Some(u.at),
                contains_data_from_deleted_resources: Some(false),
            });
        if u.missed {
            *g.missed_count.get_or_insert(0) += 1;
        } else {
            *g.hit_count.get_or_insert(0) += 1;
        }
        g.utterance_last_recorded_in_aggregation_duration = Some(u.at);
    }
    let mut items: Vec<api::AggregatedUtterancesSummary> = groups.into_values().collect();
    for f in req.filters.iter().flatten() {
        let needle = f
            .values
            .first()
            .map(|v| v.to_lowercase())
            .unwrap_or_default();
        items.retain(|s| {
            let u = s.utterance.as_deref().unwrap_or_default();
            if f.operator == "EQ" {
                u == needle
            } else {
                u.contains(&needle)
            }
        });
    }
    let by_missed = req
        .sort_by
        .as_ref()
        .is_some_and(|s| s.attribute == "MissedCount");
    items.sort_by_key(|s| {
        if by_missed {
            s.missed_count
        } else {
            s.hit_count
        }
    });
    if req.sort_by.as_ref().is_none_or(|s| s.order == "Descending") {
        items.reverse();
    }
    let (items, next) = page(items, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListAggregatedUtterancesResponse {
        aggregated_utterances_summaries: Some(items),
        aggregation_duration: Some(req.aggregation_duration),
        aggregation_last_refreshed_date_time: Some(end),
        aggregation_window_end_time: Some(end),
        aggregation_window_start_time: Some(start),
        bot_alias_id: req.bot_alias_id,
        bot_id: Some(req.bot_id),
        bot_version: req.bot_version,
        locale_id: Some(req.locale_id),
        next_token: next,
    })
}

pub(crate) async fn delete_utterances(
    cx: &Cx<'_>,
    req: api::DeleteUtterancesRequest,
) -> Result<api::DeleteUtterancesResponse> {
    cx.bot(&req.bot_id).await?;
    let rows =
        super::list_all::<store::Utterance>(cx.meta(), &cx.scope, &format!("{}/", req.bot_id))
            .await?;
    let keys: Vec<String> = rows
        .into_iter()
        .filter(|(_, u)| {
            req.locale_id
                .as_ref()
                .is_none_or(|l| *l == u.value.locale_id)
                && req
                    .session_id
                    .as_ref()
                    .is_none_or(|s| *s == u.value.session_id)
        })
        .map(|(k, _)| k)
        .collect();
    for chunk in keys.chunks(500) {
        cx.meta()
            .apply(
                chunk
                    .iter()
                    .map(|k| {
                        hearth_runtime::WriteOp::delete::<store::Utterance>(
                            &cx.scope,
                            k.clone(),
                            hearth_runtime::Expect::Any,
                        )
                    })
                    .collect(),
            )
            .await?;
    }
    Ok(api::DeleteUtterancesResponse {})
}

pub(crate) async fn list_utterance_metrics(
    cx: &Cx<'_>,
    req: api::ListUtteranceMetricsRequest,
) -> Result<api::ListUtteranceMetricsResponse> {
    cx.bot(&req.bot_id).await?;
    check_window(&req.start_date_time, &req.end_date_time)?;
    let filters: Vec<_> = req
        .filters
        .iter()
        .flatten()
        .map(|f| (f.name.clone(), f.operator.clone(), f.values.clone()))
        .collect();
    let bin_by = req.bin_by.as_ref().and_then(|b| b.first()).cloned();
    let group_by: Vec<String> = req
        .group_by
        .iter()
        .flatten()
        .map(|g| g.name.clone())
        .collect();
    let mut groups: BTreeMap<(Option<i64>, Vec<String>), Vec<store::Utterance>> = BTreeMap::new();
    for u in records(cx, &req.bot_id, &req.start_date_time, &req.end_date_time).await? {
        if !passes(&u, &filters)? {
            continue;
        }
        let b = bin_by.as_ref().map(|b| {
            bin(
                if b.name == "ConversationStartTime" {
                    &u.conversation_start
                } else {
                    &u.at
                },
                &b.interval,
            )
        });
        let keys = group_by
            .iter()
            .map(|g| {
                if g == "UtteranceState" {
                    state(&u).to_string()
                } else {
                    u.text.trim().to_lowercase()
                }
            })
            .collect();
        groups.entry((b, keys)).or_default().push(u);
    }
    let mut results = Vec::new();
    for ((b, keys), us) in groups {
        let per_session = |f: &dyn Fn(&store::Utterance) -> bool| -> Vec<f64> {
            let mut m: BTreeMap<&str, f64> = BTreeMap::new();
            for u in us.iter().filter(|u| f(u)) {
                *m.entry(u.session_id.as_str()).or_insert(0.0) += 1.0;
            }
            m.into_values().collect()
        };
        let metrics = req
            .metrics
            .iter()
            .map(|m| {
                let value = match m.name.as_str() {
                    "Missed" => stat(&per_session(&|u| u.missed), &m.statistic),
                    "Detected" => stat(&per_session(&|u| !u.missed), &m.statistic),
                    "UtteranceTimestamp" => us.iter().map(|u| ms(&u.at) as f64).fold(0.0, f64::max),
                    _ => stat(&per_session(&|_| true), &m.statistic),
                };
                api::AnalyticsUtteranceMetricResult {
                    name: Some(m.name.clone()),
                    statistic: Some(m.statistic.clone()),
                    value: Some(value),
                }
            })
            .collect();
        let attributes = req.attributes.as_ref().filter(|a| !a.is_empty()).map(|_| {
            vec![api::AnalyticsUtteranceAttributeResult {
                last_used_intent: us.iter().rev().find_map(|u| u.intent.clone()),
            }]
        });
        results.push(api::AnalyticsUtteranceResult {
            bin_keys: b.map(|v| {
                vec![api::AnalyticsBinKey {
                    name: bin_by.as_ref().map(|b| b.name.clone()),
                    value: Some(v),
                }]
            }),
            group_by_keys: (!group_by.is_empty()).then(|| {
                group_by
                    .iter()
                    .zip(keys)
                    .map(|(n, v)| api::AnalyticsUtteranceGroupByKey {
                        name: Some(n.clone()),
                        value: Some(v),
                    })
                    .collect()
            }),
            metrics_results: Some(metrics),
            attribute_results: attributes,
        });
    }
    if bin_by.as_ref().and_then(|b| b.order.as_deref()) == Some("Descending") {
        results.reverse();
    }
    let (results, next) = page(results, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListUtteranceMetricsResponse {
        bot_id: Some(req.bot_id),
        results: Some(results),
        next_token: next,
    })
}

/// One intent episode: (session, intent, end state, outcome, start time, record for filters).
struct Episode {
    intent: String,
    end_state: String,
    outcome: &'static str,
    at: Timestamp,
    record: store::Utterance,
}

fn episodes(records: Vec<store::Utterance>) -> Vec<Episode> {
    let mut by_session: BTreeMap<String, Vec<store::Utterance>> = BTreeMap::new();
    for u in records {
        by_session.entry(u.session_id.clone()).or_default().push(u);
    }
    let mut out = Vec::new();
    for (_, turns) in by_session {
        let mut current: Option<Episode> = None;
        for u in turns {
            let Some(intent) = u.intent.clone() else {
                continue;
            };
            let end = u.intent_state.clone().unwrap_or_default();
            match current.as_mut() {
                Some(e) if e.intent == intent && e.outcome == "Dropped" => {
                    e.end_state = end.clone();
                    e.record = u.clone();
                }
                _ => {
                    if let Some(mut prev) = current.take() {
                        if prev.outcome == "Dropped"
                            && u.switched_from.as_deref() == Some(prev.intent.as_str())
                        {
                            prev.outcome = "Switched";
                        }
                        out.push(prev);
                    }
                    current = Some(Episode {
                        intent: intent.clone(),
                        end_state: end.clone(),
                        outcome: "Dropped",
                        at: u.at,
                        record: u.clone(),
                    });
                }
            }
            if let Some(e) = current.as_mut() {
                e.outcome = match end.as_str() {
                    "Fulfilled" | "ReadyForFulfillment" => "Success",
                    "Failed" => "Failure",
                    _ => "Dropped",
                };
            }
        }
        out.extend(current);
    }
    out
}

pub(crate) async fn list_intent_metrics(
    cx: &Cx<'_>,
    req: api::ListIntentMetricsRequest,
) -> Result<api::ListIntentMetricsResponse> {
    cx.bot(&req.bot_id).await?;
    check_window(&req.start_date_time, &req.end_date_time)?;
    let filters: Vec<_> = req
        .filters
        .iter()
        .flatten()
        .map(|f| (f.name.clone(), f.operator.clone(), f.values.clone()))
        .collect();
    let bin_by = req.bin_by.as_ref().and_then(|b| b.first()).cloned();
    let group_by: Vec<String> = req
        .group_by
        .iter()
        .flatten()
        .map(|g| g.name.clone())
        .collect();
    let mut groups: BTreeMap<(Option<i64>, Vec<String>), Vec<Episode>> = BTreeMap::new();
    for e in episodes(records(cx, &req.bot_id, &req.start_date_time, &req.end_date_time).await?) {
        let mut rec = e.record.clone();
        rec.intent = Some(e.intent.clone());
        rec.intent_state = Some(e.end_state.clone());
        if !passes(&rec, &filters)? {
            continue;
        }
        let b = bin_by.as_ref().map(|b| {
            bin(
                if b.name == "ConversationStartTime" {
                    &e.record.conversation_start
                } else {
                    &e.at
                },
                &b.interval,
            )
        });
        let keys = group_by
            .iter()
            .map(|g| match g.as_str() {
                "IntentEndState" => e.end_state.clone(),
                "IntentLevel" => "Top".to_string(),
                _ => e.intent.clone(),
            })
            .collect();
        groups.entry((b, keys)).or_default().push(e);
    }
    let mut results = Vec::new();
    for ((b, keys), eps) in groups {
        let metrics = req
            .metrics
            .iter()
            .map(|m| {
                let want = match m.name.as_str() {
                    "Success" => Some("Success"),
                    "Failure" => Some("Failure"),
                    "Switched" => Some("Switched"),
                    "Dropped" => Some("Dropped"),
                    _ => None,
                };
                let mut per_session: BTreeMap<&str, f64> = BTreeMap::new();
                for e in eps.iter().filter(|e| want.is_none_or(|w| e.outcome == w)) {
                    *per_session
                        .entry(e.record.session_id.as_str())
                        .or_insert(0.0) += 1.0;
                }
                let values: Vec<f64> = per_session.into_values().collect();
                api::AnalyticsIntentMetricResult {
                    name: Some(m.name.clone()),
                    statistic: Some(m.statistic.clone()),
                    value: Some(stat(&values, &m.statistic)),
                }
            })
            .collect();
        results.push(api::AnalyticsIntentResult {
            bin_keys: b.map(|v| {
                vec![api::AnalyticsBinKey {
                    name: bin_by.as_ref().map(|b| b.name.clone()),
                    value: Some(v),
                }]
            }),
            group_by_keys: (!group_by.is_empty()).then(|| {
                group_by
                    .iter()
                    .zip(keys)
                    .map(|(n, v)| api::AnalyticsIntentGroupByKey {
                        name: Some(n.clone()),
                        value: Some(v),
                    })
                    .collect()
            }),
            metrics_results: Some(metrics),
        });
    }
    let (results, next) = page(results, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListIntentMetricsResponse {
        bot_id: Some(req.bot_id),
        results: Some(results),
        next_token: next,
    })
}

pub(crate) async fn list_utterance_analytics_data(
    cx: &Cx<'_>,
    req: api::ListUtteranceAnalyticsDataRequest,
) -> Result<api::ListUtteranceAnalyticsDataResponse> {
    cx.bot(&req.bot_id).await?;
    check_window(&req.start_date_time, &req.end_date_time)?;
    let filters: Vec<_> = req
        .filters
        .iter()
        .flatten()
        .map(|f| (f.name.clone(), f.operator.clone(), f.values.clone()))
        .collect();
    let mut rows = Vec::new();
    for u in records(cx, &req.bot_id, &req.start_date_time, &req.end_date_time).await? {
        if passes(&u, &filters)? {
            rows.push(u);
        }
    }
    if req.sort_by.as_ref().is_none_or(|s| s.order == "Descending") {
        rows.reverse();
    }
    let (rows, next) = page(rows, req.max_results, req.next_token.as_deref())?;
    let utterances = rows
        .into_iter()
        .map(|u| api::UtteranceSpecification {
            associated_intent_name: u.intent.clone(),
            associated_slot_name: u.slot_to_elicit.clone(),
            bot_alias_id: Some(u.alias_id.clone()),
            bot_responses: Some(
                u.responses
                    .iter()
                    .map(|m| api::UtteranceBotResponse {
                        content: m.content.clone(),
                        content_type: Some(m.content_type.clone()),
                        image_response_card: None,
                    })
                    .collect(),
            ),
            bot_version: Some(u.version.clone()),
            conversation_start_time: Some(u.conversation_start),
            dialog_action_type: u.dialog_action.clone(),
            input_type: Some("text/plain; charset=utf-8".into()),
            intent_state: u.intent_state.clone(),
            locale_id: Some(u.locale_id.clone()),
            mode: Some(u.mode.clone()),
            output_type: Some("text/plain; charset=utf-8".into()),
            session_id: Some(u.session_id.clone()),
            slots_filled_in_session: Some(u.slots_filled.join(",")),
            utterance: Some(u.text.clone()),
            utterance_request_id: None,
            utterance_timestamp: Some(u.at),
            utterance_understood: Some(!u.missed),
            ..Default::default()
        })
        .collect();
    Ok(api::ListUtteranceAnalyticsDataResponse {
        bot_id: Some(req.bot_id),
        utterances: Some(utterances),
        next_token: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utt(
        session: &str,
        at: i64,
        intent: &str,
        state: &str,
        switched_from: Option<&str>,
    ) -> store::Utterance {
        let t = Timestamp(time::OffsetDateTime::from_unix_timestamp(at).unwrap());
        store::Utterance {
            at: t,
            bot_id: "B".into(),
            alias_id: "A".into(),
            version: "DRAFT".into(),
            locale_id: "en_US".into(),
            session_id: session.into(),
            request_id: "r".into(),
            text: "x".into(),
            intent: Some(intent.into()),
            missed: intent == "FallbackIntent",
            switched_from: switched_from.map(str::to_string),
            intent_state: Some(state.into()),
            dialog_action: None,
            slot_to_elicit: None,
            mode: "Text".into(),
            conversation_start: t,
            responses: Vec::new(),
            slots_filled: Vec::new(),
        }
    }

    #[test]
    fn episodes_end_in_success_failure_switch_or_drop() {
        let eps = episodes(vec![
            utt("s1", 1, "Pay", "InProgress", None),
            utt("s1", 2, "Pay", "Fulfilled", None),
            utt("s2", 3, "Pay", "InProgress", None),
            utt("s2", 4, "Fraud", "InProgress", Some("Pay")),
            utt("s2", 5, "Fraud", "Failed", None),
            utt("s3", 6, "Open", "InProgress", None),
        ]);
        let got: Vec<(&str, &str)> = eps.iter().map(|e| (e.intent.as_str(), e.outcome)).collect();
        assert_eq!(
            got,
            [
                ("Pay", "Success"),
                ("Pay", "Switched"),
                ("Fraud", "Failure"),
                ("Open", "Dropped")
            ]
        );
    }

    #[test]
    fn bins_and_statistics() {
        let t = Timestamp(time::OffsetDateTime::from_unix_timestamp(7_200 + 59).unwrap());
        assert_eq!(bin(&t, "OneHour"), 7_200_000);
        assert_eq!(bin(&t, "OneDay"), 0);
        assert_eq!(stat(&[1.0, 3.0], "Sum"), 4.0);
        assert_eq!(stat(&[1.0, 3.0], "Avg"), 2.0);
        assert_eq!(stat(&[1.0, 3.0], "Max"), 3.0);
        assert_eq!(stat(&[], "Avg"), 0.0);
    }
}
