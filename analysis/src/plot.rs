//! Plots: CDFs, time series and side-by-side bars, as SVG and PNG.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary, so plots
//! look the same on every machine and need no system font library; PNGs
//! are byte-identical across machines. Every plot has a title, labelled
//! axes with units and a legend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// A plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("plot {path}: {message}")]
pub struct PlotError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        // Registration fails only for a malformed font; the embedded one is
        // well-formed, and without it text would not render at all.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Colour of series `i` (a fixed palette that tells P2P from the data
/// center at a glance: blue first, red second).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

const SIZE: (u32, u32) = (900, 560);

/// Something that can draw itself on any backend.
trait Painter {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draw `p` into `<base>.svg` and `<base>.png`; returns both paths.
fn both(base: &Path, p: &impl Painter) -> Result<Vec<PathBuf>, PlotError> {
    register_font();
    let svg = base.with_extension("svg");
    let png = base.with_extension("png");
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&svg, e))?;
        p.paint(&root).map_err(|e| err(&svg, e))?;
        root.present().map_err(|e| err(&svg, e))?;
    }
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&png, e))?;
        p.paint(&root).map_err(|e| err(&png, e))?;
        root.present().map_err(|e| err(&png, e))?;
    }
    Ok(vec![svg, png])
}

/// One named series of values.
pub type Series = (String, Vec<f64>);

/// A named run of points with whiskers: (name, points `(x, y, half-width)`).
pub type Whiskers = (String, Vec<(f64, f64, f64)>);

/// A bar: its height and an optional 95 % interval.
pub type Bar = (f64, Option<(f64, f64)>);

/// A category of bars (one per system), with its label.
pub type BarGroup = (String, Vec<Bar>);

fn nice_range(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        return (lo - 0.5, lo + 0.5);
    }
    let pad = (hi - lo) * 0.03;
    (lo - pad, hi + pad)
}

fn extent(vals: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = vals
        .clone()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = vals
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// The empirical CDF of `values` as a step line, thinned to at most about
/// 2,000 points (at evenly spaced ranks) so that plots stay small.
pub fn cdf_points(values: &[f64]) -> Vec<(f64, f64)> {
    let mut s: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return Vec::new();
    }
    let step = n.div_ceil(1_000).max(1);
    let mut pts = Vec::with_capacity(2 * n / step + 2);
    let mut i = 0;
    while i < n {
        pts.push((s[i], i as f64 / n as f64));
        pts.push((s[i], (i + 1) as f64 / n as f64));
        i += step;
    }
    pts.push((s[n - 1], 1.0));
    pts
}

/// Empirical CDFs of each series, on one chart (y from 0 to 1), of
/// requests.
pub fn cdf(
    base: &Path,
    title: &str,
    x_label: &str,
    series: &[Series],
) -> Result<Vec<PathBuf>, PlotError> {
    cdf_labelled(base, title, x_label, "fraction of requests ≤ x", series)
}

/// Empirical CDFs like [`cdf`], of what `y_label` names (`fraction of
/// jobs ≤ x`).
pub fn cdf_labelled(
    base: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<Vec<PathBuf>, PlotError> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(n, v)| (n.clone(), cdf_points(v)))
        .collect();
    let (lo, hi) = extent(
        lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.0))
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let plot = Lines {
        title,
        x_label,
        y_label,
        xr: nice_range(lo.min(0.0), hi),
        yr: (0.0, 1.0),
        series: &lines,
        legend: SeriesLabelPosition::LowerRight,
    };
    both(base, &plot)
}

