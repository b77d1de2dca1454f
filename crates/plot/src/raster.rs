//! An anti-aliased raster backend for plotters, drawing into a
//! [`tiny_skia::Pixmap`].
//!
//! plotters' own bitmap backend draws aliased lines and polygons; drawing
//! it at 3× and averaging down anti-aliased the figures but cost ~9× the
//! pixels (issue 14). This backend instead strokes and fills with
//! tiny-skia's analytic anti-aliasing at the output resolution, and keeps
//! sub-pixel positions: plotters works in a coordinate space [`Raster::k`]
//! times finer than the image (every length the caller passes is scaled
//! by `k`), and plotters coordinate `c` is the output position
//! `(c + ½) / k` (the centre of the fine pixel `c`).
//!
//! Axis-parallel lines (grid, axes, ticks) and filled rectangles are
//! snapped to whole output pixels so they stay crisp; curves and polygons
//! are not snapped. Text is set in the embedded Noto Sans at the output
//! size with fractional glyph positions (ab_glyph coverage, anti-aliased)
//! and blended in directly. Everything is deterministic: same drawing calls, same pixels.

use std::convert::Infallible;

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters_backend::text_anchor::{self, HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};
use tiny_skia::{
    Color, FillRule, LineCap, LineJoin, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, Transform,
};

/// Drawing result of this backend (it never fails except on fonts).
type DrawResult = Result<(), DrawingErrorKind<Infallible>>;

/// A plotters [`DrawingBackend`] over an opaque RGBA pixmap.
pub struct Raster<'a> {
    /// The image, opaque (it starts filled with a background colour), so
    /// its premultiplied RGBA equals straight RGBA.
    pixmap: &'a mut Pixmap,
    /// plotters coordinate units per output pixel (a power of two, so
    /// `c / k` is exact in `f32`).
    k: u32,
}

impl<'a> Raster<'a> {
    /// A backend drawing into `pixmap` with `k` plotters units per pixel.
    /// `k` must be a power of two.
    pub fn new(pixmap: &'a mut Pixmap, k: u32) -> Self {
        debug_assert!(k.is_power_of_two());
        Self { pixmap, k }
    }

    /// Output position of plotters coordinate `c` (fine-pixel centre).
    fn pos(&self, c: i32) -> f32 {
        (c as f32 + 0.5) / self.k as f32
    }

    /// The path through `points` in output coordinates, closed if `close`
    /// (None for fewer than two points).
    fn polyline(
        &self,
        points: impl IntoIterator<Item = BackendCoord>,
        close: bool,
    ) -> Option<tiny_skia::Path> {
        let mut pb = PathBuilder::new();
        for (i, (x, y)) in points.into_iter().enumerate() {
            let (x, y) = (self.pos(x), self.pos(y));
            if i == 0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
        }
        if close {
            pb.close();
        }
        pb.finish()
    }

    /// Output length of `w` plotters units.
    fn len(&self, w: u32) -> f32 {
        w as f32 / self.k as f32
    }

    /// Blend `rgb` with opacity `alpha` ∈ [0, 1] over output pixel (x, y)
    /// (source-over on the opaque image, 8-bit fixed point).
    fn blend_pixel(&mut self, x: i32, y: i32, rgb: (u8, u8, u8), alpha: f64) {
        let (w, h) = (self.pixmap.width() as i32, self.pixmap.height() as i32);
        if x < 0 || y < 0 || x >= w || y >= h {
            return;
        }
        let a = alpha256(alpha);
        if a == 0 {
            return;
        }
        let i = (y as usize * w as usize + x as usize) * 4;
        let px = &mut self.pixmap.data_mut()[i..i + 3];
        for (d, s) in px.iter_mut().zip([rgb.0, rgb.1, rgb.2]) {
            *d = blend8(u32::from(s) * a, *d, a);
        }
    }

