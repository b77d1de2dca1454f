//! A backend-neutral description of one figure ([`Plot`]) and its rendering
//! to SVG and PNG bytes in memory. Rendering is deterministic: the same
//! [`Plot`] gives byte-identical files (embedded font, no timestamps).

use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::geom::{Frame, Polyline, Scale, tick};
use crate::raster::Raster;

/// Figure size in pixels (PNG) or user units (SVG).
pub const SIZE: (u32, u32) = (960, 680);

/// plotters units per PNG pixel: the PNG is drawn by [`Raster`] at
/// [`SIZE`], with every length given to plotters × this factor, so
/// positions keep ¼-pixel precision while strokes, fills and text are
/// anti-aliased at the output resolution (a power of two: exact in f32).
const PNG_SUBPIXEL: u32 = 4;

/// Font family every text uses; registered from the embedded Noto Sans.
const FONT: &str = "sans-serif";

/// Where the legend goes.
pub use plotters::chart::SeriesLabelPosition as LegendPos;

/// One curve: polylines in data units sharing a style and legend entry.
#[derive(Debug, Clone)]
pub struct Line {
    /// The visible pieces (already clipped to the frame).
    pub polylines: Vec<Polyline>,
    /// Colour.
    pub colour: RGBColor,
    /// Stroke width, pixels.
    pub width: u32,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// Legend entry. An entry is shown even when no piece is visible, so a
    /// line with no polylines serves as a legend-only key.
    pub label: Option<String>,
}

/// A filled region in data units (a closed polygon, already inside the frame).
#[derive(Debug, Clone)]
pub struct Shade {
    /// Vertices.
    pub polygon: Polyline,
    /// Fill colour.
    pub colour: RGBColor,
    /// Fill opacity in [0, 1].
    pub opacity: f64,
}

/// Everything needed to draw one figure.
#[derive(Debug, Clone)]
pub struct Plot {
    /// Caption above the chart.
    pub title: String,
    /// x-axis description with unit.
    pub x_desc: String,
    /// y-axis description with unit.
    pub y_desc: String,
    /// Axis ranges and scales.
    pub frame: Frame,
    /// Filled regions, drawn first.
    pub shades: Vec<Shade>,
    /// Curves, drawn in order (the legend follows the same order).
    pub lines: Vec<Line>,
    /// Text lines written inside the chart at its top left.
    pub notes: Vec<String>,
    /// Legend corner.
    pub legend: LegendPos,
}

/// Image formats the stage can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// PNG raster, 960×680 px, 8-bit RGB.
    Png,
    /// SVG vector graphics (text rendered by the viewer's sans-serif font).
    Svg,
}

impl Format {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// Render `plot` in `format`.
pub fn render(plot: &Plot, format: Format) -> Result<Vec<u8>> {
    match format {
        Format::Png => render_png(plot),
        Format::Svg => render_svg(plot),
    }
}

/// Register the embedded font once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, ttf_noto_sans::REGULAR)
                .map_err(|_| "cannot load the embedded Noto Sans font".to_string())
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Map a plotters error (whose backend error may not be `Send + Sync`).
fn de(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Text as written: SVG text is rendered by the viewer's font.
fn svg_text(s: &str) -> String {
    s.to_string()
}

/// Text for the bitmap renderer, which uses the embedded Noto Sans: that
/// font has no superscript minus (U+207B), so it is drawn as a macron
/// (U+00AF), which sits at the same height.
fn bitmap_text(s: &str) -> String {
    s.replace('⁻', "¯")
}

/// Render to SVG bytes.
pub fn render_svg(plot: &Plot) -> Result<Vec<u8>> {
    ensure_font()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw(&root, plot, svg_text, 1)?;
        root.present().map_err(de)?;
    }
    Ok(s.into_bytes())
}

/// Render to PNG bytes (8-bit RGB), anti-aliased by [`Raster`].
pub fn render_png(plot: &Plot) -> Result<Vec<u8>> {
    ensure_font()?;
    let (w, h) = SIZE;
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| anyhow!("cannot allocate a {w}×{h} image"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    {
        let root = Raster::new(&mut pixmap, PNG_SUBPIXEL).into_drawing_area();
        draw(&root, plot, bitmap_text, PNG_SUBPIXEL)?;
        root.present().map_err(de)?;
    }
    // The image is opaque: premultiplied RGBA is RGBA; drop the alpha.
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    rgba_to_rgb(pixmap.data(), &mut rgb);
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // fdeflate: ~10× fewer instructions than zlib level 6 on these
        // figures for files ~1.8× larger (≈ 100 kB a figure, about what the
        // former 3×-supersampled PNGs took). Paeth on every row instead of
        // the adaptive choice: files 3.5 % larger, the encoder ~⅓ cheaper
        // (other fixed filters give 3–4× larger files with fdeflate).
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::Filter::Paeth);
        let mut writer = enc
            .write_header()
            .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
        writer
            .finish()
            .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
    }
    Ok(out)
}

