//! Variables: CreateVariable, BatchCreateVariable, BatchGetVariable, GetVariables,
//! UpdateVariable, DeleteVariable.

use super::{apply, get, list_all, max_results, page, tag_ops, untag_op, Cx};
use crate::api;
use crate::domain::values::{typed_value, DataType};
use crate::error::{FdError, FdResult};
use crate::store::{EventTypeRec, VariableRec};
use crate::Inner;
use hearth_runtime::{Expect, WriteOp};

/// The variable types AWS documents, with the data types each allows.
const VARIABLE_TYPES: &[(&str, &[&str])] = &[
    ("AUTH_CODE", &["STRING"]),
    ("AVS", &["STRING"]),
    ("BILLING_ADDRESS_L1", &["STRING"]),
    ("BILLING_ADDRESS_L2", &["STRING"]),
    ("BILLING_CITY", &["STRING"]),
    ("BILLING_COUNTRY", &["STRING"]),
    ("BILLING_NAME", &["STRING"]),
    ("BILLING_PHONE", &["STRING"]),
    ("BILLING_STATE", &["STRING"]),
    ("BILLING_ZIP", &["STRING"]),
    ("CARD_BIN", &["STRING"]),
    ("CATEGORICAL", &["STRING", "BOOLEAN"]),
    ("CURRENCY_CODE", &["STRING"]),
    ("EMAIL_ADDRESS", &["STRING"]),
    ("FINGERPRINT", &["STRING"]),
    ("FRAUD_LABEL", &["STRING"]),
    ("FREE_FORM_TEXT", &["STRING"]),
    ("IP_ADDRESS", &["STRING"]),
    ("NUMERIC", &["FLOAT", "INTEGER"]),
    ("ORDER_ID", &["STRING"]),
    ("PAYMENT_TYPE", &["STRING"]),
    ("PHONE_NUMBER", &["STRING"]),
    ("PRICE", &["FLOAT", "INTEGER"]),
    ("PRODUCT_CATEGORY", &["STRING"]),
    ("SHIPPING_ADDRESS_L1", &["STRING"]),
    ("SHIPPING_ADDRESS_L2", &["STRING"]),
    ("SHIPPING_CITY", &["STRING"]),
    ("SHIPPING_COUNTRY", &["STRING"]),
    ("SHIPPING_NAME", &["STRING"]),
    ("SHIPPING_PHONE", &["STRING"]),
    ("SHIPPING_STATE", &["STRING"]),
    ("SHIPPING_ZIP", &["STRING"]),
    ("USERAGENT", &["STRING"]),
    ("SESSION_ID", &["STRING"]),
    ("DATETIME", &["DATETIME"]),
];

/// A new variable, checked.
fn new_variable(cx: &Cx, name: &str, data_type: &str, data_source: &str, default: &str, description: Option<String>, variable_type: Option<String>) -> FdResult<VariableRec> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(FdError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-z_]{{1,64}}$"
        )));
    }
    let dt = DataType::parse(data_type).ok_or_else(|| FdError::validation(format!("Invalid dataType: {data_type}")))?;
    if !matches!(data_source, "EVENT" | "MODEL_SCORE" | "EXTERNAL_MODEL_SCORE") {
        return Err(FdError::validation(format!("Invalid dataSource: {data_source}")));
    }
    check_default(dt, default)?;
    let variable_type = match variable_type {
        Some(vt) => {
            let Some((_, allowed)) = VARIABLE_TYPES.iter().find(|(t, _)| *t == vt) else {
                return Err(FdError::validation(format!("Invalid variableType: {vt}")));
            };
            if !allowed.contains(&data_type) {
                return Err(FdError::validation(format!("The variableType {vt} requires the dataType {}, not {data_type}", allowed.join(" or "))));
            }
            Some(vt)
        }
        None => Some(
            match dt {
                DataType::Integer | DataType::Float => "NUMERIC",
                DataType::Datetime => "DATETIME",
                _ => "CATEGORICAL",
            }
            .to_string(),
        ),
    };
    Ok(VariableRec {
        name: name.to_string(),
        data_type: data_type.to_string(),
        data_source: data_source.to_string(),
        default_value: default.to_string(),
        description,
        variable_type,
        stamp: cx.stamp(&format!("variable/{name}")),
    })
}

fn check_default(dt: DataType, default: &str) -> FdResult<()> {
    if dt == DataType::String || (dt == DataType::Datetime && default.is_empty()) {
        return Ok(());
    }
    typed_value(dt, default).map(|_| ()).map_err(|why| FdError::validation(format!("The defaultValue is not valid for the dataType {}: {why}", dt.as_str())))
}

/// The API view of a variable.
pub fn to_api(v: &VariableRec) -> api::Variable {
    api::Variable {
        arn: Some(v.stamp.arn.clone()),
        created_time: Some(v.stamp.created.clone()),
        last_updated_time: Some(v.stamp.updated.clone()),
        data_source: Some(v.data_source.clone()),
        data_type: Some(v.data_type.clone()),
        default_value: Some(v.default_value.clone()),
        description: v.description.clone(),
        name: Some(v.name.clone()),
        variable_type: v.variable_type.clone(),
    }
}

pub async fn create_variable(svc: &Inner, cx: &Cx, req: api::CreateVariableRequest) -> FdResult<api::CreateVariableResult> {
    let rec = new_variable(cx, &req.name, &req.data_type, &req.data_source, &req.default_value, req.description, req.variable_type)?;
    let mut ops = vec![WriteOp::put(&cx.scope, &rec.name, &rec, Expect::Absent)?];
    ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
    let name = rec.name.clone();
    apply(svc, ops, || format!("A variable with the name {name} already exists.")).await.map_err(|e| match e {
        FdError::Conflict(m) => FdError::Validation(m),
        other => other,
    })?;
    tracing::info!(variable = %rec.name, data_type = %rec.data_type, "variable created");
    Ok(api::CreateVariableResult {})
}