    /// Stroke `path` with the colour and width of `style`.
    fn stroke<S: BackendStyle>(&mut self, path: &Path, style: &S, cap: LineCap) {
        let stroke = Stroke {
            width: self.len(style.stroke_width()),
            line_cap: cap,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        self.pixmap.stroke_path(
            path,
            &paint(style.color()),
            &stroke,
            Transform::identity(),
            None,
        );
    }

    /// Stroke the segment `from`–`to`, snapped to whole pixels across its
    /// direction when it is axis-parallel.
    fn stroke_segment<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
        cap: LineCap,
    ) {
        let width = self.len(style.stroke_width());
        let (a, b) = (
            (self.pos(from.0), self.pos(from.1)),
            (self.pos(to.0), self.pos(to.1)),
        );
        // Axis-parallel: a rectangle of whole pixels (cheaper than a
        // stroke, and crisp).
        let ext = if cap == LineCap::Butt {
            0.0
        } else {
            width / 2.0
        };
        let across = |v: f32| {
            let c = Self::snap(v, width);
            (c - width / 2.0, c + width / 2.0)
        };
        let along = |p: f32, q: f32| ((p.min(q) - ext).round(), (p.max(q) + ext).round());
        let rect = if from.1 == to.1 {
            let ((l, r), (t, b)) = (along(a.0, b.0), across(a.1));
            Rect::from_ltrb(l, t, r, b)
        } else if from.0 == to.0 {
            let ((l, r), (t, b)) = (across(a.0), along(a.1, b.1));
            Rect::from_ltrb(l, t, r, b)
        } else {
            let mut pb = PathBuilder::new();
            pb.move_to(a.0, a.1);
            pb.line_to(b.0, b.1);
            if let Some(path) = pb.finish() {
                self.stroke(&path, style, cap);
            }
            return;
        };
        if let Some(rect) = rect {
            self.fill_rect(rect, style.color());
        }
    }

    /// Fill `rect`. When its edges lie on whole pixels (grid lines, axes,
    /// ticks, legend box) coverage is all or nothing: the pixels are
    /// blended directly, row by row, which for the thin rectangles of a
    /// grid is far cheaper than a rasteriser pass; otherwise tiny-skia
    /// fills it anti-aliased.
    fn fill_rect(&mut self, rect: Rect, color: BackendColor) {
        let whole = |v: f32| v == v.round();
        if !(whole(rect.left()) && whole(rect.right()) && whole(rect.top()) && whole(rect.bottom()))
        {
            self.pixmap
                .fill_rect(rect, &paint(color), Transform::identity(), None);
            return;
        }
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let (x0, x1) = (
            rect.left().clamp(0.0, w) as usize,
            rect.right().clamp(0.0, w) as usize,
        );
        let (y0, y1) = (
            rect.top().clamp(0.0, h) as usize,
            rect.bottom().clamp(0.0, h) as usize,
        );
        let a = alpha256(color.alpha);
        if a == 0 || x0 >= x1 {
            return;
        }
        let (r, g, b) = color.rgb;
        let src = [u32::from(r) * a, u32::from(g) * a, u32::from(b) * a];
        let stride = w as usize * 4;
        let data = self.pixmap.data_mut();
        // Plain `while` loops over a slice: cheap in the debug build too.
        let mut y = y0;
        while y < y1 {
            let (mut i, end) = (y * stride + x0 * 4, y * stride + x1 * 4);
            while i < end {
                data[i] = blend8(src[0], data[i], a);
                data[i + 1] = blend8(src[1], data[i + 1], a);
                data[i + 2] = blend8(src[2], data[i + 2], a);
                i += 4;
            }
            y += 1;
        }
    }

    /// Centre of an axis-parallel line of output width `width` at output
    /// position `v`, moved to the nearest position where the line covers
    /// whole pixels.
    fn snap(v: f32, width: f32) -> f32 {
        if width.round() as i64 % 2 == 1 {
            v.floor() + 0.5
        } else {
            v.round()
        }
    }
}

/// Opacity `alpha` ∈ [0, 1] in 1/256 steps (0..=256).
fn alpha256(alpha: f64) -> u32 {
    (alpha.clamp(0.0, 1.0) * 256.0).round() as u32
}

/// Source-over of one 8-bit channel: `src_a` = source × `a` (a in
/// 1/256), rounded to nearest.
fn blend8(src_a: u32, dst: u8, a: u32) -> u8 {
    ((src_a + u32::from(dst) * (256 - a) + 128) >> 8) as u8
}

/// A solid anti-aliased paint of plotters colour `c`.
fn paint(c: BackendColor) -> Paint<'static> {
    let mut p = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    let (r, g, b) = c.rgb;
    p.set_color(
        Color::from_rgba(
            f32::from(r) / 255.0,
            f32::from(g) / 255.0,
            f32::from(b) / 255.0,
            c.alpha.clamp(0.0, 1.0) as f32,
        )
        .unwrap_or(Color::BLACK),
    );
    p
}

