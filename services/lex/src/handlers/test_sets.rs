//! Test Workbench: StartImport of a test-set CSV from S3, DescribeImport, ListImports,
//! DeleteImport; ListTestSets, DescribeTestSet, UpdateTestSet, DeleteTestSet,
//! ListTestSetRecords; StartTestExecution, DescribeTestExecution, ListTestExecutions,
//! ListTestExecutionResultItems.
//!
//! Lex gets the import id from CreateUploadUrl; Hearth reads test sets from the S3 location in
//! the import specification, so any new 10-character import id is accepted.

use super::{
    check_description, check_id, check_name, list_all, new_id, not_found, page, sort_by_key, Cx,
};
use crate::api;
use crate::domain::testsets;
use crate::error::{LexError, Result};
use crate::jobs::{ImportJob, ImportState, TestExecutionJob, TestExecutionState};
use crate::store;
use hearth_runtime::{Expect, SubmitOptions};

pub(crate) async fn start_import(
    cx: &Cx<'_>,
    req: api::StartImportRequest,
) -> Result<api::StartImportResponse> {
    check_id(&req.import_id, "importId")?;
    if !matches!(
        req.merge_strategy.as_str(),
        "Overwrite" | "FailOnConflict" | "Append"
    ) {
        return Err(LexError::member(
            &req.merge_strategy,
            "mergeStrategy",
            "Member must satisfy enum value set: [Overwrite, FailOnConflict, Append]",
        ));
    }
    let Some(spec) = &req
        .resource_specification
        .test_set_import_resource_specification
    else {
        return Err(LexError::Validation("Hearth imports test sets (resourceSpecification.testSetImportResourceSpecification); bot, bot locale and custom vocabulary imports are not supported.".into()));
    };
    check_name(&spec.test_set_name, "testSetName")?;
    check_description(spec.description.as_deref())?;
    if spec.modality != "Text" {
        return Err(LexError::Validation(format!(
            "Hearth runs text test sets; the modality {} is not supported.",
            spec.modality
        )));
    }
    let now = cx.now();
    let rec = store::Import {
        id: req.import_id.clone(),
        spec: req.resource_specification.clone(),
        merge_strategy: req.merge_strategy.clone(),
        status: "InProgress".into(),
        failure_reasons: Vec::new(),
        resource_type: "TestSet".into(),
        imported_resource_id: None,
        imported_resource_name: Some(spec.test_set_name.clone()),
        created: now,
        updated: now,
    };
    if cx
        .meta()
        .get::<store::Import>(&cx.scope, &req.import_id)
        .await?
        .is_some()
    {
        return Err(LexError::Conflict(format!(
            "The import {} already exists.",
            req.import_id
        )));
    }
    cx.meta()
        .put(&cx.scope, &req.import_id, &rec, Expect::Absent)
        .await?;
    let job_id = format!(
        "lex-import/{}/{}/{}",
        cx.scope.account, cx.scope.region, req.import_id
    );
    cx.lex
        .inner
        .rt
        .jobs
        .submit_job::<ImportJob>(
            &cx.scope,
            &ImportState {
                import_id: req.import_id.clone(),
            },
            SubmitOptions::with_id(job_id),
        )
        .await
        .map_err(|e| LexError::Internal(e.to_string()))?;
    Ok(api::StartImportResponse {
        creation_date_time: Some(now),
        import_id: Some(req.import_id),
        import_status: Some("InProgress".into()),
        merge_strategy: Some(req.merge_strategy),
        resource_specification: Some(req.resource_specification),
    })
}

pub(crate) async fn describe_import(
    cx: &Cx<'_>,
    req: api::DescribeImportRequest,
) -> Result<api::DescribeImportResponse> {
    let i = cx
        .meta()
        .get::<store::Import>(&cx.scope, &req.import_id)
        .await?
        .ok_or_else(not_found)?
        .value;
    Ok(api::DescribeImportResponse {
        creation_date_time: Some(i.created),
        failure_reasons: Some(i.failure_reasons),
        import_id: Some(i.id),
        import_status: Some(i.status),
        imported_resource_id: i.imported_resource_id,
        imported_resource_name: i.imported_resource_name,
        last_updated_date_time: Some(i.updated),
        merge_strategy: Some(i.merge_strategy),
        resource_specification: Some(i.spec),
    })
}

