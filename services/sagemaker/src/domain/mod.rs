//! SageMaker's logic without HTTP: resource naming, listing, validation, the built-in XGBoost
//! container's contract, the serving fleet and the training pipeline's pieces.

pub mod artifact;
pub mod container;
pub mod deployment;
pub mod fleet;
pub mod instance_types;
pub mod listing;
pub mod pickled;
pub mod training;
pub mod validate;

use hearth_runtime::Scope;

/// `arn:aws:sagemaker:<region>:<account>:<kind>/<name lower-cased>` (SageMaker lower-cases names in ARNs).
pub fn arn(scope: &Scope, kind: &str, name: &str) -> String {
    format!("arn:aws:sagemaker:{}:{}:{kind}/{}", scope.region, scope.account, name.to_ascii_lowercase())
}

/// Whether `image` names SageMaker's built-in XGBoost algorithm (any registry, any version:
/// `…/sagemaker-xgboost:1.0-1-cpu-py3`, `…/xgboost:1`).
pub fn is_xgboost_image(image: &str) -> bool {
    let repo = image.rsplit_once('/').map_or(image, |(_, r)| r);
    let repo = repo.split([':', '@']).next().unwrap_or(repo);
    repo.contains("xgboost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_images() {
        let s = Scope::new("123456789012", "us-east-1");
        assert_eq!(arn(&s, "model", "XGB-Model"), "arn:aws:sagemaker:us-east-1:123456789012:model/xgb-model");
        assert!(is_xgboost_image("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"));
        assert!(is_xgboost_image("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"));
        assert!(!is_xgboost_image("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.0"));
    }
}
