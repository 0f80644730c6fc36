//! External (Amazon SageMaker) models: PutExternalModel, GetExternalModels,
//! DeleteExternalModel.
//!
//! An external model names a SageMaker endpoint of this server, how its input is made
//! (`useEventVariables` with a CSV or JSON template over the event type's variables, or the
//! caller's own bytes) and which variables its output sets (`EXTERNAL_MODEL_SCORE` variables,
//! by CSV column or JSON key). Detector versions list external models by endpoint name;
//! GetEventPrediction invokes them and rules read their output variables.

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::domain::external::{placeholders, INPUT_CSV, INPUT_JSON, OUTPUT_CSV, OUTPUT_JSONLINES};
use crate::error::{FdError, FdResult};
use crate::store::{DetectorVersionRec, EventTypeRec, ExternalModelRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};
use std::collections::BTreeMap;

/// Check the request's configuration; `Ok` is the record to store (stamp from `existing`).
async fn checked(svc: &Inner, cx: &Cx, req: &api::PutExternalModelRequest, stamp: crate::store::Stamp) -> FdResult<ExternalModelRec> {
    let input = &req.input_configuration;
    let output = &req.output_configuration;
    if input.use_event_variables {
        let et_name = input.event_type_name.as_deref().ok_or_else(|| FdError::validation("inputConfiguration.eventTypeName is required when useEventVariables is true."))?;
        let et = get::<EventTypeRec>(svc, &cx.scope, et_name).await?.ok_or_else(|| FdError::not_found(format!("The event type {et_name} does not exist.")))?;
        let format = input.format.as_deref().ok_or_else(|| FdError::validation("inputConfiguration.format is required when useEventVariables is true."))?;
        let template = match format {
            INPUT_CSV => input.csv_input_template.as_deref().ok_or_else(|| FdError::validation("inputConfiguration.csvInputTemplate is required for the TEXT_CSV format."))?,
            INPUT_JSON => input.json_input_template.as_deref().ok_or_else(|| FdError::validation("inputConfiguration.jsonInputTemplate is required for the APPLICATION_JSON format."))?,
            other => return Err(FdError::validation(format!("Invalid inputConfiguration.format: {other}"))),
        };
        let names = placeholders(template).map_err(|e| FdError::validation(format!("The input template is invalid: {e}.")))?;
        if names.is_empty() {
            return Err(FdError::validation("The input template has no {{variable}} placeholder."));
        }
        for n in &names {
            if !et.event_variables.contains(n) {
                return Err(FdError::validation(format!("The input template uses {n}, which is not a variable of the event type {et_name}.")));
            }
        }
    }
    let empty = BTreeMap::new();
    let (csv_map, json_map) = (output.csv_index_to_variable_map.as_ref().unwrap_or(&empty), output.json_key_to_variable_map.as_ref().unwrap_or(&empty));
    let mapped = match output.format.as_str() {
        OUTPUT_CSV => {
            if csv_map.is_empty() {
                return Err(FdError::validation("outputConfiguration.csvIndexToVariableMap is required for the TEXT_CSV format."));
            }
            for k in csv_map.keys() {
                if k.parse::<u32>().is_err() {
                    return Err(FdError::validation(format!("The CSV index '{k}' of csvIndexToVariableMap is not a column number.")));
                }
            }
            csv_map
        }
        OUTPUT_JSONLINES => {
            if json_map.is_empty() {
                return Err(FdError::validation("outputConfiguration.jsonKeyToVariableMap is required for the APPLICATION_JSONLINES format."));
            }
            json_map
        }
        other => return Err(FdError::validation(format!("Invalid outputConfiguration.format: {other}"))),
    };
    for var in mapped.values() {
        let v = get::<VariableRec>(svc, &cx.scope, var).await?.ok_or_else(|| FdError::not_found(format!("The variable {var} does not exist.")))?;
        if v.data_source != "EXTERNAL_MODEL_SCORE" {
            return Err(FdError::validation(format!("The variable {var} has the dataSource {}; external model outputs need EXTERNAL_MODEL_SCORE variables.", v.data_source)));
        }
    }
    let csv = output.format == OUTPUT_CSV;
    Ok(ExternalModelRec {
        model_endpoint: req.model_endpoint.clone(),
        model_source: req.model_source.clone(),
        role_arn: req.invoke_model_endpoint_role_arn.clone(),
        status: req.model_endpoint_status.clone(),
        input_event_type: input.event_type_name.clone(),
        input_format: input.format.clone(),
        use_event_variables: input.use_event_variables,
        json_input_template: input.json_input_template.clone(),
        csv_input_template: input.csv_input_template.clone(),
        output_format: output.format.clone(),
        json_key_to_variable: if csv { BTreeMap::new() } else { json_map.clone() },
        csv_index_to_variable: if csv { csv_map.clone() } else { BTreeMap::new() },
        stamp,
    })
}