pub(crate) async fn list_imports(
    cx: &Cx<'_>,
    req: api::ListImportsRequest,
) -> Result<api::ListImportsResponse> {
    let mut imports: Vec<store::Import> = list_all::<store::Import>(cx.meta(), &cx.scope, "")
        .await?
        .into_iter()
        .map(|(_, i)| i.value)
        .collect();
    for f in req.filters.iter().flatten() {
        imports.retain(|i| match f.name.as_str() {
            "ImportResourceType" => super::filter_matches(&i.resource_type, &f.operator, &f.values),
            _ => true,
        });
    }
    sort_by_key(
        &mut imports,
        req.sort_by.as_ref().map(|s| s.order.as_str()),
        |i| i.updated,
    );
    let (items, next) = page(imports, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListImportsResponse {
        bot_id: req.bot_id,
        bot_version: req.bot_version,
        locale_id: req.locale_id,
        import_summaries: Some(
            items
                .into_iter()
                .map(|i| api::ImportSummary {
                    creation_date_time: Some(i.created),
                    import_id: Some(i.id),
                    import_status: Some(i.status),
                    imported_resource_id: i.imported_resource_id,
                    imported_resource_name: i.imported_resource_name,
                    imported_resource_type: Some(i.resource_type),
                    last_updated_date_time: Some(i.updated),
                    merge_strategy: Some(i.merge_strategy),
                })
                .collect(),
        ),
        next_token: next,
    })
}

pub(crate) async fn delete_import(
    cx: &Cx<'_>,
    req: api::DeleteImportRequest,
) -> Result<api::DeleteImportResponse> {
    cx.meta()
        .get::<store::Import>(&cx.scope, &req.import_id)
        .await?
        .ok_or_else(super::gone)?;
    cx.meta()
        .delete::<store::Import>(&cx.scope, &req.import_id, Expect::Any)
        .await?;
    Ok(api::DeleteImportResponse {
        import_id: Some(req.import_id),
        import_status: Some("Deleting".into()),
    })
}

fn summary(t: &store::TestSet) -> api::TestSetSummary {
    api::TestSetSummary {
        creation_date_time: Some(t.created),
        description: t.description.clone(),
        last_updated_date_time: Some(t.updated),
        modality: Some(t.modality.clone()),
        num_turns: Some(t.records.len() as i32),
        role_arn: Some(t.role_arn.clone()),
        status: Some(t.status.clone()),
        storage_location: Some(t.storage.clone()),
        test_set_id: Some(t.id.clone()),
        test_set_name: Some(t.name.clone()),
    }
}

async fn test_set(cx: &Cx<'_>, id: &str) -> Result<hearth_runtime::Versioned<store::TestSet>> {
    check_id(id, "testSetId")?;
    cx.meta()
        .get::<store::TestSet>(&cx.scope, id)
        .await?
        .ok_or_else(not_found)
}

pub(crate) async fn list_test_sets(
    cx: &Cx<'_>,
    req: api::ListTestSetsRequest,
) -> Result<api::ListTestSetsResponse> {
    let mut sets: Vec<store::TestSet> = list_all::<store::TestSet>(cx.meta(), &cx.scope, "")
        .await?
        .into_iter()
        .map(|(_, t)| t.value)
        .collect();
    match req.sort_by.as_ref() {
        Some(s) if s.attribute == "LastUpdatedDateTime" => {
            sort_by_key(&mut sets, Some(s.order.as_str()), |t| t.updated)
        }
        s => sort_by_key(&mut sets, s.map(|s| s.order.as_str()), |t| {
            t.name.to_lowercase()
        }),
    }
    let (items, next) = page(sets, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListTestSetsResponse {
        test_sets: Some(items.iter().map(summary).collect()),
        next_token: next,
    })
}

pub(crate) async fn describe_test_set(
    cx: &Cx<'_>,
    req: api::DescribeTestSetRequest,
) -> Result<api::DescribeTestSetResponse> {
    let s = summary(&test_set(cx, &req.test_set_id).await?.value);
    Ok(api::DescribeTestSetResponse {
        creation_date_time: s.creation_date_time,
        description: s.description,
        last_updated_date_time: s.last_updated_date_time,
        modality: s.modality,
        num_turns: s.num_turns,
        role_arn: s.role_arn,
        status: s.status,
        storage_location: s.storage_location,
        test_set_id: s.test_set_id,
        test_set_name: s.test_set_name,
    })
}

