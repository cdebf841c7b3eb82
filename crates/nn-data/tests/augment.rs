//! Invariants of the distortions, determinism of `augment_set`, the book's shift expansion and
//! offline expansion to IDX files.

use nn_data::augment::{distort, elastic, image_rng, rotate, scale, shift, skew};
use nn_data::idx::IdxArray;
use nn_data::{
    AffineElastic, Elastic, ImageSet, ImageTransform, RandomRotation, RandomScale, RandomShift,
    RandomSkew, augment_set, expand_by_shifts, expand_to_idx, load_image_set,
};

/// A pseudo-random image with a border of zeros `margin` pixels wide.
fn image(rows: usize, cols: usize, margin: usize, salt: usize) -> Vec<u8> {
    (0..rows * cols)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            let inside = r >= margin && r + margin < rows && c >= margin && c + margin < cols;
            if inside {
                ((i * 37 + salt * 101) % 251) as u8 + 1
            } else {
                0
            }
        })
        .collect()
}

fn set(n: usize, rows: usize, cols: usize) -> ImageSet {
    let mut pixels = Vec::new();
    for i in 0..n {
        pixels.extend(image(rows, cols, 2, i));
    }
    ImageSet::from_idx(
        IdxArray {
            dims: vec![n, rows, cols],
            data: pixels,
        },
        IdxArray {
            dims: vec![n],
            data: (0..n).map(|i| (i % 10) as u8).collect(),
        },
        ("images", "labels"),
    )
    .unwrap()
}

fn all_transforms() -> Vec<Box<dyn ImageTransform>> {
    vec![
        Box::new(RandomShift::default()),
        Box::new(RandomRotation::default()),
        Box::new(RandomSkew::default()),
        Box::new(RandomScale::default()),
        Box::new(Elastic::default()),
        Box::new(AffineElastic::default()),
    ]
}

#[test]
fn one_pixel_shifts_move_every_pixel_by_one() {
    let (rows, cols) = (8, 9);
    let src = image(rows, cols, 0, 1);
    let mut dst = vec![0; rows * cols];
    for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1), (2, -3)] {
        shift(&src, rows, cols, dx, dy, &mut dst);
        for r in 0..rows as i32 {
            for c in 0..cols as i32 {
                let (sr, sc) = (r - dy, c - dx);
                let inside = (0..rows as i32).contains(&sr) && (0..cols as i32).contains(&sc);
                let expected = if inside {
                    src[(sr * cols as i32 + sc) as usize]
                } else {
                    0
                };
                assert_eq!(dst[(r * cols as i32 + c) as usize], expected, "({dx},{dy})");
            }
        }
    }
    shift(&src, rows, cols, 20, 0, &mut dst);
    assert!(dst.iter().all(|&p| p == 0));
}

#[test]
fn neutral_parameters_are_the_identity() {
    for (rows, cols) in [(28, 28), (8, 8), (5, 12)] {
        let src = image(rows, cols, 0, 3);
        let mut dst = vec![0; rows * cols];
        rotate(&src, rows, cols, 0.0, &mut dst);
        assert_eq!(dst, src);
        skew(&src, rows, cols, 0.0, &mut dst);
        assert_eq!(dst, src);
        scale(&src, rows, cols, 1.0, &mut dst);
        assert_eq!(dst, src);
        shift(&src, rows, cols, 0, 0, &mut dst);
        assert_eq!(dst, src);
        elastic(&src, rows, cols, 0.0, 4.0, &mut image_rng(1, 0), &mut dst);
        assert_eq!(dst, src);
    }
}

#[test]
fn the_combined_distortion_without_displacements_is_its_affine_map() {
    let (rows, cols) = (28, 28);
    let src = image(rows, cols, 4, 6);
    let (sin, cos) = 10f32.to_radians().sin_cos();
    type Plain = fn(&[u8], usize, usize, &mut [u8]);
    let cases: [([f32; 4], Plain); 2] = [
        ([cos, -sin, sin, cos], |s, r, c, d| rotate(s, r, c, 10.0, d)),
        ([1.25, 0.0, 0.0, 1.25], |s, r, c, d| scale(s, r, c, 0.8, d)),
    ];
    for (linear, plain) in cases {
        let mut expected = vec![0; rows * cols];
        plain(&src, rows, cols, &mut expected);
        let mut combined = vec![0; rows * cols];
        for alpha in [0.0, 34.0] {
            distort(
                &src,
                rows,
                cols,
                linear,
                alpha,
                4.0,
                &mut image_rng(2, 0),
                &mut combined,
            );
            // Without displacements exactly the affine map; with them, something else.
            assert_eq!(
                combined == expected,
                alpha == 0.0,
                "{linear:?}, alpha {alpha}"
            );
        }
    }
}

