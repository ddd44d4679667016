//! Gradient-boosted decision trees as the detector scores them: the trees as a model file writes
//! them ([`Node`]), checked so that no file can make a walk run off its tree, and laid out for
//! scoring; and the model file around them ([`TreeModel`]): a format line, the names of the
//! features, a base score, the trees, a policy and notes. The decision model (model.rs) and the
//! beep model (beep_model.rs) are both such a file, each with its own features and policy.

use std::marker::PhantomData;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// One node of a tree: a split on a feature, or a leaf's score (log-odds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    /// Goes to `left` when the feature is below `threshold`, else to `right`.
    Split { feature: usize, threshold: f32, left: usize, right: usize },
    Leaf { value: f32 },
}

/// Nodes one tree may have: deep enough for any depth the trainers grow, and a bound on the
/// cost of one evaluation whatever file is loaded.
const MAX_NODES: usize = 1 << 10;
const MAX_TREES: usize = 2000;

/// A node as scoring reads it: every split's two children side by side, so the walk picks the
/// next node by arithmetic instead of a branch, and all trees in one array (one allocation,
/// read in order).
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

/// Checked trees, packed for scoring.
#[derive(Debug, Clone, Default)]
pub struct Forest {
    packed: Vec<Packed>,
    roots: Vec<u32>,
}

impl Forest {
    /// Checks `trees` over `feature_count` features (a clear reason for anything that could make
    /// a walk misbehave) and lays them out for scoring.
    pub fn new(trees: &[Vec<Node>], feature_count: usize) -> Result<Forest, String> {
        check(trees, feature_count)?;
        let mut forest = Forest::default();
        for tree in trees {
            let root = forest.packed.len();
            forest.roots.push(root as u32);
            forest.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
            let mut queue = std::collections::VecDeque::from([(0usize, root)]);
            while let Some((node, slot)) = queue.pop_front() {
                forest.packed[slot] = match tree[node] {
                    Node::Leaf { value } => Packed { value, feature: LEAF, left: 0 },
                    Node::Split { feature, threshold, left, right } => {
                        let children = forest.packed.len();
                        forest.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
                        forest.packed.push(Packed { value: 0.0, feature: LEAF, left: 0 });
                        queue.push_back((left, children));
                        queue.push_back((right, children + 1));
                        Packed { value: threshold, feature: feature as u16, left: children as u32 }
                    }
                };
            }
        }
        Ok(forest)
    }

