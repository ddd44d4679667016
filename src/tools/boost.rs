//! Gradient-boosted decision trees for a yes/no target (logistic loss), small enough to read:
//! each feature is cut into at most MAX_BINS bins at its quantiles once, and every tree is grown
//! level by level from per-bin sums of the loss's gradient and curvature. Deterministic: the same
//! rows in the same order give the same trees.

use crate::detector::{Node, FEATURE_COUNT};

/// Bins per feature: split points are chosen among at most this many quantiles.
const MAX_BINS: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub trees: usize,
    pub depth: usize,
    pub learning_rate: f32,
    /// L2 penalty on leaf values: keeps a leaf with few rows from a large score.
    pub lambda: f64,
    /// Least total curvature (weighted rows, roughly) a leaf may hold.
    pub min_leaf_weight: f64,
}

/// Many shallow trees: each split pair sees two features at most, so the model leans on broad
/// trends of the timeline rather than on the corners of the draws it was fit on (with 150 trees
/// of depth 3 it called 0.8% of the people in its training draws machines, 1.6% in draws it had
/// not seen; see docs/accuracy.md).
pub const DEFAULT_TREES: usize = 300;
pub const DEFAULT_DEPTH: usize = 2;

impl Default for Settings {
    fn default() -> Self {
        Settings { trees: DEFAULT_TREES, depth: DEFAULT_DEPTH, learning_rate: 0.1, lambda: 1.0, min_leaf_weight: 2.0 }
    }
}

/// One training row: the features (the decision model's unless said otherwise), the target
/// (true: machine, or beep) and the row's weight.
#[derive(Debug, Clone, Copy)]
pub struct Row<const N: usize = FEATURE_COUNT> {
    pub features: [f32; N],
    pub target: bool,
    pub weight: f64,
}

/// The trained ensemble: a base score and the trees, in the model file's form.
#[derive(Debug)]
pub struct Ensemble {
    pub base: f32,
    pub trees: Vec<Vec<Node>>,
}

/// Cut points of one feature: a value lies in bin `b` when it is at or above `cuts[b - 1]` and
/// under `cuts[b]`.
fn cut_points(mut values: Vec<f32>) -> Vec<f32> {
    values.sort_by(f32::total_cmp);
    values.dedup();
    if values.len() <= MAX_BINS {
        // Between every two distinct values.
        return values.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect();
    }
    let mut cuts: Vec<f32> = (1..MAX_BINS)
        .map(|i| {
            let at = i * values.len() / MAX_BINS;
            values[at - 1] + (values[at] - values[at - 1]) / 2.0
        })
        .collect();
    cuts.dedup();
    cuts
}

fn bin_of(cuts: &[f32], value: f32) -> u8 {
    cuts.partition_point(|&c| c <= value) as u8
}

/// A node being grown: its rows and where it sits in the tree's node list.
struct Open {
    rows: Vec<u32>,
    index: usize,
    depth: usize,
}

/// Trains on `rows`; `progress` is called after each tree.
pub fn train<const N: usize>(rows: &[Row<N>], settings: &Settings, progress: &mut dyn FnMut(usize)) -> Result<Ensemble, String> {
    if rows.is_empty() {
        return Err("no training rows".into());
    }
    let cuts: Vec<Vec<f32>> = (0..N).map(|f| cut_points(rows.iter().map(|r| r.features[f]).collect())).collect();
    let bins: Vec<[u8; N]> = rows
        .iter()
        .map(|r| std::array::from_fn(|f| bin_of(&cuts[f], r.features[f])))
        .collect();
    let total_weight: f64 = rows.iter().map(|r| r.weight).sum();
    let positive: f64 = rows.iter().filter(|r| r.target).map(|r| r.weight).sum();
    if positive <= 0.0 || positive >= total_weight {
        return Err("the training rows need both targets (yes and no)".into());
    }
    let prior = positive / total_weight;
    let base = (prior / (1.0 - prior)).ln();
    let mut scores = vec![base; rows.len()];
    let mut trees = Vec::with_capacity(settings.trees);
    let (mut grad, mut hess) = (vec![0.0f64; rows.len()], vec![0.0f64; rows.len()]);
    for t in 0..settings.trees {
        for (i, r) in rows.iter().enumerate() {
            let p = 1.0 / (1.0 + (-scores[i]).exp());
            grad[i] = r.weight * (p - f64::from(u8::from(r.target)));
            hess[i] = r.weight * (p * (1.0 - p)).max(1e-6);
        }
        let tree = grow(&bins, &cuts, &grad, &hess, settings);
        for (score, row) in scores.iter_mut().zip(rows) {
            *score += f64::from(leaf_value(&tree, &row.features));
        }
        trees.push(tree);
        progress(t + 1);
    }
    Ok(Ensemble { base: base as f32, trees })
}

/// The leaf a row leads to: the same walk the model's `score` does. A split's threshold is the
/// cut point between its bins, so the raw values go the way their bins went.
fn leaf_value(tree: &[Node], features: &[f32]) -> f32 {
    let mut i = 0;
    loop {
        match tree[i] {
            Node::Split { feature, threshold, left, right } => i = if features[feature] < threshold { left } else { right },
            Node::Leaf { value } => return value,
        }
    }
}

