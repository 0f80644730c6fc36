//! The models API's handlers, one file per resource family, and what they share: the
//! dispatch over [`Operation`], input checks in AWS's wording, lookups that answer
//! `ResourceNotFoundException`, and pagination.

mod aliases;
mod analytics;
mod bots;
mod intents;
mod locales;
mod slot_types;
mod slots;
mod tags;
mod test_sets;
mod versions;

use crate::api::Operation;
use crate::error::{LexError, Result};
use crate::store::{self, DRAFT};
use crate::{input, output, Lex};
use base64::Engine;
use hearth_protocol::types::Timestamp;
use hearth_protocol::RequestContext;
use hearth_runtime::{MetaStore, Scope, Versioned};
use serde_json::Value;

/// What every handler gets.
pub(crate) struct Cx<'a> {
    pub lex: &'a Lex,
    pub scope: Scope,
}

impl Cx<'_> {
    pub fn meta(&self) -> &MetaStore {
        &self.lex.inner.rt.meta
    }
    pub fn now(&self) -> Timestamp {
        self.lex.now()
    }

    /// The bot, or ResourceNotFoundException.
    pub async fn bot(&self, id: &str) -> Result<Versioned<store::Bot>> {
        check_id(id, "botId")?;
        self.meta()
            .get::<store::Bot>(&self.scope, id)
            .await?
            .ok_or_else(not_found)
    }

    /// The version exists (DRAFT always does once the bot exists).
    pub async fn version_exists(&self, bot: &str, version: &str) -> Result<()> {
        if version == DRAFT {
            return Ok(());
        }
        self.meta()
            .get::<store::Version>(&self.scope, &store::version_key(bot, version))
            .await?
            .map(|_| ())
            .ok_or_else(not_found)
    }

    /// The locale of a version, or ResourceNotFoundException.
    pub async fn locale(
        &self,
        bot: &str,
        version: &str,
        locale: &str,
    ) -> Result<Versioned<store::Locale>> {
        self.bot(bot).await?;
        self.meta()
            .get::<store::Locale>(&self.scope, &store::locale_key(bot, version, locale))
            .await?
            .ok_or_else(not_found)
    }
}

impl Cx<'_> {
    /// A record under a locale (intent, slot, slot type) at `key`, checking the bot and locale
    /// exist first; ResourceNotFoundException when any is missing.
    pub async fn in_locale<T: hearth_runtime::Record>(&self, bot: &str, version: &str, locale: &str, key: &str) -> Result<T> {
        check_version(version)?;
        self.locale(bot, version, locale).await?;
        Ok(self.meta().get::<T>(&self.scope, key).await?.ok_or_else(not_found)?.value)
    }
}

/// The message Lex V2 gives for a resource that does not exist.
pub(crate) fn not_found() -> LexError {
    LexError::NotFound("Failed to retrieve resource since it does not exist".into())
}

/// The message Lex V2 gives when an update or delete finds no resource.
pub(crate) fn gone() -> LexError {
    LexError::PreconditionFailed("Failed to retrieve resource since it does not exist".into())
}

