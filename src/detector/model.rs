//! The learned decision: gradient-boosted decision trees over the call's timeline
//! (timeline.rs), giving the probability that the call is a machine. With `decision=model` a
//! timer's `machine` verdict stands only once that probability reaches the policy's
//! `machine_at`; every decision on the greeting's timing carries it as its confidence.
//!
//! A model is a JSON file (`amd train` writes one); one trained on generated calls is built in.
//! Reading one is parsing text only: the file itself is read by the module or the analyzer.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::detector::timeline::{FEATURE_COUNT, FEATURE_NAMES};

/// The first line of defence against a file that is not a model of ours.
pub const FORMAT: &str = "mod_rust_amd decision model 1";

/// The model built into the module, trained by `amd train` on generated calls (docs/reference.md,
/// "The learned decision", says how to make it again).
const BUILTIN: &str = include_str!("default_model.json");

/// One node of a tree: a split on a feature, or a leaf's score (log-odds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    /// Goes to `left` when the feature is below `threshold`, else to `right`.
    Split { feature: usize, threshold: f32, left: usize, right: usize },
    Leaf { value: f32 },
}

/// When the probability decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// A timer's `machine` verdict stands once the probability reaches this.
    pub machine_at: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionModel {
    pub format: String,
    /// The features the trees index, by name: they must be [`FEATURE_NAMES`], in that order.
    pub features: Vec<String>,
    /// The score every tree adds to (log-odds of a machine).
    pub base: f32,
    pub trees: Vec<Vec<Node>>,
    pub policy: Policy,
    /// What `amd train` measured, kept with the model for whoever reads it; not used to decide.
    #[serde(default)]
    pub notes: serde_json::Value,
    /// The trees laid out for scoring (see [`Packed`]), built when the model is read.
    #[serde(skip)]
    packed: Vec<Packed>,
    #[serde(skip)]
    roots: Vec<u32>,
}

impl PartialEq for DecisionModel {
    fn eq(&self, other: &Self) -> bool {
        // The packed form follows from the trees.
        (&self.format, &self.features, self.base, &self.trees, &self.policy, &self.notes)
            == (&other.format, &other.features, other.base, &other.trees, &other.policy, &other.notes)
    }
}

/// A node as scoring reads it: every split's two children side by side, so the walk picks the
/// next node by arithmetic instead of a branch, and all trees in one array (one allocation,
/// read in order). Scoring runs every 100 ms of a call whose timers say `machine`.
#[derive(Debug, Clone, Copy)]
struct Packed {
    /// A split's threshold, or a leaf's value.
    value: f32,
    /// The feature a split reads; LEAF for a leaf.
    feature: u16,
    /// A split's left child; the right one is next to it.
    left: u32,
}

const LEAF: u16 = u16::MAX;

/// Nodes one tree may have: deep enough for any depth `amd train` grows, and a bound on the
/// cost of one evaluation whatever file is loaded.
const MAX_NODES: usize = 1 << 10;
const MAX_TREES: usize = 2000;

impl DecisionModel {
    /// Parses and checks a model: a clear reason for anything that could make it misbehave.
    pub fn from_json(text: &str) -> Result<DecisionModel, String> {
        let mut model: DecisionModel = serde_json::from_str(text).map_err(|e| format!("not a decision model: {e}"))?;
        model.check()?;
        model.pack();
        Ok(model)
    }

    /// Builds a model from its parts (as `amd train` does), checked as a file would be.
    pub fn new(base: f32, trees: Vec<Vec<Node>>, policy: Policy, notes: serde_json::Value) -> Result<DecisionModel, String> {
        let mut model = DecisionModel {
            format: FORMAT.into(),
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            base,
            trees,
            policy,
            notes,
            packed: Vec::new(),
            roots: Vec::new(),
        };
        model.check()?;
        model.pack();
        Ok(model)
    }