#[test]
fn quarter_turn_rotates_exactly() {
    let (rows, cols) = (6, 6);
    let src = image(rows, cols, 0, 2);
    let mut dst = vec![0; rows * cols];
    rotate(&src, rows, cols, 90.0, &mut dst);
    // Counter-clockwise: the top row becomes the left column, read bottom to top.
    for c in 0..cols {
        assert_eq!(dst[(rows - 1 - c) * cols], src[c]);
    }
    rotate(&src, rows, cols, 5.0, &mut dst);
    assert_ne!(dst, src);
}

#[test]
fn distortions_change_images_and_depend_only_on_the_seed() {
    let (rows, cols) = (28, 28);
    let src = image(rows, cols, 4, 5);
    for t in all_transforms() {
        let mut a = vec![0; rows * cols];
        let mut b = vec![0; rows * cols];
        t.apply(&src, rows, cols, &mut image_rng(9, 4), &mut a);
        t.apply(&src, rows, cols, &mut image_rng(9, 4), &mut b);
        assert_eq!(a, b, "{}", t.describe());
        let changed = (0..20).any(|i| {
            t.apply(&src, rows, cols, &mut image_rng(i, 0), &mut b);
            b != src
        });
        assert!(changed, "{} never changes the image", t.describe());
    }
}

#[test]
fn augment_set_is_the_same_on_one_and_two_threads() {
    let base = set(300, 12, 10);
    let transforms = all_transforms();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut out = base.empty_like();
        pool.install(|| augment_set(&base, &transforms, 0.2, 42, &mut out));
        out
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    assert_eq!(one.len(), base.len());
    assert_eq!(one.labels, base.labels);
    let kept = (0..base.len())
        .filter(|&i| one.image(i) == base.image(i))
        .count();
    assert!((30..=120).contains(&kept), "kept {kept} of 300 originals");

    let mut other = base.empty_like();
    augment_set(&base, &transforms, 0.2, 43, &mut other);
    assert_ne!(other, one);
    augment_set(&base, &transforms, 1.0, 43, &mut other);
    assert_eq!(other, base);
}

#[test]
fn expand_by_shifts_follows_the_book() {
    let base = set(7, 8, 8);
    let expanded = expand_by_shifts(&base);
    assert_eq!(expanded.len(), 35);
    let mut shifted = vec![0; 64];
    for i in 0..base.len() {
        assert_eq!(expanded.image(5 * i), base.image(i));
        for (k, (dx, dy)) in [(0, 1), (0, -1), (1, 0), (-1, 0)].into_iter().enumerate() {
            shift(base.image(i), 8, 8, dx, dy, &mut shifted);
            assert_eq!(expanded.image(5 * i + 1 + k), &shifted[..]);
        }
        assert!(
            expanded.labels[5 * i..5 * i + 5]
                .iter()
                .all(|&l| l == base.labels[i])
        );
    }
}

#[test]
fn expand_to_idx_writes_originals_then_copies() {
    let dir = tempfile::tempdir().unwrap();
    let base = set(20, 8, 8);
    let (images, labels) = (dir.path().join("x.gz"), dir.path().join("y"));
    let transforms: Vec<Box<dyn ImageTransform>> = vec![Box::new(Elastic::default())];
    expand_to_idx(&base, &transforms, 2, 5, &images, &labels).unwrap();
    let expanded = load_image_set(&images, &labels).unwrap();
    assert_eq!(expanded.len(), 60);
    assert_eq!(expanded.subset(..20), base);
    assert_eq!(expanded.labels[40..], base.labels[..]);
    assert_ne!(expanded.subset(20..40).pixels, base.pixels);
    assert_ne!(expanded.subset(20..40).pixels, expanded.subset(40..).pixels);
}
