//! The `run --plot` figure: an SVG with the time series a migration
//! monitor watches (remaining bytes; throughput against dirty rate; the
//! auto-converge throttle when there was one) above the per-device
//! breakdown of the switchover save times.
//!
//! Plotters' SVG backend writes text as `<text>` elements and only
//! estimates text extents, so no font files or C libraries are needed.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{CliError, DeviceTime};

/// One sample of the source's `query-migrate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Simulated time, s.
    pub time_s: f64,
    /// System-wide `remaining` (RAM plus device state), bytes.
    pub remaining: f64,
    /// `ram.remaining`, bytes.
    pub ram_remaining: f64,
    /// `ram.mbps`, Mbit/s.
    pub mbps: f64,
    /// `ram.dirty-pages-rate` × page size, in Mbit/s.
    pub dirty_mbps: f64,
    /// `cpu-throttle-percentage` (0 when absent).
    pub throttle: i64,
    /// `status`.
    pub status: String,
}

/// Everything the figure shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotData {
    /// Figure title.
    pub title: String,
    /// The time series, in time order.
    pub samples: Vec<Sample>,
    /// `device-state-times`, most expensive first.
    pub devices: Vec<DeviceTime>,
    /// When the source stopped the VM for the switchover, s.
    pub switchover_s: Option<f64>,
    /// `downtime`, ms.
    pub downtime_ms: Option<i64>,
    /// `total-time`, ms.
    pub total_time_ms: Option<i64>,
}

/// Bars drawn individually; the rest are summed into one "others" bar.
const MAX_BARS: usize = 24;
/// Where the bars start on the logarithmic axis (the smallest save time
/// QEMU reports is 1 µs).
const BAR_ORIGIN: f64 = 0.5;
const WIDTH: u32 = 1200;
const FONT: &str = "sans-serif";

const REMAINING: RGBColor = RGBColor(31, 119, 180);
const RAM: RGBColor = RGBColor(255, 127, 14);
const THROUGHPUT: RGBColor = RGBColor(44, 160, 44);
const DIRTY: RGBColor = RGBColor(214, 39, 40);
const THROTTLE: RGBColor = RGBColor(148, 103, 189);
const SWITCHOVER: RGBColor = RGBColor(90, 90, 90);
const BAR: RGBColor = RGBColor(31, 119, 180);

/// Write the figure to `path`.
pub fn render(path: &Path, data: &PlotData) -> Result<(), CliError> {
    draw(path, data).map_err(|e| CliError::Plot { path: path.to_path_buf(), message: e.to_string() })
}

/// A byte unit that keeps the axis numbers between 1 and 1024.
fn byte_unit(max: f64) -> (f64, &'static str) {
    const UNITS: [(f64, &str); 5] =
        [(1099511627776.0, "TiB"), (1073741824.0, "GiB"), (1048576.0, "MiB"), (1024.0, "KiB"), (1.0, "bytes")];
    UNITS.iter().copied().find(|(div, _)| max >= *div).unwrap_or((1.0, "bytes"))
}

/// Axis labels without trailing zeros ("2", "2.5", not "2.000").
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(path: &Path, data: &PlotData) -> DrawResult {
    let throttled = data.samples.iter().any(|s| s.throttle > 0);
    let bars = data.devices.len().min(MAX_BARS + 1);
    let series_h = 340u32;
    let throttle_h = if throttled { 220 } else { 0 };
    let bars_h = if data.devices.is_empty() { 0 } else { 110 + 22 * bars.max(1) as u32 };
    let height = 50 + 2 * series_h + throttle_h + bars_h;

    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&data.title, (FONT, 26))?;
    let (remaining_area, rest) = root.split_vertically(series_h);
    let (rates_area, rest) = rest.split_vertically(series_h);
    let (throttle_area, bars_area) = rest.split_vertically(throttle_h);

    // A little room right of the last sample, so that the switchover line
    // (often just before the end) does not merge with the plot's border.
    let t_max = data.samples.last().map_or(1.0, |s| s.time_s).max(1e-3) * 1.03;
    draw_remaining(&remaining_area, data, t_max)?;
    draw_rates(&rates_area, data, t_max)?;
    if throttled {
        draw_throttle(&throttle_area, data, t_max)?;
    }
    if !data.devices.is_empty() {
        draw_devices(&bars_area, data)?;
    }
    root.present()?;
    Ok(())
}

