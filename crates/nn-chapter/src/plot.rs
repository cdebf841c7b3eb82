//! Figures of a run, like the chapter's: cost per epoch and accuracy per epoch, each on the
//! training data against the evaluation data, as two panels of one PNG or SVG file.

use std::path::Path;

use nn_core::History;
use nn_core::atomic::write_bytes;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ChapterError;
use crate::figure::write_png;

/// What went wrong while drawing, in words.
type Result<T> = std::result::Result<T, String>;

/// Size of the figure in pixels.
const SIZE: (u32, u32) = (1200, 480);

/// The image format of a plot, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// A PNG bitmap.
    Png,
    /// An SVG drawing.
    Svg,
}

/// The format of `path`, or an error saying which extensions work.
fn check_path(path: &Path) -> std::result::Result<Format, ChapterError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(ChapterError::Figure {
            path: path.to_path_buf(),
            message: "use a file name ending in .png or .svg".into(),
        }),
    }
}

/// One line of a panel.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    colour: RGBColor,
}

fn plot_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws the cost and accuracy of every epoch of `history` into `path` (.png or .svg), naming
/// the evaluation data `evaluation_name`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let history = nn_core::History { epochs: Vec::new(), best_epoch: None, stopped: None };
/// nn_chapter::plot::history(&dir.path().join("run.svg"), &history, "validation")?;
/// assert!(std::fs::read_to_string(dir.path().join("run.svg"))?.contains("not monitored"));
/// assert!(nn_chapter::plot::history(&dir.path().join("run.gif"), &history, "test").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn history(
    path: &Path,
    history: &History,
    evaluation_name: &str,
) -> std::result::Result<(), ChapterError> {
    let series = |name: &str, colour, value: &dyn Fn(&nn_core::EpochRecord) -> Option<f64>| {
        let points: Vec<(f64, f64)> = history
            .epochs
            .iter()
            .filter_map(|r| value(r).map(|v| (r.epoch as f64, v)))
            .collect();
        (!points.is_empty()).then(|| Series {
            name: name.to_string(),
            points,
            colour,
        })
    };
    let evaluation_label = |what: &str| format!("{what} on the {evaluation_name} data");
    let cost: Vec<Series> = [
        series("cost on the training data", BLUE, &|r| r.training_cost),
        series(&evaluation_label("cost"), RED, &|r| r.evaluation_cost),
    ]
    .into_iter()
    .flatten()
    .collect();
    let percent = |v: Option<f64>| v.map(|a| 100.0 * a);
    let accuracy: Vec<Series> = [
        series("accuracy on the training data", BLUE, &|r| {
            percent(r.training_accuracy)
        }),
        series(&evaluation_label("accuracy"), RED, &|r| {
            percent(r.evaluation_accuracy)
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let epochs = history.epochs.len().max(1) as f64;
    match check_path(path)? {
        Format::Png => write_png(path, SIZE, |root| figure(root, epochs, &cost, &accuracy)),
        Format::Svg => {
            let mut svg = String::new();
            figure(
                SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(),
                epochs,
                &cost,
                &accuracy,
            )
            .map_err(|message| ChapterError::Figure {
                path: path.to_path_buf(),
                message,
            })?;
            write_bytes(path, svg.as_bytes()).map_err(|e| ChapterError::io("write", path, e))
        }
    }
}

/// The two panels, cost on the left and accuracy on the right.
fn figure<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    epochs: f64,
    cost: &[Series],
    accuracy: &[Series],
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    panel(&left, "Cost", "cost", epochs, cost)?;
    panel(&right, "Accuracy", "accuracy (%)", epochs, accuracy)?;
    root.present().map_err(plot_error)
}

/// One panel: the series against the epoch, with a legend; a note when nothing was monitored.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    epochs: f64,
    series: &[Series],
) -> Result<()> {
    let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (low, high) = if low.is_finite() {
        let pad = ((high - low) * 0.05).max(1e-3);
        (low - pad, high + pad)
    } else {
        (0.0, 1.0)
    };
    let caption = if series.is_empty() {
        format!("{title} (not monitored)")
    } else {
        title.to_string()
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..epochs + 0.5, low..high)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .draw()
        .map_err(plot_error)?;
    for s in series {
        let colour = s.colour;
        chart
            .draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    if !series.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(plot_error)?;
    }
    Ok(())
}