    /// Lays the checked trees out as [`Packed`] nodes, children side by side.
    fn pack(&mut self) {
        self.packed.clear();
        self.roots.clear();
        for tree in &self.trees {
            let root = self.packed.len();
            self.roots.push(root as u32);
            self.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
            let mut queue = std::collections::VecDeque::from([(0usize, root)]);
            while let Some((node, slot)) = queue.pop_front() {
                self.packed[slot] = match tree[node] {
                    Node::Leaf { value } => Packed { value, feature: LEAF, left: 0 },
                    Node::Split { feature, threshold, left, right } => {
                        let children = self.packed.len();
                        self.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
                        self.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
                        queue.push_back((left, children));
                        queue.push_back((right, children + 1));
                        Packed { value: threshold, feature: feature as u16, left: children as u32 }
                    }
                };
            }
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model always serialises")
    }

    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format is '{}', expected '{FORMAT}'", self.format));
        }
        if self.features.len() != FEATURE_COUNT || self.features.iter().zip(FEATURE_NAMES).any(|(a, b)| a != b) {
            return Err(format!("its features are [{}]; this build uses [{}]", self.features.join(", "), FEATURE_NAMES.join(", ")));
        }
        if !self.base.is_finite() {
            return Err("base is not a finite number".into());
        }
        if self.trees.len() > MAX_TREES {
            return Err(format!("{} trees, at most {MAX_TREES}", self.trees.len()));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.is_empty() || tree.len() > MAX_NODES {
                return Err(format!("tree {t} has {} nodes (1 to {MAX_NODES})", tree.len()));
            }
            for (i, node) in tree.iter().enumerate() {
                let bad = match *node {
                    // Children after their parent: every walk ends, and within the tree.
                    Node::Split { feature, threshold, left, right } => {
                        feature >= FEATURE_COUNT || !threshold.is_finite() || left <= i || right <= i || left >= tree.len() || right >= tree.len()
                    }
                    Node::Leaf { value } => !value.is_finite(),
                };
                if bad {
                    return Err(format!("tree {t}, node {i} is malformed: {node:?}"));
                }
            }
        }
        if !(0.0..=1.0).contains(&self.policy.machine_at) {
            return Err(format!("policy: machine_at is {}, it must be from 0 to 1", self.policy.machine_at));
        }
        Ok(())
    }

    /// The built-in model, parsed once.
    pub fn builtin() -> Arc<DecisionModel> {
        static MODEL: OnceLock<Arc<DecisionModel>> = OnceLock::new();
        MODEL.get_or_init(|| Arc::new(DecisionModel::from_json(BUILTIN).expect("the built-in model is checked by its tests"))).clone()
    }

    /// The score (log-odds of a machine) for one point of the timeline.
    pub fn score(&self, features: &[f32; FEATURE_COUNT]) -> f32 {
        let mut score = self.base;
        for &root in &self.roots {
            let mut node = self.packed[root as usize];
            while node.feature != LEAF {
                // Below the threshold: left; at or above it: the right child, next to it.
                let right = features[usize::from(node.feature)] >= node.value;
                node = self.packed[node.left as usize + usize::from(right)];
            }
            score += node.value;
        }
        score
    }

    /// The probability that the call is a machine, given its timeline so far.
    pub fn machine_probability(&self, features: &[f32; FEATURE_COUNT]) -> f32 {
        sigmoid(self.score(features))
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> DecisionModel {
        let trees = vec![vec![
            Node::Split { feature: 2, threshold: 3000.0, left: 1, right: 2 },
            Node::Leaf { value: -2.0 },
            Node::Leaf { value: 2.0 },
        ]];
        DecisionModel::new(0.0, trees, Policy { machine_at: 0.8 }, serde_json::Value::Null).unwrap()
    }

    /// The packed walk gives what walking the trees as written gives, whatever their layout.
    #[test]
    fn packed_scoring_matches_the_trees_as_written() {
        let walk = |m: &DecisionModel, f: &[f32; FEATURE_COUNT]| {
            let mut score = m.base;
            for tree in &m.trees {
                let mut i = 0;
                loop {
                    match tree[i] {
                        Node::Split { feature, threshold, left, right } => i = if f[feature] < threshold { left } else { right },
                        Node::Leaf { value } => {
                            score += value;
                            break;
                        }
                    }
                }
            }
            score
        };
        let builtin = DecisionModel::builtin();
        // A tree whose right child comes before its left one in the file.
        let odd = vec![
            Node::Split { feature: 3, threshold: 500.0, left: 3, right: 1 },
            Node::Split { feature: 4, threshold: 2.0, left: 2, right: 4 },
            Node::Leaf { value: 1.0 },
            Node::Leaf { value: -1.0 },
            Node::Leaf { value: 3.0 },
        ];
        let mut trees = builtin.trees.clone();
        trees.push(odd);
        let m = DecisionModel::new(builtin.base, trees, builtin.policy.clone(), serde_json::Value::Null).unwrap();
        let mut x = 7u32;
        for _ in 0..2000 {
            let f: [f32; FEATURE_COUNT] = std::array::from_fn(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 8) as f32 / 4096.0
            });
            assert_eq!(m.score(&f), walk(&m, &f));
        }
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
