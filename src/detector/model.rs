//! The learned decision: gradient-boosted decision trees over the call's timeline
//! (timeline.rs), giving the probability that the call is a machine. With `decision=model` a
//! timer's `machine` verdict stands only once that probability reaches the policy's
//! `machine_at`; every decision on the greeting's timing carries it as its confidence.
//!
//! A model is a JSON file (`amd train` writes one); one trained on generated calls is built in.
//! Reading one is parsing text only: the file itself is read by the module or the analyzer.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::detector::forest::{sigmoid, ModelKind, TreeModel};
use crate::detector::timeline::{FEATURE_COUNT, FEATURE_NAMES};

/// The first line of defence against a file that is not a model of ours.
pub const FORMAT: &str = "mod_rust_amd decision model 1";

/// The model built into the module, trained by `amd train` on generated calls (docs/reference.md,
/// "The learned decision", says how to make it again).
const BUILTIN: &str = include_str!("default_model.json");

/// When the probability decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// A timer's `machine` verdict stands once the probability reaches this.
    pub machine_at: f32,
}

/// The decision model's kind: the timeline's features, a threshold on P(machine).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionTrees;

impl ModelKind for DecisionTrees {
    const NAME: &'static str = "decision model";
    const FORMAT: &'static str = FORMAT;
    const FEATURES: &'static [&'static str] = &FEATURE_NAMES;
    type Policy = Policy;

    fn check_policy(policy: &Policy) -> Result<(), String> {
        if !(0.0..=1.0).contains(&policy.machine_at) {
            return Err(format!("policy: machine_at is {}, it must be from 0 to 1", policy.machine_at));
        }
        Ok(())
    }
}

/// The learned decision's model: trees over the timeline giving the log-odds of a machine.
/// Scoring runs every 100 ms of a call whose timers say `machine`.
pub type DecisionModel = TreeModel<DecisionTrees>;

impl TreeModel<DecisionTrees> {
    /// The built-in model, parsed once.
    pub fn builtin() -> Arc<DecisionModel> {
        static MODEL: OnceLock<Arc<DecisionModel>> = OnceLock::new();
        MODEL.get_or_init(|| Arc::new(DecisionModel::from_json(BUILTIN).expect("the built-in model is checked by its tests"))).clone()
    }

    /// The score (log-odds of a machine) for one point of the timeline.
    pub fn score(&self, features: &[f32; FEATURE_COUNT]) -> f32 {
        self.log_odds(features)
    }

    /// The probability that the call is a machine, given its timeline so far.
    pub fn machine_probability(&self, features: &[f32; FEATURE_COUNT]) -> f32 {
        sigmoid(self.score(features))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::forest::Node;

    fn tiny() -> DecisionModel {
        let trees = vec![vec![
            Node::Split { feature: 2, threshold: 3000.0, left: 1, right: 2 },
            Node::Leaf { value: -2.0 },
            Node::Leaf { value: 2.0 },
        ]];
        DecisionModel::new(0.0, trees, Policy { machine_at: 0.8 }, serde_json::Value::Null).unwrap()
    }

    #[test]
    fn a_tree_walks_to_its_leaf() {
        let m = tiny();
        let mut f = [0.0; FEATURE_COUNT];
        f[2] = 2999.0;
        assert_eq!(m.score(&f), -2.0);
        f[2] = 3000.0;
        assert_eq!(m.score(&f), 2.0);
        assert!((m.machine_probability(&f) - 0.880_797).abs() < 1e-5);
    }

    #[test]
    fn a_model_round_trips_through_json() {
        let m = tiny();
        assert_eq!(DecisionModel::from_json(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn malformed_models_are_refused_with_the_reason() {
        let refused = |edit: &dyn Fn(&mut DecisionModel), needle: &str| {
            let mut m = tiny();
            edit(&mut m);
            let e = DecisionModel::from_json(&m.to_json()).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        refused(&|m| m.format = "other".into(), "format");
        refused(&|m| m.features.swap(0, 1), "features");
        refused(&|m| m.trees[0][0] = Node::Split { feature: 2, threshold: 1.0, left: 0, right: 2 }, "malformed");
        refused(&|m| m.trees[0][0] = Node::Split { feature: 2, threshold: 1.0, left: 1, right: 9 }, "malformed");
        refused(&|m| m.trees[0][0] = Node::Split { feature: FEATURE_COUNT, threshold: 1.0, left: 1, right: 2 }, "malformed");
        refused(&|m| m.trees[0].clear(), "0 nodes");
        refused(&|m| m.policy.machine_at = 1.5, "policy");
        assert!(DecisionModel::from_json("{").unwrap_err().contains("not a decision model"));
        assert!(DecisionModel::from_json("[]").is_err());
    }

    #[test]
    fn the_builtin_model_loads() {
        let m = DecisionModel::builtin();
        assert!(!m.trees.is_empty());
    }
}