/// Run one operation.
pub(crate) async fn call(
    lex: &Lex,
    ctx: &RequestContext,
    op: Operation,
    v: Value,
) -> Result<Value> {
    let cx = Cx {
        lex,
        scope: Scope::new(ctx.account.clone(), ctx.region.clone()),
    };
    macro_rules! h {
        ($f:path) => {
            output(&$f(&cx, input(v)?).await?)
        };
    }
    match op {
        Operation::CreateBot => h!(bots::create_bot),
        Operation::DescribeBot => h!(bots::describe_bot),
        Operation::UpdateBot => h!(bots::update_bot),
        Operation::DeleteBot => h!(bots::delete_bot),
        Operation::ListBots => h!(bots::list_bots),
        Operation::CreateBotLocale => h!(locales::create_bot_locale),
        Operation::DescribeBotLocale => h!(locales::describe_bot_locale),
        Operation::UpdateBotLocale => h!(locales::update_bot_locale),
        Operation::DeleteBotLocale => h!(locales::delete_bot_locale),
        Operation::ListBotLocales => h!(locales::list_bot_locales),
        Operation::BuildBotLocale => h!(locales::build_bot_locale),
        Operation::CreateIntent => h!(intents::create_intent),
        Operation::DescribeIntent => h!(intents::describe_intent),
        Operation::UpdateIntent => h!(intents::update_intent),
        Operation::DeleteIntent => h!(intents::delete_intent),
        Operation::ListIntents => h!(intents::list_intents),
        Operation::CreateSlot => h!(slots::create_slot),
        Operation::DescribeSlot => h!(slots::describe_slot),
        Operation::UpdateSlot => h!(slots::update_slot),
        Operation::DeleteSlot => h!(slots::delete_slot),
        Operation::ListSlots => h!(slots::list_slots),
        Operation::CreateSlotType => h!(slot_types::create_slot_type),
        Operation::DescribeSlotType => h!(slot_types::describe_slot_type),
        Operation::UpdateSlotType => h!(slot_types::update_slot_type),
        Operation::DeleteSlotType => h!(slot_types::delete_slot_type),
        Operation::ListSlotTypes => h!(slot_types::list_slot_types),
        Operation::ListBuiltInSlotTypes => h!(slot_types::list_built_in_slot_types),
        Operation::ListBuiltInIntents => h!(intents::list_built_in_intents),
        Operation::CreateBotVersion => h!(versions::create_bot_version),
        Operation::DescribeBotVersion => h!(versions::describe_bot_version),
        Operation::DeleteBotVersion => h!(versions::delete_bot_version),
        Operation::ListBotVersions => h!(versions::list_bot_versions),
        Operation::CreateBotAlias => h!(aliases::create_bot_alias),
        Operation::DescribeBotAlias => h!(aliases::describe_bot_alias),
        Operation::UpdateBotAlias => h!(aliases::update_bot_alias),
        Operation::DeleteBotAlias => h!(aliases::delete_bot_alias),
        Operation::ListBotAliases => h!(aliases::list_bot_aliases),
        Operation::TagResource => h!(tags::tag_resource),
        Operation::UntagResource => h!(tags::untag_resource),
        Operation::ListTagsForResource => h!(tags::list_tags_for_resource),
        Operation::StartImport => h!(test_sets::start_import),
        Operation::DescribeImport => h!(test_sets::describe_import),
        Operation::ListImports => h!(test_sets::list_imports),
        Operation::DeleteImport => h!(test_sets::delete_import),
        Operation::ListTestSets => h!(test_sets::list_test_sets),
        Operation::DescribeTestSet => h!(test_sets::describe_test_set),
        Operation::UpdateTestSet => h!(test_sets::update_test_set),
        Operation::DeleteTestSet => h!(test_sets::delete_test_set),
        Operation::ListTestSetRecords => h!(test_sets::list_test_set_records),
        Operation::StartTestExecution => h!(test_sets::start_test_execution),
        Operation::DescribeTestExecution => h!(test_sets::describe_test_execution),
        Operation::ListTestExecutions => h!(test_sets::list_test_executions),
        Operation::ListTestExecutionResultItems => h!(test_sets::list_test_execution_result_items),
        Operation::ListAggregatedUtterances => h!(analytics::list_aggregated_utterances),
        Operation::DeleteUtterances => h!(analytics::delete_utterances),
        Operation::ListUtteranceMetrics => h!(analytics::list_utterance_metrics),
        Operation::ListIntentMetrics => h!(analytics::list_intent_metrics),
        Operation::ListUtteranceAnalyticsData => h!(analytics::list_utterance_analytics_data),
    }
}

// -- input checks (AWS wording) -------------------------------------------------------------

