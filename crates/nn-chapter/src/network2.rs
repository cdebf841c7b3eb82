//! The book's own network2.py, run here over several seeds on the same data split as ours
//! (issue 28): its spread set beside the book's single run and ours, with an exact two-sample
//! permutation test of the two means and where the book's figure lies in network2.py's spread.
//!
//! network2.py's runs are `docs/records/network2.json`, written by
//! `scripts/network2-spread.py` (which needs the book's network2.py, not part of the
//! repository). The file is embedded at compile time, so that an installed `nn` or a Python
//! wheel carries the spread it was built with and needs no checkout; re-running the script and
//! rebuilding updates it. `scripts/network2-compare.py` reads the same file with our records
//! and makes the same comparison (its permutation test is this one).

use std::fmt::{self, Write as _};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::experiment::RunResult;

/// The summaries of network2.py's runs, as `scripts/network2-spread.py` writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct Network2Record {
    /// The SHA-256 of the network2.py that ran.
    pub network2_sha256: String,
    /// The Python that ran it.
    pub python: String,
    /// Its numpy.
    pub numpy: String,
    /// One entry per run of the chapter, over several seeds.
    pub runs: Vec<Network2Run>,
}

/// One run of the chapter trained by network2.py over several seeds.
#[derive(Debug, Clone, Deserialize)]
pub struct Network2Run {
    /// The experiment whose run it is.
    pub record: String,
    /// The run's label in that experiment.
    pub label: String,
    /// The seeds trained.
    pub seeds: Vec<u64>,
    /// The figures measured, named as [`crate::Metric::describe`] names ours.
    pub measures: Vec<Network2Measure>,
}

/// One figure of a network2.py run over its seeds.
#[derive(Debug, Clone, Deserialize)]
pub struct Network2Measure {
    /// What was measured.
    pub metric: String,
    /// The book's value.
    pub book: Option<f64>,
    /// network2.py's value for each seed.
    pub per_seed: Vec<f64>,
}

/// `docs/records/network2.json`, parsed once.
static RECORD: LazyLock<Network2Record> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../docs/records/network2.json"))
        .expect("docs/records/network2.json is network2.py's record (tests/network2.rs reads it)")
});

/// network2.py's runs on our data (`docs/records/network2.json`, embedded at compile time).
///
/// ```
/// let record = nn_chapter::network2_record();
/// assert!(record.runs.iter().any(|r| r.record == "cross-entropy" && r.label == "30 hidden"));
/// ```
pub fn record() -> &'static Network2Record {
    &RECORD
}

/// A figure over seeds: mean, range and number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The number of seeds.
    pub seeds: usize,
}

impl Spread {
    /// The spread of `values`; none for no values.
    ///
    /// ```
    /// let s = nn_chapter::Spread::of(&[95.58, 95.24, 95.30, 95.19]).unwrap();
    /// assert_eq!(s.to_string(), "95.33 (95.19-95.58, 4 seeds)");
    /// assert!(nn_chapter::Spread::of(&[]).is_none());
    /// ```
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        Some(Self {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            seeds: values.len(),
        })
    }
}

impl fmt::Display for Spread {
    /// `mean (min-max, n seeds)`, or `value (1 seed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seeds == 1 {
            write!(f, "{:.2} (1 seed)", self.mean)
        } else {
            write!(
                f,
                "{:.2} ({:.2}-{:.2}, {} seeds)",
                self.mean, self.min, self.max, self.seeds
            )
        }
    }
}

/// Where the book's single run lies among network2.py's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BookPosition {
    /// Above every one of network2.py's runs.
    AboveAll {
        /// network2.py's runs.
        of: usize,
    },
    /// Below every one.
    BelowAll {
        /// network2.py's runs.
        of: usize,
    },
    /// Among them: `below` of the `of` runs lie below it.
    Within {
        /// network2.py's runs below the book's figure.
        below: usize,
        /// network2.py's runs.
        of: usize,
    },
}

impl BookPosition {
    /// Where `book` lies among `values` (none without values).
    ///
    /// ```
    /// use nn_chapter::BookPosition;
    /// let runs = [95.58, 95.24, 95.30, 95.19];
    /// assert_eq!(BookPosition::of(95.49, &runs), Some(BookPosition::Within { below: 3, of: 4 }));
    /// assert_eq!(BookPosition::of(96.0, &runs).unwrap().to_string(), "above all 4");
    /// ```
    pub fn of(book: f64, values: &[f64]) -> Option<Self> {
        let of = values.len();
        let below = values.iter().filter(|&&v| v < book).count();
        let above = values.iter().filter(|&&v| v > book).count();
        match () {
            _ if of == 0 => None,
            _ if below == of => Some(Self::AboveAll { of }),
            _ if above == of => Some(Self::BelowAll { of }),
            _ => Some(Self::Within { below, of }),
        }
    }
}

impl fmt::Display for BookPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AboveAll { of } => write!(f, "above all {of}"),
            Self::BelowAll { of } => write!(f, "below all {of}"),
            Self::Within { below, of } => write!(f, "within ({below} of {of} below it)"),
        }
    }
}

/// Most splits [`permutation_p`] enumerates (C(20, 10) is 184,756).
const MOST_SPLITS: u64 = 2_000_000;