/// Time series (x in the given unit, y values), one line each.
pub fn lines(
    base: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<Vec<PathBuf>, PlotError> {
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .collect();
    let (x0, x1) = extent(xs.into_iter());
    let (y0, y1) = extent(ys.into_iter());
    let plot = Lines {
        title,
        x_label,
        y_label,
        xr: nice_range(x0, x1),
        yr: nice_range(y0.min(0.0), y1),
        series,
        legend: SeriesLabelPosition::UpperRight,
    };
    both(base, &plot)
}

/// Time series like [`lines`], the y axis spanning the values only (not
/// from zero): for a quantity that stays close to its maximum (objects
/// readable, in %).
pub fn lines_zoomed(
    base: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<Vec<PathBuf>, PlotError> {
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .collect();
    let (x0, x1) = extent(xs.into_iter());
    let (y0, y1) = extent(ys.into_iter());
    let plot = Lines {
        title,
        x_label,
        y_label,
        xr: nice_range(x0, x1),
        yr: nice_range(y0, y1),
        series,
        legend: SeriesLabelPosition::LowerRight,
    };
    both(base, &plot)
}

/// Side-by-side bars: for each category, one bar per system, with an
/// optional 95 % interval drawn as a whisker.
pub fn bars(
    base: &Path,
    title: &str,
    y_label: &str,
    systems: &[String],
    categories: &[BarGroup],
) -> Result<Vec<PathBuf>, PlotError> {
    let top = categories
        .iter()
        .flat_map(|(_, v)| v.iter().map(|(m, ci)| ci.map_or(*m, |c| c.1.max(*m))))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let plot = Bars {
        title,
        y_label,
        systems,
        categories,
        y1: if top > 0.0 { top * 1.15 } else { 1.0 },
    };
    both(base, &plot)
}

/// Measured points with whiskers against an expected curve: for a
/// reproduction case. `expected` is drawn as a line (black); each run of
/// `runs` (name, points `(x, y, half-width)`) as markers with a whisker of
/// ± its half-width, in the palette's colours.
pub fn agreement(
    base: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    expected: &[(f64, f64)],
    runs: &[Whiskers],
) -> Result<Vec<PathBuf>, PlotError> {
    labelled_agreement(base, title, x_label, y_label, "expected", expected, runs)
}

/// [`agreement`] with the line's legend label given (a bound, say).
pub fn labelled_agreement(
    base: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    line_label: &str,
    expected: &[(f64, f64)],
    runs: &[Whiskers],
) -> Result<Vec<PathBuf>, PlotError> {
    let xs = expected
        .iter()
        .map(|p| p.0)
        .chain(runs.iter().flat_map(|(_, v)| v.iter().map(|p| p.0)));
    // Whiskers count in the range up to 10 × the value's size (an
    // infinite half-width, from a failed estimate, is cut at the frame).
    let ys = expected
        .iter()
        .map(|p| p.1)
        .chain(runs.iter().flat_map(|(_, v)| {
            v.iter().flat_map(|p| {
                let h = p.2.min(p.1.abs() * 10.0 + 1.0);
                [p.1 - h, p.1 + h]
            })
        }));
    let (x0, x1) = extent(xs.collect::<Vec<_>>().into_iter());
    let (y0, y1) = extent(ys.collect::<Vec<_>>().into_iter());
    let plot = Agreement {
        title,
        x_label,
        y_label,
        xr: nice_range(x0, x1),
        yr: nice_range(y0, y1),
        line_label,
        expected,
        runs,
    };
    both(base, &plot)
}

struct Agreement<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    xr: (f64, f64),
    yr: (f64, f64),
    line_label: &'a str,
    expected: &'a [(f64, f64)],
    runs: &'a [Whiskers],
}

impl Painter for Agreement<'_> {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(self.xr.0..self.xr.1, self.yr.0..self.yr.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        if !self.expected.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    self.expected.iter().copied(),
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(self.line_label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(3))
                });
        }
        let (lo, hi) = self.yr;
        for (i, (name, pts)) in self.runs.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(pts.iter().map(|&(x, y, h)| {
                    PathElement::new(
                        vec![(x, (y - h).max(lo)), (x, (y + h).min(hi))],
                        c.stroke_width(2),
                    )
                }))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 12, y), 5, c.filled()));
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y, _)| Circle::new((x, y), 5, c.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

struct Lines<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    xr: (f64, f64),
    yr: (f64, f64),
    series: &'a [(String, Vec<(f64, f64)>)],
    legend: SeriesLabelPosition,
}

impl Painter for Lines<'_> {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_lines(area, self)
    }
}