/// `^([0-9a-zA-Z][_-]?){1,100}$`: letters and digits, single `_`/`-` between them.
pub(crate) fn check_name(v: &str, member: &str) -> Result<()> {
    let mut prev_sep = true;
    let mut ok = !v.is_empty() && v.len() <= 100;
    for c in v.chars() {
        if c.is_ascii_alphanumeric() {
            prev_sep = false;
        } else if (c == '_' || c == '-') && !prev_sep {
            prev_sep = true;
        } else {
            ok = false;
        }
    }
    if ok {
        Ok(())
    } else {
        Err(LexError::member(
            v,
            member,
            "Member must satisfy regular expression pattern: ^([0-9a-zA-Z][_-]?){1,100}$",
        ))
    }
}

/// A 10-character identifier (`^[0-9a-zA-Z]+$`).
pub(crate) fn check_id(v: &str, member: &str) -> Result<()> {
    if v.len() == 10 && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else if v.len() != 10 {
        Err(LexError::member(
            v,
            member,
            "Member must have length less than or equal to 10",
        ))
    } else {
        Err(LexError::member(
            v,
            member,
            "Member must satisfy regular expression pattern: ^[0-9a-zA-Z]+$",
        ))
    }
}

/// At most 2,000 characters.
pub(crate) fn check_description(v: Option<&str>) -> Result<()> {
    match v {
        Some(d) if d.chars().count() > 2000 => Err(LexError::member(
            d,
            "description",
            "Member must have length less than or equal to 2000",
        )),
        _ => Ok(()),
    }
}

/// `min <= v <= max`.
pub(crate) fn check_range(v: f64, min: f64, max: f64, member: &str) -> Result<()> {
    let shown = if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    };
    if v < min || v.is_nan() {
        return Err(LexError::member(
            &shown,
            member,
            &format!(
                "Member must have value greater than or equal to {}",
                fmt_bound(min)
            ),
        ));
    }
    if v > max {
        return Err(LexError::member(
            &shown,
            member,
            &format!(
                "Member must have value less than or equal to {}",
                fmt_bound(max)
            ),
        ));
    }
    Ok(())
}

fn fmt_bound(b: f64) -> String {
    if b.fract() == 0.0 {
        format!("{}", b as i64)
    } else {
        b.to_string()
    }
}

/// The version path member of an operation that only works on the draft.
pub(crate) fn check_draft(v: &str) -> Result<()> {
    if v == DRAFT {
        Ok(())
    } else {
        Err(LexError::member(
            v,
            "botVersion",
            "Member must satisfy regular expression pattern: ^DRAFT$",
        ))
    }
}

/// `DRAFT` or a version number.
pub(crate) fn check_version(v: &str) -> Result<()> {
    if v == DRAFT || (!v.is_empty() && v.len() <= 5 && v.bytes().all(|b| b.is_ascii_digit())) {
        Ok(())
    } else {
        Err(LexError::member(
            v,
            "botVersion",
            "Member must satisfy regular expression pattern: ^(DRAFT|[0-9]+)$",
        ))
    }
}

/// A new random 10-character identifier (upper-case letters and digits, as Lex makes them).
pub(crate) fn new_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut r = rand::thread_rng();
    (0..10)
        .map(|_| CHARS[r.gen_range(0..CHARS.len())] as char)
        .collect()
}

// -- pagination ------------------------------------------------------------------------------

/// One page of `items`: `maxResults` (1..=1000, default 100) from the offset in `nextToken`.
pub(crate) fn page<T>(
    items: Vec<T>,
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>)> {
    let max = match max_results {
        Some(m) => {
            check_range(f64::from(m), 1.0, 1000.0, "maxResults")?;
            m as usize
        }
        None => 100,
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| LexError::Validation("The nextToken is not valid.".into()))?,
    };
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + out.len() < total).then(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{}", start + max))
    });
    Ok((out, next))
}

/// Apply `filters` (name, operator `CO`/`EQ`/`NCO`? , values) to a string attribute.
pub(crate) fn filter_matches(value: &str, operator: &str, values: &[String]) -> bool {
    let v = value.to_lowercase();
    match operator {
        "EQ" => values.iter().any(|x| x.to_lowercase() == v),
        "NE" => values.iter().all(|x| x.to_lowercase() != v),
        "NCO" => values.iter().all(|x| !v.contains(&x.to_lowercase())),
        _ => values.iter().any(|x| v.contains(&x.to_lowercase())),
    }
}