/// The exact two-sided permutation p-value of mean(a) − mean(b): the share of the ways of
/// splitting the pooled values into groups of the two sizes whose difference of means is at
/// least the observed one. None when a group has fewer than two values or there are more than
/// 2,000,000 splits. With n and m values the smallest possible p is 1 / C(n + m, n), or
/// 2 / C(2n, n) when n = m (the observed split and its mirror).
///
/// ```
/// // Interleaved samples: every split is as far apart as the observed one or farther.
/// assert_eq!(nn_chapter::permutation_p(&[1.0, 3.0], &[2.0, 2.0]), Some(1.0));
/// // Separated samples of three: only the observed split and its mirror are as far apart.
/// let p = nn_chapter::permutation_p(&[1.0, 1.1, 1.2], &[2.0, 2.1, 2.2]).unwrap();
/// assert!((p - 0.1).abs() < 1e-12);
/// ```
pub fn permutation_p(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 2 || b.len() < 2 || splits(a.len() + b.len(), a.len()) > MOST_SPLITS {
        return None;
    }
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let observed = (mean(a) - mean(b)).abs();
    let total: f64 = pooled.iter().sum();
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut hits, mut count) = (0u64, 0u64);
    // Every subset of `a.len()` positions, in lexicographic order.
    let mut group: Vec<usize> = (0..a.len()).collect();
    loop {
        let first: f64 = group.iter().map(|&i| pooled[i]).sum();
        let difference = (first / n - (total - first) / m).abs();
        hits += u64::from(difference >= observed - 1e-9);
        count += 1;
        let Some(i) = (0..group.len())
            .rev()
            .find(|&i| group[i] < pooled.len() - group.len() + i)
        else {
            break;
        };
        group[i] += 1;
        for j in i + 1..group.len() {
            group[j] = group[j - 1] + 1;
        }
    }
    Some(hits as f64 / count as f64)
}

/// C(n, k), saturating.
fn splits(n: usize, k: usize) -> u64 {
    (0..k.min(n - k)).fold(1u64, |c, i| {
        c.saturating_mul((n - i) as u64) / (i as u64 + 1)
    })
}

/// One of our figures beside the book's single run and network2.py's spread over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The run's label.
    pub label: String,
    /// What was measured.
    pub metric: String,
    /// The book's value.
    pub book: Option<f64>,
    /// network2.py's spread here.
    pub network2: Spread,
    /// Ours (none when the run reached no value).
    pub ours: Option<Spread>,
    /// Where the book's figure lies in network2.py's spread.
    pub book_position: Option<BookPosition>,
    /// The exact two-sided permutation p of the difference of the means of ours and
    /// network2.py's ([`permutation_p`]).
    pub permutation_p: Option<f64>,
}

/// Our runs of `experiment` beside network2.py's, for every run and figure network2.py was run
/// for.
pub fn compare(experiment: &str, runs: &[RunResult]) -> Vec<Comparison> {
    let mut comparisons = Vec::new();
    for theirs in record().runs.iter().filter(|r| r.record == experiment) {
        let Some(ours) = runs.iter().find(|r| r.label == theirs.label) else {
            continue;
        };
        for measure in &theirs.measures {
            let Some(network2) = Spread::of(&measure.per_seed) else {
                continue;
            };
            let Some(our_measure) = ours.measures.iter().find(|m| m.metric == measure.metric)
            else {
                continue;
            };
            let values: Vec<f64> = our_measure.per_seed.iter().flatten().copied().collect();
            comparisons.push(Comparison {
                label: theirs.label.clone(),
                metric: measure.metric.clone(),
                book: measure.book,
                network2,
                ours: Spread::of(&values),
                book_position: measure
                    .book
                    .and_then(|book| BookPosition::of(book, &measure.per_seed)),
                permutation_p: permutation_p(&measure.per_seed, &values),
            });
        }
    }
    comparisons
}

/// The comparisons as a Markdown table with its explanation, appended to `out`.
pub(crate) fn markdown(out: &mut String, comparisons: &[Comparison], quick: bool) {
    if comparisons.is_empty() {
        return;
    }
    let record = record();
    let _ = writeln!(
        out,
        "\nThe book's single run, network2.py's spread here and ours{}:\n",
        if quick {
            " (a quick run: ours are not comparable)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "| run | figure | book | network2.py here | ours | book in network2.py's spread | \
         permutation p |\n|---|---|---|---|---|---|---|"
    );
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    for c in comparisons {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.label,
            c.metric,
            dash(c.book.map(|b| b.to_string())),
            c.network2,
            dash(c.ours.map(|s| s.to_string())),
            dash(c.book_position.map(|p| p.to_string())),
            dash(c.permutation_p.map(|p| format!("{p:.2}")))
        );
    }
    let _ = writeln!(
        out,
        "\nnetwork2.py (sha256 {}, Python {}, numpy {}) trained on the same data split with the \
         seeds counted above. The book's figures are single runs; the permutation p is the exact \
         two-sided test of the difference of our mean and network2.py's over every split of the \
         pooled seeds (with n and m seeds the smallest possible p is 1 / C(n + m, n), and 0.1 \
         for 3 and 3), so a p near 1 says the two programs' runs are interleaved, and a small p with \
         few seeds is a finding to look into.",
        &record.network2_sha256[..12.min(record.network2_sha256.len())],
        record.python,
        record.numpy
    );
}