fn grow<const N: usize>(bins: &[[u8; N]], cuts: &[Vec<f32>], grad: &[f64], hess: &[f64], s: &Settings) -> Vec<Node> {
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut open = vec![Open { rows: (0..bins.len() as u32).collect(), index: 0, depth: 0 }];
    while let Some(node) = open.pop() {
        let (g, h) = node.rows.iter().fold((0.0, 0.0), |(g, h), &r| (g + grad[r as usize], h + hess[r as usize]));
        let leaf = Node::Leaf { value: (-g / (h + s.lambda)) as f32 * s.learning_rate };
        if node.depth >= s.depth {
            nodes[node.index] = leaf;
            continue;
        }
        match best_split(&node.rows, bins, grad, hess, g, h, s) {
            None => nodes[node.index] = leaf,
            Some((feature, bin)) => {
                let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = node.rows.iter().partition(|&&r| bins[r as usize][feature] < bin);
                let (left, right) = (nodes.len(), nodes.len() + 1);
                nodes.push(Node::Leaf { value: 0.0 });
                nodes.push(Node::Leaf { value: 0.0 });
                nodes[node.index] = Node::Split { feature, threshold: cuts[feature][bin as usize - 1], left, right };
                open.push(Open { rows: right_rows, index: right, depth: node.depth + 1 });
                open.push(Open { rows: left_rows, index: left, depth: node.depth + 1 });
            }
        }
    }
    nodes
}

/// The split of `rows` with the largest gain in the loss, as (feature, first bin on the right).
fn best_split<const N: usize>(rows: &[u32], bins: &[[u8; N]], grad: &[f64], hess: &[f64], g: f64, h: f64, s: &Settings) -> Option<(usize, u8)> {
    let mut hist = vec![[(0.0f64, 0.0f64); MAX_BINS + 1]; N];
    for &r in rows {
        let r = r as usize;
        for (f, &b) in bins[r].iter().enumerate() {
            let cell = &mut hist[f][b as usize];
            cell.0 += grad[r];
            cell.1 += hess[r];
        }
    }
    let parent = g * g / (h + s.lambda);
    let mut best: Option<(f64, usize, u8)> = None;
    for (f, cells) in hist.iter().enumerate() {
        let (mut gl, mut hl) = (0.0, 0.0);
        for b in 1..=MAX_BINS {
            gl += cells[b - 1].0;
            hl += cells[b - 1].1;
            let (gr, hr) = (g - gl, h - hl);
            if hl < s.min_leaf_weight || hr < s.min_leaf_weight {
                continue;
            }
            let gain = gl * gl / (hl + s.lambda) + gr * gr / (hr + s.lambda) - parent;
            if gain > 1e-9 && best.is_none_or(|(bg, _, _)| gain > bg) {
                best = Some((gain, f, b as u8));
            }
        }
    }
    best.map(|(_, f, b)| (f, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{DecisionModel, Policy};

    fn model(e: Ensemble) -> DecisionModel {
        DecisionModel::new(e.base, e.trees, Policy { machine_at: 0.9 }, serde_json::Value::Null).expect("a valid model")
    }

    /// A target that depends on two features (machine: long greeting, or many words) is learnt,
    /// and the trees score raw values as they did the binned ones.
    #[test]
    fn learns_a_two_feature_rule_and_scores_raw_values_the_same() {
        let mut rows = Vec::new();
        let mut x = 12345u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..4000 {
            let mut f = [0.0f32; FEATURE_COUNT];
            f[2] = (next() % 5000) as f32;
            f[4] = (next() % 12) as f32;
            f[9] = (next() % 100) as f32 / 100.0;
            rows.push(Row { features: f, target: f[2] >= 3000.0 || f[4] > 8.0, weight: 1.0 });
        }
        let e = train(&rows, &Settings::default(), &mut |_| {}).unwrap();
        let m = DecisionModel::from_json(&model(e).to_json()).expect("a valid model");
        let wrong = rows.iter().filter(|r| (m.machine_probability(&r.features) >= 0.5) != r.target).count();
        assert!(wrong * 100 < rows.len(), "{wrong} of {} wrong", rows.len());
        let mut long = [0.0f32; FEATURE_COUNT];
        long[2] = 4000.0;
        assert!(m.machine_probability(&long) > 0.9);
        long[2] = 1000.0;
        assert!(m.machine_probability(&long) < 0.1);
    }

    #[test]
    fn the_same_rows_give_the_same_trees() {
        let rows: Vec<Row> = (0..500)
            .map(|i| {
                let mut f = [0.0f32; FEATURE_COUNT];
                f[3] = i as f32;
                Row { features: f, target: i % 3 == 0 || i > 400, weight: 1.0 }
            })
            .collect();
        let a = train(&rows, &Settings::default(), &mut |_| {}).unwrap();
        let b = train(&rows, &Settings::default(), &mut |_| {}).unwrap();
        assert_eq!(a.trees, b.trees);
        assert_eq!(a.base, b.base);
    }

    #[test]
    fn one_target_only_is_refused() {
        let rows = vec![Row { features: [0.0; FEATURE_COUNT], target: true, weight: 1.0 }];
        assert!(train(&rows, &Settings::default(), &mut |_| {}).unwrap_err().contains("both targets"));
        assert!(train::<FEATURE_COUNT>(&[], &Settings::default(), &mut |_| {}).is_err());
    }
}
