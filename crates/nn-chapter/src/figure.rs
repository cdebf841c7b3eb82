//! The figures of the reproductions: several runs' curves per epoch in one panel, or a measure
//! against the training-set size, as PNG files.

use std::path::Path;

use std::io::Cursor;

use image::RgbImage;
use nn_core::EpochRecord;
use nn_core::atomic::write_bytes;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ChapterError;
use crate::experiment::{Curve, FigureSpec, RunResult};

/// What went wrong while drawing, in words.
type Drawn = Result<(), String>;

/// Size of a figure in pixels.
const SIZE: (u32, u32) = (900, 560);

/// Colours of successive lines.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// One line of a figure.
struct Line {
    name: String,
    points: Vec<(f64, f64)>,
}

fn plot_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The value of `curve` in one epoch's record.
fn value(curve: Curve, record: &EpochRecord) -> Option<f64> {
    let percent = |v: Option<f64>| v.map(|a| 100.0 * a);
    match curve {
        Curve::TrainingCost => record.training_cost,
        Curve::EvaluationCost => record.evaluation_cost,
        Curve::TrainingAccuracy => percent(record.training_accuracy),
        Curve::EvaluationAccuracy | Curve::EvaluationAccuracyAgainstTime => {
            percent(record.evaluation_accuracy)
        }
        Curve::MeasureAgainstX => None,
    }
}

/// The label of the y axis of `curve`.
fn y_label(curve: Curve) -> &'static str {
    match curve {
        Curve::TrainingCost => "cost on the training data",
        Curve::EvaluationCost => "cost on the evaluation data",
        Curve::TrainingAccuracy => "accuracy on the training data (%)",
        Curve::EvaluationAccuracy | Curve::EvaluationAccuracyAgainstTime => {
            "accuracy on the evaluation data (%)"
        }
        Curve::MeasureAgainstX => "accuracy (%)",
    }
}

/// Draws the figure `spec` from the results of an experiment's runs.
pub(crate) fn draw_runs(
    path: &Path,
    spec: &FigureSpec,
    results: &[RunResult],
) -> Result<(), ChapterError> {
    let chosen: Vec<&RunResult> = results
        .iter()
        .filter(|r| spec.runs.is_empty() || spec.runs.contains(&r.label.as_str()))
        .collect();
    let lines: Vec<Line> = if spec.curve == Curve::MeasureAgainstX {
        // Ours, and the book's figures where it gives them, one line per series.
        let mut series: Vec<Line> = Vec::new();
        for r in &chosen {
            let (Some(x), Some(first)) = (r.x, r.measures.first()) else {
                continue;
            };
            let points = [
                (r.series.clone(), first.ours),
                (format!("book: {}", r.series), first.book),
            ];
            for (name, y) in points {
                let Some(y) = y else { continue };
                match series.iter_mut().find(|l| l.name == name) {
                    Some(line) => line.points.push((x, y)),
                    None => series.push(Line {
                        name,
                        points: vec![(x, y)],
                    }),
                }
            }
        }
        for line in &mut series {
            line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        series
    } else {
        let against_time = spec.curve == Curve::EvaluationAccuracyAgainstTime;
        chosen
            .iter()
            .map(|r| {
                let mut seconds = 0.0;
                Line {
                    name: r.label.clone(),
                    points: r
                        .history
                        .iter()
                        .filter_map(|e| {
                            seconds += e.seconds;
                            let x = if against_time {
                                seconds
                            } else {
                                e.epoch as f64
                            };
                            value(spec.curve, e).map(|v| (x, v))
                        })
                        .filter(|p| p.1.is_finite())
                        .collect(),
                }
            })
            .filter(|l| !l.points.is_empty())
            .collect()
    };
    let x_label = match spec.curve {
        Curve::MeasureAgainstX => spec.x_label,
        Curve::EvaluationAccuracyAgainstTime => "training seconds",
        _ => "epoch",
    };
    draw(
        path,
        spec.title,
        x_label,
        y_label(spec.curve),
        spec.log_x,
        &lines,
    )
}

/// Draws the training cost of each run against the epoch (the single-neuron figure).
pub(crate) fn draw_cost_curves(
    path: &Path,
    title: &str,
    results: &[RunResult],
) -> Result<(), ChapterError> {
    let lines: Vec<Line> = results
        .iter()
        .map(|r| Line {
            name: r.label.clone(),
            points: r
                .history
                .iter()
                .filter_map(|e| e.training_cost.map(|c| (e.epoch as f64, c)))
                .collect(),
        })
        .collect();
    draw(path, title, "epoch", "cost", false, &lines)
}

/// Draws `lines` into a PNG file.
fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    log_x: bool,
    lines: &[Line],
) -> Result<(), ChapterError> {
    let points = lines.iter().flat_map(|l| l.points.iter());
    let (x0, x1, y0, y1) = points.fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(x0, x1, y0, y1), &(x, y)| (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
    );
    let (x0, x1, y0, y1) = if x0.is_finite() {
        let pad = ((y1 - y0) * 0.05).max(1e-3);
        (x0, x1.max(x0 + 1.0), y0 - pad, y1 + pad)
    } else {
        (0.0, 1.0, 0.0, 1.0)
    };
    write_png(path, SIZE, |root| {
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64);
        if log_x {
            let mut chart = builder
                .build_cartesian_2d((x0.max(1e-9)..x1).log_scale(), y0..y1)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()
                .map_err(plot_error)?;
            for (i, line) in lines.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                chart
                    .draw_series(LineSeries::new(line.points.clone(), colour.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(line.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
                chart
                    .draw_series(
                        line.points
                            .iter()
                            .map(|&p| Circle::new(p, 3, colour.filled())),
                    )
                    .map_err(plot_error)?;
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        } else {
            let mut chart = builder
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()
                .map_err(plot_error)?;
            for (i, line) in lines.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                chart
                    .draw_series(LineSeries::new(line.points.clone(), colour.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(line.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        root.present().map_err(plot_error)
    })
}

/// Draws a PNG of `size` pixels with `draw` in memory, then writes it to `path` atomically.
///
/// ```
/// use plotters::prelude::*;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("white.png");
/// nn_chapter::write_png(&path, (20, 10), |root| {
///     root.fill(&WHITE).map_err(|e| e.to_string())
/// })?;
/// assert!(std::fs::read(&path)?.starts_with(b"\x89PNG"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), ChapterError> {
    let failed = |message: String| ChapterError::Figure {
        path: path.to_path_buf(),
        message,
    };
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    draw(BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area()).map_err(failed)?;
    let image = RgbImage::from_raw(size.0, size.1, pixels).expect("a buffer of the image's size");
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| failed(e.to_string()))?;
    write_bytes(path, &png).map_err(|e| ChapterError::io("write", path, e))
}

/// The legend of a chart at `position` (accuracy against data size rises to the upper right,
/// so its legend goes below).
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(plot_error)
}