/// Copy the RGB bytes of every RGBA pixel of `src` into `dst`, as many
/// pixels as both hold. A plain `while` loop over slices: in the debug build
/// the tests run (opt-level 1, debug assertions) chunk iterators and ranges
/// cost a non-inlined call per pixel, ~10× this loop.
fn rgba_to_rgb(src: &[u8], dst: &mut [u8]) {
    let n = (src.len() / 4).min(dst.len() / 3);
    let (src, dst) = (&src[..4 * n], &mut dst[..3 * n]);
    let mut k = 0;
    while k < n {
        dst[3 * k] = src[4 * k];
        dst[3 * k + 1] = src[4 * k + 1];
        dst[3 * k + 2] = src[4 * k + 2];
        k += 1;
    }
}

/// Draw `plot` with every length (fonts, margins, strokes) × `k`, passing
/// every string through `text` first.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    text: fn(&str) -> String,
    k: u32,
) -> Result<()> {
    root.fill(&WHITE).map_err(de)?;
    let f = plot.frame;
    let lin = |r: (f64, f64)| RangedCoordf64::from(r.0..r.1);
    let log = |r: (f64, f64)| LogCoord::<f64>::from((r.0..r.1).log_scale());
    match (f.x_scale, f.y_scale) {
        (Scale::Linear, Scale::Linear) => draw_chart(root, plot, text, k, lin(f.x), lin(f.y)),
        (Scale::Linear, Scale::Log) => draw_chart(root, plot, text, k, lin(f.x), log(f.y)),
        (Scale::Log, Scale::Linear) => draw_chart(root, plot, text, k, log(f.x), lin(f.y)),
        (Scale::Log, Scale::Log) => draw_chart(root, plot, text, k, log(f.x), log(f.y)),
    }
}