pub(crate) async fn update_test_set(
    cx: &Cx<'_>,
    req: api::UpdateTestSetRequest,
) -> Result<api::UpdateTestSetResponse> {
    check_name(&req.test_set_name, "testSetName")?;
    check_description(req.description.as_deref())?;
    let cur = test_set(cx, &req.test_set_id)
        .await
        .map_err(|_| super::gone())?;
    let mut t = cur.value;
    t.name = req.test_set_name;
    t.description = req.description;
    t.updated = cx.now();
    cx.meta()
        .put(&cx.scope, &t.id, &t, Expect::Version(cur.version))
        .await?;
    let s = summary(&t);
    Ok(api::UpdateTestSetResponse {
        creation_date_time: s.creation_date_time,
        description: s.description,
        last_updated_date_time: s.last_updated_date_time,
        modality: s.modality,
        num_turns: s.num_turns,
        role_arn: s.role_arn,
        status: s.status,
        storage_location: s.storage_location,
        test_set_id: s.test_set_id,
        test_set_name: s.test_set_name,
    })
}

pub(crate) async fn delete_test_set(cx: &Cx<'_>, req: api::DeleteTestSetRequest) -> Result<()> {
    test_set(cx, &req.test_set_id)
        .await
        .map_err(|_| super::gone())?;
    cx.meta()
        .delete::<store::TestSet>(&cx.scope, &req.test_set_id, Expect::Any)
        .await?;
    Ok(())
}

pub(crate) async fn list_test_set_records(
    cx: &Cx<'_>,
    req: api::ListTestSetRecordsRequest,
) -> Result<api::ListTestSetRecordsResponse> {
    let t = test_set(cx, &req.test_set_id).await?.value;
    let (items, next) = page(t.records, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListTestSetRecordsResponse {
        test_set_records: Some(items),
        next_token: next,
    })
}

pub(crate) async fn start_test_execution(
    cx: &Cx<'_>,
    req: api::StartTestExecutionRequest,
) -> Result<api::StartTestExecutionResponse> {
    if !matches!(req.api_mode.as_str(), "Streaming" | "NonStreaming") {
        return Err(LexError::member(
            &req.api_mode,
            "apiMode",
            "Member must satisfy enum value set: [Streaming, NonStreaming]",
        ));
    }
    if req
        .test_execution_modality
        .as_deref()
        .is_some_and(|m| m != "Text")
    {
        return Err(LexError::Validation(
            "Hearth runs text test executions (testExecutionModality Text).".into(),
        ));
    }
    let t = test_set(cx, &req.test_set_id).await?.value;
    if t.status != "Ready" {
        return Err(LexError::PreconditionFailed(format!(
            "The test set {} is not ready (status {}).",
            t.id, t.status
        )));
    }
    let Some(target) = &req.target.bot_alias_target else {
        return Err(LexError::Validation("1 validation error detected: Value null at 'target.botAliasTarget' failed to satisfy constraint: Member must not be null".into()));
    };
    // The alias must serve a built locale now; the job resolves it again when it runs.
    cx.lex
        .target(
            &cx.scope,
            &target.bot_id,
            &target.bot_alias_id,
            &target.locale_id,
        )
        .await?;
    let id = new_id();
    let now = cx.now();
    let rec = store::TestExecution {
        id: id.clone(),
        test_set_id: t.id.clone(),
        test_set_name: t.name.clone(),
        target: req.target.clone(),
        api_mode: req.api_mode.clone(),
        modality: req.test_execution_modality.clone(),
        status: "Pending".into(),
        failure_reasons: Vec::new(),
        created: now,
        updated: now,
        turns: Vec::new(),
        conversations: Vec::new(),
    };
    cx.meta().put(&cx.scope, &id, &rec, Expect::Absent).await?;
    let job_id = format!("lex-testexec/{}/{}/{id}", cx.scope.account, cx.scope.region);
    cx.lex
        .inner
        .rt
        .jobs
        .submit_job::<TestExecutionJob>(
            &cx.scope,
            &TestExecutionState {
                execution_id: id.clone(),
            },
            SubmitOptions::with_id(job_id),
        )
        .await
        .map_err(|e| LexError::Internal(e.to_string()))?;
    Ok(api::StartTestExecutionResponse {
        api_mode: Some(req.api_mode),
        creation_date_time: Some(now),
        target: Some(req.target),
        test_execution_id: Some(id),
        test_execution_modality: req.test_execution_modality,
        test_set_id: Some(t.id),
    })
}

async fn execution(cx: &Cx<'_>, id: &str) -> Result<store::TestExecution> {
    check_id(id, "testExecutionId")?;
    Ok(cx
        .meta()
        .get::<store::TestExecution>(&cx.scope, id)
        .await?
        .ok_or_else(not_found)?
        .value)
}

fn exec_summary(e: &store::TestExecution) -> api::TestExecutionSummary {
    api::TestExecutionSummary {
        api_mode: Some(e.api_mode.clone()),
        creation_date_time: Some(e.created),
        last_updated_date_time: Some(e.updated),
        target: Some(e.target.clone()),
        test_execution_id: Some(e.id.clone()),
        test_execution_modality: e.modality.clone(),
        test_execution_status: Some(e.status.clone()),
        test_set_id: Some(e.test_set_id.clone()),
        test_set_name: Some(e.test_set_name.clone()),
    }
}