impl DrawingBackend for Raster<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        (self.pixmap.width() * self.k, self.pixmap.height() * self.k)
    }

    fn ensure_prepared(&mut self) -> DrawResult {
        Ok(())
    }

    fn present(&mut self) -> DrawResult {
        Ok(())
    }

    /// One fine pixel: a 1/k × 1/k square (used only by plotters'
    /// fallbacks; this backend draws everything else itself).
    fn draw_pixel(&mut self, p: BackendCoord, color: BackendColor) -> DrawResult {
        let (x, y, s) = (self.pos(p.0), self.pos(p.1), self.len(1));
        if let Some(r) = Rect::from_xywh(x - s / 2.0, y - s / 2.0, s, s) {
            self.pixmap
                .fill_rect(r, &paint(color), Transform::identity(), None);
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.stroke_segment(from, to, style, LineCap::Square);
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let k = self.k as f32;
        let rect = if fill {
            // plotters' rectangles include both corner pixels.
            let edge = |lo: i32, hi: i32| {
                let (a, b) = ((lo as f32 / k).round(), ((hi + 1) as f32 / k).round());
                (a, b.max(a + 1.0))
            };
            let ((l, r), (t, b)) = (edge(ul.0, br.0), edge(ul.1, br.1));
            Rect::from_ltrb(l, t, r, b)
        } else {
            let width = self.len(style.stroke_width());
            let s = |c: i32| Self::snap(self.pos(c), width);
            Rect::from_ltrb(s(ul.0), s(ul.1), s(br.0), s(br.1))
        };
        let Some(rect) = rect else { return Ok(()) };
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let color = style.color();
        if fill
            && color.alpha >= 1.0
            && rect.left() <= 0.0
            && rect.top() <= 0.0
            && rect.right() >= w
            && rect.bottom() >= h
        {
            // The background: set every pixel (no blending).
            let (r, g, b) = color.rgb;
            self.pixmap.fill(Color::from_rgba8(r, g, b, 255));
        } else if fill {
            self.fill_rect(rect, color);
        } else {
            self.stroke(&PathBuilder::from_rect(rect), style, LineCap::Butt);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if let [from, to] = points[..] {
            // Grid lines, axes, ticks: crisp when axis-parallel.
            self.stroke_segment(from, to, style, LineCap::Butt);
            return Ok(());
        }
        if let Some(path) = self.polyline(points, false) {
            self.stroke(&path, style, LineCap::Butt);
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult {
        let (x, y, r) = (self.pos(center.0), self.pos(center.1), self.len(radius));
        if let Some(path) = PathBuilder::from_circle(x, y, r) {
            if fill {
                self.pixmap.fill_path(
                    &path,
                    &paint(style.color()),
                    FillRule::Winding,
                    Transform::identity(),
                    None,
                );
            } else {
                self.stroke(&path, style, LineCap::Butt);
            }
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        if let Some(path) = self.polyline(vert, true) {
            self.pixmap.fill_path(
                &path,
                &paint(style.color()),
                FillRule::EvenOdd,
                Transform::identity(),
                None,
            );
        }
        Ok(())
    }

    /// Text at the output resolution with sub-pixel glyph positions (see
    /// [`TextLayout`]).
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> DrawResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = embedded_font().map_err(|e| DrawingErrorKind::FontError(e.into()))?;
        let layout = TextLayout::new(&font, text, style.size() / f64::from(self.k));
        let k = self.k as f32;
        layout.draw(
            &font,
            text,
            (pos.0 as f32 / k, pos.1 as f32 / k),
            style.anchor(),
            style.transform(),
            |x, y, coverage| {
                self.blend_pixel(x, y, color.rgb, color.alpha * f64::from(coverage));
            },
        );
        Ok(())
    }

    /// Text size in plotters units: the output-size layout × k, so that
    /// plotters places text where [`Self::draw_text`] draws it.
    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let font = embedded_font().map_err(|e| DrawingErrorKind::FontError(e.into()))?;
        let layout = TextLayout::new(&font, text, style.size() / f64::from(self.k));
        let k = self.k as f32;
        Ok((
            (layout.width * k).round() as u32,
            (layout.height * k).round() as u32,
        ))
    }
}

/// The font every PNG text is set in: the embedded Noto Sans Regular (the
/// figures use one family, registered with plotters under
/// `render::FONT` for the SVG layout).
fn embedded_font() -> Result<FontRef<'static>, &'static str> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(ttf_noto_sans::REGULAR).ok())
        .clone()
        .ok_or("cannot load the embedded Noto Sans font")
}

/// Where a text-space pixel lands in output space (a rotation).
type PixelMap = fn(i32, i32) -> (i32, i32);