fn draw_chart<'a, DB, X, Y>(
    root: &'a DrawingArea<DB, Shift>,
    plot: &Plot,
    text: fn(&str) -> String,
    k: u32,
    x: X,
    y: Y,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(text(&plot.title), (FONT, 21 * k))
        .margin(18 * k)
        .x_label_area_size(52 * k)
        .y_label_area_size(84 * k)
        .build_cartesian_2d(x, y)
        .map_err(de)?;
    let f = plot.frame;
    let fx = |v: &f64| text(&tick(*v, f.x_scale, f.x));
    let fy = |v: &f64| text(&tick(*v, f.y_scale, f.y));
    chart
        .configure_mesh()
        .x_desc(text(&plot.x_desc))
        .y_desc(text(&plot.y_desc))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .x_labels(12)
        .y_labels(12)
        .label_style((FONT, 17 * k))
        .axis_desc_style((FONT, 17 * k))
        .axis_style(BLACK.stroke_width(k))
        .bold_line_style(BLACK.mix(0.12).stroke_width(k))
        .light_line_style(BLACK.mix(0.04).stroke_width(k))
        .draw()
        .map_err(de)?;

    for s in &plot.shades {
        let style = s.colour.mix(s.opacity).filled();
        chart
            .draw_series(std::iter::once(Polygon::new(s.polygon.clone(), style)))
            .map_err(de)?;
    }

    // The legend sample of a line: two strokes, overlapping (solid) or
    // with a gap (dashed).
    let ki = k as i32;
    let legend_glyph = |style: ShapeStyle, dashed: bool| {
        let (a, b) = if dashed {
            ((0, 8 * ki), (13 * ki, 21 * ki))
        } else {
            ((0, 11 * ki), (10 * ki, 21 * ki))
        };
        move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(a.0, 0), (a.1, 0)], style)
                + PathElement::new(vec![(b.0, 0), (b.1, 0)], style)
        }
    };
    for line in &plot.lines {
        let style = line.colour.stroke_width(line.width * k);
        let mut first = true;
        for poly in &line.polylines {
            let anno = if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        poly.iter().copied(),
                        9 * k,
                        5 * k,
                        style,
                    ))
                    .map_err(de)?
            } else {
                chart
                    .draw_series(LineSeries::new(poly.iter().copied(), style))
                    .map_err(de)?
            };
            if first {
                if let Some(label) = &line.label {
                    anno.label(text(label))
                        .legend(legend_glyph(style, line.dashed));
                }
                first = false;
            }
        }
        if first {
            // Nothing visible: a legend-only entry.
            if let Some(label) = &line.label {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                    .map_err(de)?
                    .label(text(label))
                    .legend(legend_glyph(style, line.dashed));
            }
        }
    }

    if plot.lines.iter().any(|l| l.label.is_some()) {
        chart
            .configure_series_labels()
            .position(plot.legend.clone())
            .label_font((FONT, 14 * k))
            .legend_area_size(30 * k)
            .background_style(WHITE.mix(0.88))
            .border_style(BLACK.mix(0.5).stroke_width(k))
            .margin(12 * k)
            .draw()
            .map_err(de)?;
    }

    let area = chart.plotting_area().strip_coord_spec();
    for (i, note) in plot.notes.iter().enumerate() {
        let pos = (12 * ki, (10 + 20 * i as i32) * ki);
        area.draw(&Text::new(
            text(note),
            pos,
            (FONT, 15 * k).into_font().color(&BLACK.mix(0.8)),
        ))
        .map_err(de)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_to_rgb_drops_alpha_and_stops_at_the_shorter_buffer() {
        let src = [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255];
        let mut dst = [0u8; 6];
        rgba_to_rgb(&src, &mut dst);
        assert_eq!(dst, [1, 2, 3, 4, 5, 6]);
        let mut dst = [0u8; 10];
        rgba_to_rgb(&src, &mut dst);
        assert_eq!(dst, [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    }

    #[test]
    fn png_is_opaque_rgb_of_the_figure_size() {
        let plot = Plot {
            title: "t".into(),
            x_desc: "x".into(),
            y_desc: "y".into(),
            frame: Frame {
                x: (0.0, 1.0),
                y: (1.0, 10.0),
                x_scale: Scale::Linear,
                y_scale: Scale::Log,
            },
            shades: vec![],
            lines: vec![Line {
                polylines: vec![vec![(0.1, 2.0), (0.9, 8.0)]],
                colour: RED,
                width: 2,
                dashed: false,
                label: Some("a".into()),
            }],
            notes: vec!["n".into()],
            legend: LegendPos::UpperLeft,
        };
        let bytes = render_png(&plot).unwrap_or_default();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info();
        assert!(reader.is_ok(), "not a PNG");
        if let Ok(r) = reader {
            let info = r.info();
            assert_eq!((info.width, info.height), SIZE);
            assert_eq!(info.color_type, png::ColorType::Rgb);
        }
    }
}
