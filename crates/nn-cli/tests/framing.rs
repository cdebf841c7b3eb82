//! `nn predict` prepares a picture as the model's training images framed their digits: the
//! framing `nn train` measures on the training set is kept in the model, and a model of a
//! 12x12 set whose digits fill their frame recognises large drawings of its own test digits,
//! which MNIST's framing (`--framing mnist`) shrinks into 9x9 and misreads.

mod common;

use common::{
    Drawing, assert_refused, data_dir, mnist_train_args, ok, recognised_drawings, run, stdout,
};

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use nn_data::{IdxArray, ImageSet, write_idx};
use regex::Regex;
use tempfile::TempDir;

const SIDE: u32 = 12;

/// A 28x28 MNIST digit cropped to its ink and scaled to fill a 12x12 frame (larger side 12),
/// the box centred.
fn frame_filling(pixels: &[u8]) -> Vec<u8> {
    let digit = GrayImage::from_raw(28, 28, pixels.to_vec()).unwrap();
    let inked = |p: &&Luma<u8>| p[0] > 50;
    let (mut x0, mut y0, mut x1, mut y1) = (27, 27, 0, 0);
    for (x, y, p) in digit.enumerate_pixels() {
        if inked(&p) {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let crop = imageops::crop_imm(&digit, x0, y0, w, h).to_image();
    let scale = SIDE as f32 / w.max(h) as f32;
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).clamp(1, SIDE),
        ((h as f32 * scale).round() as u32).clamp(1, SIDE),
    );
    let scaled = imageops::resize(&crop, sw, sh, FilterType::Triangle);
    let mut out = GrayImage::new(SIDE, SIDE);
    imageops::overlay(
        &mut out,
        &scaled,
        i64::from((SIDE - sw) / 2),
        i64::from((SIDE - sh) / 2),
    );
    out.into_raw()
}

/// Writes `set`'s digits, made frame-filling at 12x12, as two IDX files.
fn write_frame_filling(set: &ImageSet, images: &Path, labels: &Path) {
    let pixels = (0..set.len())
        .flat_map(|i| frame_filling(set.image(i)))
        .collect();
    let images_array = IdxArray {
        dims: vec![set.len(), SIDE as usize, SIDE as usize],
        data: pixels,
    };
    let labels_array = IdxArray {
        dims: vec![set.len()],
        data: set.labels.clone(),
    };
    write_idx(images, &images_array, false).unwrap();
    write_idx(labels, &labels_array, false).unwrap();
}

/// How many of `count` MNIST test digits (from the 1,000th on, not in the written test set),
/// drawn large in dark ink on a 200x200 white page as a reader draws, `nn predict model.json`
/// with `extra` flags recognises.
fn recognised_large_drawings(cwd: &Path, extra: &[&str], count: usize) -> usize {
    let drawing = Drawing {
        page: 200,
        margin: 16,
        scale: 6.0,
    };
    let args: Vec<&str> = ["model.json"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    recognised_drawings(cwd, &args, 1_000..1_000 + count, drawing, |_| {})
}

#[test]
fn a_frame_filling_set_keeps_its_framing_and_recognises_its_own_digits_drawn_large() {
    let tmp = TempDir::new().unwrap();
    let set = tmp.path().join("set");
    std::fs::create_dir(&set).unwrap();
    let splits = nn_data::load_splits(&data_dir(), Some(10_000)).unwrap();
    write_frame_filling(
        &splits.training.subset(..10_000),
        &set.join("train-images-idx3-ubyte"),
        &set.join("train-labels-idx1-ubyte"),
    );
    write_frame_filling(
        &splits.test.subset(..1_000),
        &set.join("t10k-images-idx3-ubyte"),
        &set.join("t10k-labels-idx1-ubyte"),
    );
    let args = [
        "train",
        "--data",
        "set",
        "--layers",
        "144,60,10",
        "--epochs",
        "15",
        "--eta",
        "0.5",
        "--lambda",
        "1",
        "--seed",
        "3",
        "--save",
        "model.json",
    ];
    let out = ok(run(tmp.path(), &args));
    assert!(stdout(&out).contains("Test accuracy"), "{}", stdout(&out));
    let saved = std::fs::read_to_string(tmp.path().join("model.json")).unwrap();
    let framing = Regex::new(r#""framing":\{"box_fraction":([0-9.]+),"centring":"box"\}"#)
        .unwrap()
        .captures(&saved)
        .unwrap_or_else(|| panic!("no box framing in the model"))[1]
        .parse::<f32>()
        .unwrap();
    assert!(
        framing >= 11.0 / 12.0,
        "the digits fill the frame: {framing}"
    );

    let drawings = 40;
    let as_trained = recognised_large_drawings(tmp.path(), &[], drawings);
    let as_mnist = recognised_large_drawings(tmp.path(), &["--framing", "mnist"], drawings);
    println!("recognised drawings: {as_trained} of {drawings} as trained, {as_mnist} as MNIST's");
    assert!(
        as_trained * 4 >= drawings * 3,
        "prepared as the training images were: {as_trained} of {drawings}"
    );
    assert!(
        as_mnist + drawings / 5 <= as_trained,
        "MNIST's framing on this model recognises {as_mnist}, the model's {as_trained}"
    );
}

#[test]
fn an_mnist_model_records_mnists_framing_and_a_lying_one_is_refused() {
    let tmp = TempDir::new().unwrap();
    let mut args = mnist_train_args(1_000, &["--epochs", "1", "--save", "model.json"]);
    args.extend(["--layers", "784,10"].map(String::from));
    ok(run(tmp.path(), &args));
    let saved = std::fs::read_to_string(tmp.path().join("model.json")).unwrap();
    let mnist = format!(
        r#""framing":{{"box_fraction":{},"centring":"mass"}}"#,
        serde_json::to_string(&(20.0f32 / 28.0)).unwrap()
    );
    assert!(saved.contains(&mnist), "MNIST's framing, exactly: {mnist}");

    for bad in ["1e39", "-0.5", "0", "\"large\""] {
        let lying = saved.replace(
            &mnist,
            &format!(r#""framing":{{"box_fraction":{bad},"centring":"mass"}}"#),
        );
        std::fs::write(tmp.path().join("lying.json"), lying).unwrap();
        let page = GrayImage::from_fn(40, 40, |x, _| Luma([if x / 10 == 2 { 0 } else { 255 }]));
        page.save(tmp.path().join("one.png")).unwrap();
        let out = run(tmp.path(), &["predict", "lying.json", "one.png"]);
        assert_refused(&out, &["lying.json", "box_fraction"]);
    }
}