pub async fn batch_create_variable(svc: &Inner, cx: &Cx, req: api::BatchCreateVariableRequest) -> FdResult<api::BatchCreateVariableResult> {
    let mut errors = Vec::new();
    for e in req.variable_entries {
        let name = e.name.clone().unwrap_or_default();
        let missing = [("name", e.name.is_none()), ("dataType", e.data_type.is_none()), ("dataSource", e.data_source.is_none()), ("defaultValue", e.default_value.is_none())]
            .into_iter()
            .find(|(_, m)| *m);
        if let Some((field, _)) = missing {
            errors.push(api::BatchCreateVariableError { name: Some(name), code: Some(400), message: Some(format!("The {field} of the variable is required.")) });
            continue;
        }
        let rec = match new_variable(
            cx,
            &name,
            e.data_type.as_deref().unwrap_or(""),
            e.data_source.as_deref().unwrap_or(""),
            e.default_value.as_deref().unwrap_or(""),
            e.description,
            e.variable_type,
        ) {
            Ok(r) => r,
            Err(err) => {
                errors.push(api::BatchCreateVariableError { name: Some(name), code: Some(400), message: Some(err.to_aws().message) });
                continue;
            }
        };
        let mut ops = vec![WriteOp::put(&cx.scope, &rec.name, &rec, Expect::Absent)?];
        ops.extend(tag_ops(&cx.scope, &rec.stamp.arn, &req.tags)?);
        match apply(svc, ops, || format!("A variable with the name {name} already exists.")).await {
            Ok(()) => {}
            Err(FdError::Conflict(m)) => errors.push(api::BatchCreateVariableError { name: Some(name), code: Some(400), message: Some(m) }),
            Err(other) => return Err(other),
        }
    }
    Ok(api::BatchCreateVariableResult { errors: Some(errors) })
}

pub async fn batch_get_variable(svc: &Inner, cx: &Cx, req: api::BatchGetVariableRequest) -> FdResult<api::BatchGetVariableResult> {
    let mut variables = Vec::new();
    let mut errors = Vec::new();
    for name in req.names {
        match get::<VariableRec>(svc, &cx.scope, &name).await? {
            Some(v) => variables.push(to_api(&v)),
            None => errors.push(api::BatchGetVariableError { name: Some(name.clone()), code: Some(404), message: Some(format!("The variable {name} does not exist.")) }),
        }
    }
    Ok(api::BatchGetVariableResult { variables: Some(variables), errors: Some(errors) })
}

pub async fn get_variables(svc: &Inner, cx: &Cx, req: api::GetVariablesRequest) -> FdResult<api::GetVariablesResult> {
    if let Some(name) = req.name {
        let v = get::<VariableRec>(svc, &cx.scope, &name).await?.ok_or_else(|| FdError::not_found(format!("The variable {name} does not exist.")))?;
        return Ok(api::GetVariablesResult { variables: Some(vec![to_api(&v)]), next_token: None });
    }
    let all = list_all::<VariableRec>(svc, &cx.scope, "").await?;
    let (items, next) = page(all, req.next_token.as_deref(), max_results(req.max_results, 100))?;
    Ok(api::GetVariablesResult { variables: Some(items.iter().map(to_api).collect()), next_token: next })
}

pub async fn update_variable(svc: &Inner, cx: &Cx, req: api::UpdateVariableRequest) -> FdResult<api::UpdateVariableResult> {
    let stored = svc.rt.meta.get::<VariableRec>(&cx.scope, &req.name).await?.ok_or_else(|| FdError::not_found(format!("The variable {} does not exist.", req.name)))?;
    let mut v = stored.value;
    let dt = DataType::parse(&v.data_type).ok_or_else(|| FdError::internal(format!("stored variable {} has data type {}", v.name, v.data_type)))?;
    if let Some(d) = req.default_value {
        check_default(dt, &d)?;
        v.default_value = d;
    }
    if let Some(d) = req.description {
        v.description = Some(d);
    }
    if let Some(vt) = req.variable_type {
        let Some((_, allowed)) = VARIABLE_TYPES.iter().find(|(t, _)| *t == vt) else {
            return Err(FdError::validation(format!("Invalid variableType: {vt}")));
        };
        if !allowed.contains(&v.data_type.as_str()) {
            return Err(FdError::validation(format!("The variableType {vt} requires the dataType {}, not {}", allowed.join(" or "), v.data_type)));
        }
        v.variable_type = Some(vt);
    }
    v.stamp = cx.touch(&v.stamp);
    let name = v.name.clone();
    apply(svc, vec![WriteOp::put(&cx.scope, &v.name, &v, Expect::Version(stored.version))?], || format!("The variable {name} was changed by another request; try again.")).await?;
    Ok(api::UpdateVariableResult {})
}

pub async fn delete_variable(svc: &Inner, cx: &Cx, req: api::DeleteVariableRequest) -> FdResult<api::DeleteVariableResult> {
    let Some(v) = get::<VariableRec>(svc, &cx.scope, &req.name).await? else { return Ok(api::DeleteVariableResult {}) };
    for (_, et) in list_all::<EventTypeRec>(svc, &cx.scope, "").await? {
        if et.event_variables.contains(&req.name) {
            return Err(FdError::conflict(format!("The variable {} is used by the event type {} and cannot be deleted.", req.name, et.name)));
        }
    }
    apply(svc, vec![WriteOp::delete::<VariableRec>(&cx.scope, &req.name, Expect::Any), untag_op(&cx.scope, &v.stamp.arn)], String::new).await?;
    Ok(api::DeleteVariableResult {})
}