/// One line of text laid out at a pixel size, with plotters' metrics: the
/// box is the advance width (with kerning) by size / 1.24 tall and the
/// baseline lies size / 2 below its top (as plotters' `ab_glyph` text),
/// so PNG and SVG place text alike. Positions are kept fractional.
struct TextLayout {
    /// Font size, output pixels (ab_glyph's `PxScale`).
    size: f32,
    /// Box width, output pixels.
    width: f32,
    /// Box height, output pixels.
    height: f32,
}

impl TextLayout {
    fn new(font: &FontRef<'static>, text: &str, size: f64) -> Self {
        let size = size as f32;
        let scaled = font.as_scaled(size);
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            prev = Some(id);
        }
        Self {
            size,
            width,
            height: size / 1.24,
        }
    }

    /// Rasterise `text` anchored at output position `at` (the `anchor`
    /// point of the box, then rotated by `transform` about it), calling
    /// `plot(x, y, coverage)` for every output pixel a glyph touches.
    fn draw(
        &self,
        font: &FontRef<'static>,
        text: &str,
        at: (f32, f32),
        anchor: text_anchor::Pos,
        transform: FontTransform,
        mut plot: impl FnMut(i32, i32, f32),
    ) {
        let scaled = font.as_scaled(self.size);
        // Rotation is about a whole output pixel, so the text's pixel grid
        // stays the output's; the fraction of `at` moves the glyphs.
        let origin = (at.0.round(), at.1.round());
        let frac = (at.0 - origin.0, at.1 - origin.1);
        // The text-space offset that `transform` maps onto `frac`, and the
        // output pixel of text-space pixel (x, y).
        let (t, cell): ((f32, f32), PixelMap) = match transform {
            FontTransform::None => (frac, |x, y| (x, y)),
            FontTransform::Rotate90 => ((frac.1, -frac.0), |x, y| (-y - 1, x)),
            FontTransform::Rotate180 => ((-frac.0, -frac.1), |x, y| (-x - 1, -y - 1)),
            FontTransform::Rotate270 => ((-frac.1, frac.0), |x, y| (y, -x - 1)),
        };
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Right => -self.width,
            HPos::Center => -self.width / 2.0,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -self.height / 2.0,
            VPos::Bottom => -self.height,
        };
        let (ox, oy) = (origin.0 as i32, origin.1 as i32);
        let baseline = t.1 + dy + self.size / 2.0;
        let mut x = t.0 + dx;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                x += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(self.size, point(x, baseline));
            x += scaled.h_advance(id);
            let Some(outline) = scaled.outline_glyph(glyph) else {
                continue;
            };
            let min = outline.px_bounds().min;
            let (bx, by) = (min.x as i32, min.y as i32);
            outline.draw(|gx, gy, coverage| {
                let (px, py) = cell(bx + gx as i32, by + gy as i32);
                plot(ox + px, oy + py, coverage);
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use plotters::style::{BLACK, Color as _, IntoFont, RED, TextStyle};

    const K: u32 = 4;

    fn white(w: u32, h: u32) -> Pixmap {
        let mut p = Pixmap::new(w, h).unwrap();
        p.fill(Color::WHITE);
        p
    }

    /// Solid black of stroke width `w` (plotters units).
    fn black(w: u32) -> plotters::style::ShapeStyle {
        plotters::style::Color::stroke_width(&BLACK, w)
    }

    /// Red channel of pixel (x, y).
    fn red(p: &Pixmap, x: u32, y: u32) -> u8 {
        p.pixel(x, y).unwrap().red()
    }

    #[test]
    fn blend_is_exact_at_the_ends_and_rounds_in_between() {
        assert_eq!(blend8(200 * 256, 17, 256), 200);
        assert_eq!(blend8(0, 17, 0), 17);
        assert_eq!(blend8(0, 255, alpha256(0.5)), 128);
        assert_eq!(alpha256(2.0), 256);
        assert_eq!(alpha256(-1.0), 0);
    }

    #[test]
    fn axis_parallel_lines_cover_whole_pixels() {
        let mut p = white(20, 20);
        let mut r = Raster::new(&mut p, K);
        // 1 px wide, through fine row 41 (output row 10) and column 22.
        let style = black(K);
        r.draw_line((0, 41), (19 * 4 + 3, 41), &style).unwrap();
        r.draw_path([(22, 0), (22, 79)], &style).unwrap();
        for x in 0..20 {
            assert_eq!(red(&p, x, 10), 0, "row 10, x = {x}");
            assert_eq!(red(&p, x, 9), if x == 5 { 0 } else { 255 });
            assert_eq!(red(&p, x, 11), if x == 5 { 0 } else { 255 });
        }
        for y in 0..20 {
            assert_eq!(red(&p, 5, y), 0, "column 5, y = {y}");
            assert_eq!(red(&p, 4, y), if y == 10 { 0 } else { 255 });
        }
    }

    #[test]
    fn curves_are_anti_aliased() {
        let mut p = white(40, 40);
        let mut r = Raster::new(&mut p, K);
        r.draw_path([(0, 0), (159, 50), (20, 159)], &black(2 * K))
            .unwrap();
        let levels: std::collections::BTreeSet<u8> = p.pixels().iter().map(|c| c.red()).collect();
        assert!(levels.contains(&0) || levels.iter().any(|&l| l < 40));
        let partial = levels.iter().filter(|&&l| l > 20 && l < 235).count();
        assert!(partial > 20, "only {partial} grey levels: aliased?");
    }

    #[test]
    fn background_is_set_and_translucent_fills_blend() {
        let mut p = white(10, 10);
        let mut r = Raster::new(&mut p, K);
        let (w, h) = r.get_size();
        assert_eq!((w, h), (40, 40));
        r.draw_rect((0, 0), (39, 39), &RED.filled(), true).unwrap();
        assert!(p.pixels().iter().all(|c| (c.red(), c.green()) == (255, 0)));
        let mut p = white(10, 10);
        let mut r = Raster::new(&mut p, K);
        // Output pixels 2..5 × 2..5 at half opacity.
        r.draw_rect((8, 8), (19, 19), &BLACK.mix(0.5).filled(), true)
            .unwrap();
        assert_eq!(red(&p, 2, 2), 128);
        assert_eq!(red(&p, 4, 4), 128);
        assert_eq!(red(&p, 1, 2), 255);
        assert_eq!(red(&p, 5, 4), 255);
        // A polygon fill is anti-aliased along its slanted edge.
        let mut p = white(10, 10);
        Raster::new(&mut p, K)
            .fill_polygon([(0, 0), (39, 0), (0, 39)], &BLACK)
            .unwrap();
        assert_eq!(red(&p, 1, 1), 0);
        assert_eq!(red(&p, 8, 8), 255);
        assert!(p.pixels().iter().any(|c| c.red() > 30 && c.red() < 225));
    }

    #[test]
    fn text_is_measured_and_drawn_at_the_output_size() {
        let style = TextStyle::from(("sans-serif", 20 * K).into_font()).color(&BLACK);
        let mut p = white(200, 60);
        let mut r = Raster::new(&mut p, K);
        let (w, h) = r.estimate_text_size("Hello", &style).unwrap();
        // Noto Sans at 20 px: "Hello" is ~36 px wide, the box 20/1.24 tall.
        assert!((120..170).contains(&w), "width {w}");
        assert_eq!(h, (20.0f32 / 1.24 * K as f32).round() as u32);
        r.draw_text("Hello", &style, (40, 40)).unwrap();
        let inked: Vec<(u32, u32)> = (0..60)
            .flat_map(|y| (0..200).map(move |x| (x, y)))
            .filter(|&(x, y)| red(&p, x, y) < 128)
            .collect();
        assert!(inked.len() > 50, "{} dark pixels", inked.len());
        let (x0, x1) = (
            inked.iter().map(|q| q.0).min().unwrap(),
            inked.iter().map(|q| q.0).max().unwrap(),
        );
        assert!(x0 >= 10 && x1 <= 10 + w / K + 2, "ink x {x0}..{x1}");
        // Rotated a quarter turn: the ink is taller than wide.
        let rotated = TextStyle::from(
            ("sans-serif", 20 * K)
                .into_font()
                .transform(FontTransform::Rotate270),
        )
        .color(&BLACK);
        let mut p = white(60, 120);
        Raster::new(&mut p, K)
            .draw_text("Hello", &rotated, (80, 400))
            .unwrap();
        let ink: Vec<(u32, u32)> = (0..120)
            .flat_map(|y| (0..60).map(move |x| (x, y)))
            .filter(|&(x, y)| red(&p, x, y) < 128)
            .collect();
        let span = |f: fn(&(u32, u32)) -> u32| {
            ink.iter().map(f).max().unwrap() - ink.iter().map(f).min().unwrap()
        };
        assert!(span(|q| q.1) > 2 * span(|q| q.0), "not rotated");
    }
}