/// A time panel's chart: simulated seconds on x, `y_desc` from 0 to
/// `y_max` on y with `y_labels` labels, and the mesh every panel shares.
fn time_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    t_max: f64,
    y_max: f64,
    y_labels: usize,
    y_format: &dyn Fn(&f64) -> String,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    Box<dyn std::error::Error>,
>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_max, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("simulated time (s)")
        .y_desc(y_desc)
        .y_labels(y_labels)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(y_format)
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(chart)
}

/// The legend box of a time panel.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    position: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 16))
        .draw()?;
    Ok(())
}

fn switchover_line<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    data: &PlotData,
    y_max: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if let Some(t) = data.switchover_s {
        let label = match data.downtime_ms {
            Some(d) => format!("switchover: VM stopped (downtime {d} ms)"),
            None => "switchover: VM stopped".to_string(),
        };
        chart
            .draw_series(DashedLineSeries::new(vec![(t, 0.0), (t, y_max)], 6, 4, SWITCHOVER.stroke_width(2)))?
            .label(label)
            .legend(legend_line(SWITCHOVER));
    }
    Ok(())
}

fn draw_remaining<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    data: &PlotData,
    t_max: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max = data.samples.iter().map(|s| s.remaining.max(s.ram_remaining)).fold(0.0, f64::max);
    let (div, unit) = byte_unit(max);
    // Headroom keeps the legend (upper right) off a curve that stays high.
    let y_max = (max / div * 1.4).max(1e-3);
    let y_desc = format!("remaining ({unit})");
    let mut chart = time_chart(area, "Remaining to send", &y_desc, t_max, y_max, 11, &|v| tick(*v))?;
    chart
        .draw_series(LineSeries::new(
            data.samples.iter().map(|s| (s.time_s, s.remaining / div)),
            REMAINING.stroke_width(3),
        ))?
        .label("system-wide remaining (RAM + device state)")
        .legend(legend_line(REMAINING));
    // Dashed on top of the solid line: where device state is negligible the
    // two coincide and both stay visible.
    chart
        .draw_series(DashedLineSeries::new(
            data.samples.iter().map(|s| (s.time_s, s.ram_remaining / div)),
            8,
            6,
            RAM.stroke_width(2),
        ))?
        .label("RAM remaining (ram.remaining)")
        .legend(legend_line(RAM));
    switchover_line(&mut chart, data, y_max)?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn draw_rates<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    data: &PlotData,
    t_max: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let max = data.samples.iter().map(|s| s.mbps.max(s.dirty_mbps)).fold(0.0, f64::max);
    // Headroom above the highest rate keeps the legend off the lines.
    let y_max = (max * 1.6).max(1.0);
    let mut chart = time_chart(area, "Throughput and dirty rate", "Mbit/s", t_max, y_max, 11, &|v| format!("{v:.0}"))?;
    chart
        .draw_series(LineSeries::new(data.samples.iter().map(|s| (s.time_s, s.mbps)), THROUGHPUT.stroke_width(3)))?
        .label("throughput (ram.mbps)")
        .legend(legend_line(THROUGHPUT));
    chart
        .draw_series(LineSeries::new(data.samples.iter().map(|s| (s.time_s, s.dirty_mbps)), DIRTY.stroke_width(2)))?
        .label("dirty rate (ram.dirty-pages-rate × page size; set at each dirty sync)")
        .legend(legend_line(DIRTY));
    switchover_line(&mut chart, data, y_max)?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn draw_throttle<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    data: &PlotData,
    t_max: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut chart = time_chart(area, "Auto-converge", "CPU throttle (%)", t_max, 100.0, 6, &|v| format!("{v:.0}"))?;
    chart
        .draw_series(LineSeries::new(
            data.samples.iter().map(|s| (s.time_s, s.throttle as f64)),
            THROTTLE.stroke_width(3),
        ))?
        .label("cpu-throttle-percentage")
        .legend(legend_line(THROTTLE));
    switchover_line(&mut chart, data, 100.0)?;
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