pub(crate) async fn describe_test_execution(
    cx: &Cx<'_>,
    req: api::DescribeTestExecutionRequest,
) -> Result<api::DescribeTestExecutionResponse> {
    let e = execution(cx, &req.test_execution_id).await?;
    let s = exec_summary(&e);
    Ok(api::DescribeTestExecutionResponse {
        api_mode: s.api_mode,
        creation_date_time: s.creation_date_time,
        failure_reasons: Some(e.failure_reasons),
        last_updated_date_time: s.last_updated_date_time,
        target: s.target,
        test_execution_id: s.test_execution_id,
        test_execution_modality: s.test_execution_modality,
        test_execution_status: s.test_execution_status,
        test_set_id: s.test_set_id,
        test_set_name: s.test_set_name,
    })
}

pub(crate) async fn list_test_executions(
    cx: &Cx<'_>,
    req: api::ListTestExecutionsRequest,
) -> Result<api::ListTestExecutionsResponse> {
    let mut execs: Vec<store::TestExecution> =
        list_all::<store::TestExecution>(cx.meta(), &cx.scope, "")
            .await?
            .into_iter()
            .map(|(_, e)| e.value)
            .collect();
    sort_by_key(
        &mut execs,
        req.sort_by.as_ref().map(|s| s.order.as_str()),
        |e| e.updated,
    );
    let (items, next) = page(execs, req.max_results, req.next_token.as_deref())?;
    Ok(api::ListTestExecutionsResponse {
        test_executions: Some(items.iter().map(exec_summary).collect()),
        next_token: next,
    })
}

pub(crate) async fn list_test_execution_result_items(
    cx: &Cx<'_>,
    req: api::ListTestExecutionResultItemsRequest,
) -> Result<api::ListTestExecutionResultItemsResponse> {
    let e = execution(cx, &req.test_execution_id).await?;
    if e.status != "Completed" {
        return Err(LexError::Validation(format!(
            "The test execution {} has not completed (status {}).",
            e.id, e.status
        )));
    }
    // Overall results count single inputs one by one and conversations as wholes.
    let mut units: Vec<(bool, String)> = e
        .conversations
        .iter()
        .map(|c| (true, c.end_to_end_result.clone()))
        .collect();
    for (multi, t) in &e.turns {
        if let (false, Some(u)) = (*multi, t.turn_result.user.as_ref()) {
            units.push((
                false,
                u.end_to_end_result
                    .clone()
                    .unwrap_or_else(|| "ExecutionError".into()),
            ));
        }
    }
    let agg = testsets::aggregate(&e.turns, &units);
    let mut out = api::TestExecutionResultItems::default();
    let mut next = None;
    match req.result_filter_by.result_type_filter.as_str() {
        "OverallTestResults" => out.overall_test_results = Some(api::OverallTestResults { items: agg.overall }),
        "IntentClassificationTestResults" => out.intent_classification_test_results = Some(api::IntentClassificationTestResults { items: agg.intents }),
        "SlotResolutionTestResults" => out.intent_level_slot_resolution_test_results = Some(api::IntentLevelSlotResolutionTestResults { items: agg.slots }),
        "ConversationLevelTestResults" => {
            let want = req.result_filter_by.conversation_level_test_results_filter_by.as_ref().and_then(|f| f.end_to_end_result.clone());
            let items: Vec<_> = e.conversations.into_iter().filter(|c| want.as_deref().is_none_or(|w| c.end_to_end_result == w)).collect();
            let (items, n) = page(items, req.max_results, req.next_token.as_deref())?;
            next = n;
            out.conversation_level_test_results = Some(api::ConversationLevelTestResults { items });
        }
        "UtteranceLevelResults" => {
            let (items, n) = page(e.turns.into_iter().map(|(_, t)| t).collect(), req.max_results, req.next_token.as_deref())?;
            next = n;
            out.utterance_level_test_results = Some(api::UtteranceLevelTestResults { items });
        }
        other => {
            return Err(LexError::member(
                other,
                "resultFilterBy.resultTypeFilter",
                "Member must satisfy enum value set: [OverallTestResults, ConversationLevelTestResults, IntentClassificationTestResults, SlotResolutionTestResults, UtteranceLevelResults]",
            ))
        }
    }
    Ok(api::ListTestExecutionResultItemsResponse {
        test_execution_results: Some(out),
        next_token: next,
    })
}