struct Bars<'a> {
    title: &'a str,
    y_label: &'a str,
    systems: &'a [String],
    categories: &'a [BarGroup],
    y1: f64,
}

impl Painter for Bars<'_> {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_bars(area, self)
    }
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Lines<'_>,
) -> Result<(), String> {
    let (title, x_label, y_label, xr, yr, series) =
        (p.title, p.x_label, p.y_label, p.xr, p.yr, p.series);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 16))
        .position(p.legend.clone())
        .draw()
        .map_err(|e| e.to_string())
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Bars<'_>,
) -> Result<(), String> {
    let (title, y_label, systems, categories, y1) =
        (p.title, p.y_label, p.systems, p.categories, p.y1);
    let k = systems.len().max(1) as f64;
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n, 0.0..y1)
        .map_err(|e| e.to_string())?;
    let names: Vec<String> = categories.iter().map(|(c, _)| c.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(categories.len() * 2 + 1)
        .x_label_formatter(&|x: &f64| {
            let i = x.floor() as usize;
            let centre = (x - x.floor() - 0.5).abs() < 1e-9;
            if centre {
                names.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    let width = 0.8 / k;
    for (s, sys) in systems.iter().enumerate() {
        let c = color(s);
        let rects = categories.iter().enumerate().filter_map(|(i, (_, vals))| {
            let (m, _) = *vals.get(s)?;
            let x0 = i as f64 + 0.1 + s as f64 * width;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + width * 0.92, m.max(0.0))],
                c.filled(),
            ))
        });
        chart
            .draw_series(rects)
            .map_err(|e| e.to_string())?
            .label(sys.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        let whiskers = categories.iter().enumerate().filter_map(|(i, (_, vals))| {
            let (_, ci) = *vals.get(s)?;
            let (lo, hi) = ci?;
            let xm = i as f64 + 0.1 + s as f64 * width + width * 0.46;
            Some(PathElement::new(
                vec![(xm, lo.max(0.0)), (xm, hi)],
                BLACK.stroke_width(2),
            ))
        });
        chart.draw_series(whiskers).map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pc-plot-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn plots_are_written_and_reproducible() {
        let d = tmp("repro");
        let a: Vec<f64> = (0..5_000)
            .map(|i| ((i * 7919) % 5_000) as f64 / 40.0)
            .collect();
        let b: Vec<f64> = a.iter().map(|x| x * 0.6 + 20.0).collect();
        let series = vec![("P2P".to_string(), a), ("data center".to_string(), b)];
        let files = cdf(&d.join("cdf"), "Lookup latency", "latency (ms)", &series).unwrap();
        let first: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        cdf(&d.join("cdf"), "Lookup latency", "latency (ms)", &series).unwrap();
        for (f, bytes) in files.iter().zip(&first) {
            assert!(bytes.len() > 2_000, "{} is nearly empty", f.display());
            assert_eq!(&std::fs::read(f).unwrap(), bytes, "{} differs", f.display());
        }
        let svg = String::from_utf8(first[0].clone()).unwrap();
        assert!(
            svg.contains("Lookup latency") && svg.contains("latency (ms)") && svg.contains("P2P")
        );
        let systems = vec!["P2P".to_string(), "data center".to_string()];
        let cats = vec![
            (
                "latency (ms)".to_string(),
                vec![(120.0, Some((110.0, 130.0))), (60.0, Some((58.0, 62.0)))],
            ),
            ("success (%)".to_string(), vec![(97.0, None), (99.9, None)]),
        ];
        bars(&d.join("bars"), "Summary", "value", &systems, &cats).unwrap();
        let pts = vec![(
            "nodes up".to_string(),
            (0..100).map(|i| (i as f64, (i % 7) as f64)).collect(),
        )];
        lines(&d.join("ts"), "Nodes up", "time (h)", "nodes", &pts).unwrap();
        if std::env::var_os("PC_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn cdf_points_end_at_one_and_are_monotone() {
        let p = cdf_points(&[3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!(p.first(), Some(&(1.0, 0.0)));
        assert_eq!(p.last(), Some(&(3.0, 1.0)));
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert!(cdf_points(&[]).is_empty());
    }
}