    /// The trees' summed scores for `features` (as many as the forest was checked for).
    pub fn score(&self, features: &[f32]) -> f32 {
        let mut score = 0.0;
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
}

fn check(trees: &[Vec<Node>], feature_count: usize) -> Result<(), String> {
    if trees.len() > MAX_TREES {
        return Err(format!("{} trees, at most {MAX_TREES}", trees.len()));
    }
    for (t, tree) in trees.iter().enumerate() {
        if tree.is_empty() || tree.len() > MAX_NODES {
            return Err(format!("tree {t} has {} nodes (1 to {MAX_NODES})", tree.len()));
        }
        for (i, node) in tree.iter().enumerate() {
            let bad = match *node {
                // Children after their parent: every walk ends, and within the tree.
                Node::Split { feature, threshold, left, right } => {
                    feature >= feature_count || !threshold.is_finite() || left <= i || right <= i || left >= tree.len() || right >= tree.len()
                }
                Node::Leaf { value } => !value.is_finite(),
            };
            if bad {
                return Err(format!("tree {t}, node {i} is malformed: {node:?}"));
            }
        }
    }
    Ok(())
}

/// Where the feature called `name` sits in `names`, a model's list of its features. Used in
/// constants, so that code reading a figure by its place follows the list when it changes; a name
/// that is none of the features fails the build.
pub const fn feature_position(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        if same_name(names[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("no feature has this name");
}

const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// What makes one kind of model: its file's first line, the features its trees read (by name,
/// in order) and its policy.
pub trait ModelKind {
    /// What the model is, in error messages ("decision model").
    const NAME: &'static str;
    const FORMAT: &'static str;
    const FEATURES: &'static [&'static str];
    type Policy: std::fmt::Debug + Clone + PartialEq + Serialize + DeserializeOwned;
    /// A clear reason for a policy the model must not run with.
    fn check_policy(policy: &Self::Policy) -> Result<(), String>;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TreeModel<K: ModelKind> {
    pub format: String,
    /// The features the trees index, by name: they must be the kind's, in its order.
    pub features: Vec<String>,
    /// The score every tree adds to (log-odds).
    pub base: f32,
    pub trees: Vec<Vec<Node>>,
    pub policy: K::Policy,
    /// What the trainer measured, kept with the model for whoever reads it; not used to decide.
    #[serde(default)]
    pub notes: serde_json::Value,
    /// The trees laid out for scoring, built when the model is read.
    #[serde(skip)]
    forest: Forest,
    #[serde(skip)]
    kind: PhantomData<K>,
}

impl<K: ModelKind> PartialEq for TreeModel<K> {
    fn eq(&self, other: &Self) -> bool {
        // The forest follows from the trees.
        (&self.format, &self.features, self.base, &self.trees, &self.policy, &self.notes)
            == (&other.format, &other.features, other.base, &other.trees, &other.policy, &other.notes)
    }
}

impl<K: ModelKind> TreeModel<K> {
    /// Parses and checks a model: a clear reason for anything that could make it misbehave.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let mut model: Self = serde_json::from_str(text).map_err(|e| format!("not a {}: {e}", K::NAME))?;
        model.check_and_pack()?;
        Ok(model)
    }

    /// Builds a model from its parts (as a trainer does), checked as a file would be.
    pub fn new(base: f32, trees: Vec<Vec<Node>>, policy: K::Policy, notes: serde_json::Value) -> Result<Self, String> {
        let mut model = TreeModel {
            format: K::FORMAT.into(),
            features: K::FEATURES.iter().map(|s| s.to_string()).collect(),
            base,
            trees,
            policy,
            notes,
            forest: Forest::default(),
            kind: PhantomData,
        };
        model.check_and_pack()?;
        Ok(model)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model always serialises")
    }

    fn check_and_pack(&mut self) -> Result<(), String> {
        if self.format != K::FORMAT {
            return Err(format!("format is '{}', expected '{}'", self.format, K::FORMAT));
        }
        if self.features.len() != K::FEATURES.len() || self.features.iter().zip(K::FEATURES).any(|(a, b)| a != b) {
            return Err(format!("its features are [{}]; this build uses [{}]", self.features.join(", "), K::FEATURES.join(", ")));
        }
        if !self.base.is_finite() {
            return Err("base is not a finite number".into());
        }
        self.forest = Forest::new(&self.trees, K::FEATURES.len())?;
        K::check_policy(&self.policy)
    }

    /// The score (log-odds) for one set of features, in the kind's order (each kind's own
    /// methods take exactly as many).
    pub(crate) fn log_odds(&self, features: &[f32]) -> f32 {
        debug_assert_eq!(features.len(), K::FEATURES.len());
        self.base + self.forest.score(features)
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_is_found_by_its_whole_name() {
        const NAMES: [&str; 3] = ["words", "word", "wordy"];
        assert_eq!(feature_position(&NAMES, "words"), 0);
        assert_eq!(feature_position(&NAMES, "word"), 1);
        assert_eq!(feature_position(&NAMES, "wordy"), 2);
        assert!(!same_name("words", "word") && !same_name("words", "wordy"));
    }

    fn walk(trees: &[Vec<Node>], f: &[f32]) -> f32 {
        let mut score = 0.0;
        for tree in trees {
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
    }

    /// The packed walk gives what walking the trees as written gives, whatever their layout.
    #[test]
    fn packed_scoring_matches_the_trees_as_written() {
        let trees = vec![
            vec![Node::Split { feature: 0, threshold: 0.5, left: 1, right: 2 }, Node::Leaf { value: -2.0 }, Node::Leaf { value: 2.0 }],
            // A tree whose right child comes before its left one in the file.
            vec![
                Node::Split { feature: 1, threshold: 0.3, left: 3, right: 1 },
                Node::Split { feature: 2, threshold: 0.7, left: 2, right: 4 },
                Node::Leaf { value: 1.0 },
                Node::Leaf { value: -1.0 },
                Node::Leaf { value: 3.0 },
            ],
        ];
        let forest = Forest::new(&trees, 3).unwrap();
        let mut x = 7u32;
        for _ in 0..2000 {
            let f: [f32; 3] = std::array::from_fn(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 8) as f32 / 16_777_216.0
            });
            assert_eq!(forest.score(&f), walk(&trees, &f));
        }
    }

    #[test]
    fn malformed_trees_are_refused_with_the_reason() {
        let leaf = Node::Leaf { value: 0.0 };
        let refused = |tree: Vec<Node>, needle: &str| {
            let e = Forest::new(&[tree], 3).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        refused(vec![Node::Split { feature: 0, threshold: 1.0, left: 0, right: 2 }, leaf.clone(), leaf.clone()], "malformed");
        refused(vec![Node::Split { feature: 0, threshold: 1.0, left: 1, right: 9 }, leaf.clone(), leaf.clone()], "malformed");
        refused(vec![Node::Split { feature: 3, threshold: 1.0, left: 1, right: 2 }, leaf.clone(), leaf.clone()], "malformed");
        refused(vec![Node::Split { feature: 0, threshold: f32::NAN, left: 1, right: 2 }, leaf.clone(), leaf.clone()], "malformed");
        refused(vec![], "0 nodes");
        assert!(Forest::new(&vec![vec![leaf]; MAX_TREES + 1], 3).unwrap_err().contains("trees"));
    }
}