/// Sort `items` by `key`, descending when `order` is `Descending`.
pub(crate) fn sort_by_key<T, K: Ord>(items: &mut [T], order: Option<&str>, key: impl Fn(&T) -> K) {
    items.sort_by_key(|x| key(x));
    if order == Some("Descending") {
        items.reverse();
    }
}

// -- bulk record helpers ----------------------------------------------------------------------

/// Every record of kind `T` whose key starts with `prefix`.
pub(crate) async fn list_all<T: hearth_runtime::Record>(
    meta: &MetaStore,
    scope: &Scope,
    prefix: &str,
) -> Result<Vec<(String, Versioned<T>)>> {
    Ok(meta
        .list::<T>(
            scope,
            &hearth_runtime::ListQuery {
                prefix: prefix.to_string(),
                ..Default::default()
            },
        )
        .await?)
}

/// Delete every record of kind `T` whose key starts with `prefix` (in batches).
pub(crate) async fn delete_all<T: hearth_runtime::Record>(
    meta: &MetaStore,
    scope: &Scope,
    prefix: &str,
) -> Result<usize> {
    let keys: Vec<String> = list_all::<T>(meta, scope, prefix)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for chunk in keys.chunks(500) {
        let ops = chunk
            .iter()
            .map(|k| {
                hearth_runtime::WriteOp::delete::<T>(scope, k.clone(), hearth_runtime::Expect::Any)
            })
            .collect();
        meta.apply(ops).await?;
    }
    Ok(keys.len())
}

/// The write that marks a draft locale as changed since its last build (`NotBuilt`), to go in
/// the same batch as the change. Errors with ResourceNotFoundException if the locale is gone.
pub(crate) async fn locale_changed(
    cx: &Cx<'_>,
    bot: &str,
    locale: &str,
) -> Result<hearth_runtime::WriteOp> {
    let cur = cx.locale(bot, DRAFT, locale).await?;
    let mut l = cur.value;
    if l.status != "Building" {
        l.status = "NotBuilt".into();
    }
    l.updated = cx.now();
    Ok(hearth_runtime::WriteOp::put(
        &cx.scope,
        store::locale_key(bot, DRAFT, locale),
        &l,
        hearth_runtime::Expect::Version(cur.version),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_ranges() {
        assert!(check_name("Bank_Bot-2", "botName").is_ok());
        for bad in ["", "_x", "a__b", "a b", "a_-b", &"x".repeat(101)] {
            assert!(check_name(bad, "botName").is_err(), "{bad}");
        }
        assert!(check_id("ABCDE12345", "botId").is_ok());
        assert!(check_id("abc", "botId").is_err());
        let e = check_range(10.0, 60.0, 86400.0, "idleSessionTTLInSeconds").unwrap_err();
        assert_eq!(e.to_aws().message, "1 validation error detected: Value '10' at 'idleSessionTTLInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60");
        assert!(check_range(0.4, 0.0, 1.0, "nluIntentConfidenceThreshold").is_ok());
    }

    #[test]
    fn pages_and_tokens() {
        let (p, next) = page((0..5).collect(), Some(2), None).unwrap();
        assert_eq!(p, [0, 1]);
        let (p, next) = page((0..5).collect(), Some(2), next.as_deref()).unwrap();
        assert_eq!(p, [2, 3]);
        let (p, next) = page((0..5).collect(), Some(2), next.as_deref()).unwrap();
        assert_eq!((p, next), (vec![4], None));
        assert!(page((0..5).collect::<Vec<_>>(), None, Some("junk")).is_err());
        assert!(page((0..5).collect::<Vec<_>>(), Some(0), None).is_err());
        assert!(filter_matches("BankBot", "CO", &["bank".into()]));
        assert!(!filter_matches("BankBot", "EQ", &["bank".into()]));
    }
}