/// Detector versions that list the external model.
async fn users(svc: &Inner, cx: &Cx, endpoint: &str) -> FdResult<Vec<String>> {
    Ok(list_all::<DetectorVersionRec>(svc, &cx.scope, "")
        .await?
        .into_iter()
        .filter(|(_, v)| v.external_model_endpoints.iter().any(|e| e == endpoint))
        .map(|(_, v)| format!("{}:{}", v.detector_id, v.version))
        .collect())
}

pub async fn put_external_model(svc: &Inner, cx: &Cx, req: api::PutExternalModelRequest) -> FdResult<api::PutExternalModelResult> {
    let existing = svc.rt.meta.get::<ExternalModelRec>(&cx.scope, &req.model_endpoint).await?;
    let (stamp, expect) = match &existing {
        Some(v) => (cx.touch(&v.value.stamp), Expect::Version(v.version)),
        None => (cx.stamp(&format!("external-model/{}", req.model_endpoint)), Expect::Absent),
    };
    let rec = checked(svc, cx, &req, stamp).await?;
    if rec.status == "DISSOCIATED" && existing.as_ref().is_some_and(|e| e.value.status == "ASSOCIATED") {
        let used = users(svc, cx, &rec.model_endpoint).await?;
        if !used.is_empty() {
            return Err(FdError::conflict(format!("The external model {} is used by detector versions ({}) and cannot be dissociated.", rec.model_endpoint, used.join(", "))));
        }
    }
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.model_endpoint, &rec, expect)?];
    if existing.is_none() {
        ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    }
    apply(svc, ops, || format!("The external model {} was changed by another request; try again.", rec.model_endpoint)).await?;
    tracing::info!(endpoint = %rec.model_endpoint, status = %rec.status, created = existing.is_none(), "external model stored");
    Ok(api::PutExternalModelResult {})
}

fn to_api(m: &ExternalModelRec) -> api::ExternalModel {
    let map = |x: &BTreeMap<String, String>| (!x.is_empty()).then(|| x.clone());
    api::ExternalModel {
        arn: Some(m.stamp.arn.clone()),
        created_time: Some(m.stamp.created.clone()),
        last_updated_time: Some(m.stamp.updated.clone()),
        model_endpoint: Some(m.model_endpoint.clone()),
        model_source: Some(m.model_source.clone()),
        invoke_model_endpoint_role_arn: Some(m.role_arn.clone()),
        model_endpoint_status: Some(m.status.clone()),
        input_configuration: Some(api::ModelInputConfiguration {
            event_type_name: m.input_event_type.clone(),
            format: m.input_format.clone(),
            use_event_variables: m.use_event_variables,
            json_input_template: m.json_input_template.clone(),
            csv_input_template: m.csv_input_template.clone(),
        }),
        output_configuration: Some(api::ModelOutputConfiguration {
            format: m.output_format.clone(),
            json_key_to_variable_map: map(&m.json_key_to_variable),
            csv_index_to_variable_map: map(&m.csv_index_to_variable),
        }),
    }
}

pub async fn get_external_models(svc: &Inner, cx: &Cx, req: api::GetExternalModelsRequest) -> FdResult<api::GetExternalModelsResult> {
    if let Some(e) = &req.model_endpoint {
        let m = get::<ExternalModelRec>(svc, &cx.scope, e).await?.ok_or_else(|| FdError::not_found(format!("The external model {e} does not exist.")))?;
        return Ok(api::GetExternalModelsResult { external_models: Some(vec![to_api(&m)]), next_token: None });
    }
    let all = list_all::<ExternalModelRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 10))?;
    Ok(api::GetExternalModelsResult { external_models: Some(items.iter().map(to_api).collect()), next_token: next })
}

pub async fn delete_external_model(svc: &Inner, cx: &Cx, req: api::DeleteExternalModelRequest) -> FdResult<api::DeleteExternalModelResult> {
    let Some(m) = get::<ExternalModelRec>(svc, &cx.scope, &req.model_endpoint).await? else {
        return Ok(api::DeleteExternalModelResult {});
    };
    let used = users(svc, cx, &m.model_endpoint).await?;
    if !used.is_empty() {
        return Err(FdError::conflict(format!("The external model {} is used by detector versions ({}) and cannot be deleted.", m.model_endpoint, used.join(", "))));
    }
    apply(svc, vec![WriteOp::delete::<ExternalModelRec>(&cx.scope, &m.model_endpoint, Expect::Any), untag_op(&cx.scope, &m.stamp.arn)], String::new).await?;
    tracing::info!(endpoint = %m.model_endpoint, "external model deleted");
    Ok(api::DeleteExternalModelResult {})
}