fn device_label(d: &DeviceTime, devices: &[DeviceTime]) -> String {
    // Instance ids matter only where a section name repeats (per-vCPU
    // state, the two i8259s).
    if devices.iter().filter(|o| o.name == d.name).count() > 1 {
        format!("{} #{}", d.name, d.instance_id)
    } else {
        d.name.clone()
    }
}

fn draw_devices<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, data: &PlotData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let all = &data.devices;
    let mut bars: Vec<(String, u64)> = all.iter().take(MAX_BARS).map(|d| (device_label(d, all), d.save_time)).collect();
    if all.len() > MAX_BARS {
        let rest = &all[MAX_BARS..];
        bars.push((format!("{} other sections", rest.len()), rest.iter().map(|d| d.save_time).sum()));
    }
    let n = bars.len() as i32;
    let total: u64 = all.iter().map(|d| d.save_time).sum();
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let caption = match data.downtime_ms {
        Some(d) => format!(
            "Switchover: save time per section, share of the {d} ms downtime in parentheses (sum {:.2} ms)",
            total as f64 / 1000.0
        ),
        None => format!("Switchover: device state save time per section (sum {:.2} ms)", total as f64 / 1000.0),
    };
    let label_width = bars.iter().map(|b| b.0.len()).max().unwrap_or(10) as u32 * 8 + 20;
    // One section (usually RAM's final pass) tends to dwarf the others by
    // two or three orders of magnitude: a logarithmic axis keeps every bar
    // readable, and the labels give the exact values and shares.
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 20))
        .margin(12)
        // Room for the last axis label, which is centred on the plot's edge.
        .margin_right(48)
        .x_label_area_size(48)
        .y_label_area_size(label_width.clamp(120, 420))
        .build_cartesian_2d((BAR_ORIGIN..max * 20.0).log_scale(), (0..n).into_segmented())?;
    // The most expensive bar on top: rank r sits at position n − 1 − r.
    let names: Vec<String> = bars.iter().rev().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .x_desc("save time (µs, logarithmic scale)")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| names.get(i)).cloned().unwrap_or_default()
            }
            _ => String::new(),
        })
        .y_labels(bars.len())
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 15))
        .disable_y_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(r, (_, v))| {
        let pos = n - 1 - r as i32;
        let mut rect = Rectangle::new(
            [(BAR_ORIGIN, SegmentValue::Exact(pos)), ((*v as f64).max(BAR_ORIGIN), SegmentValue::Exact(pos + 1))],
            BAR.filled(),
        );
        rect.set_margin(3, 3, 0, 0);
        rect
    }))?;
    let downtime_us = data.downtime_ms.filter(|&d| d > 0).map(|d| d as f64 * 1000.0);
    chart.draw_series(bars.iter().enumerate().map(|(r, (_, v))| {
        let pos = n - 1 - r as i32;
        let share = match downtime_us.map(|d| *v as f64 / d * 100.0) {
            Some(p) if p >= 0.1 => format!(" ({p:.1}%)"),
            Some(_) => " (<0.1%)".to_string(),
            None => String::new(),
        };
        Text::new(
            format!(" {v} µs{share}"),
            ((*v as f64).max(BAR_ORIGIN), SegmentValue::CenterOf(pos)),
            TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
        )
    }))?;
    Ok(())
}
