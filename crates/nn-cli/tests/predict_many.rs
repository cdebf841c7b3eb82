//! `nn predict MODEL PICTURE...` over many pictures: files and folders (searched with their
//! subfolders for `.png` files), a line or a JSON object per picture and a summary; a picture
//! that cannot be read gets one `error:` line naming it, the others are classified all the same,
//! and the exit status says that one failed.

mod common;

use common::{mnist_train_args, ok, run, stderr, stdout};

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

/// Draws MNIST test digit `i` dark on a white 100x100 page at `path`; returns its label.
fn draw(test: &nn_data::ImageSet, i: usize, path: &Path) -> u8 {
    let pixels = test.image(i);
    let page = image::RgbImage::from_fn(100, 100, |x, y| {
        let (px, py) = ((x * 28 / 100) as usize, (y * 28 / 100) as usize);
        image::Rgb([255 - pixels[py * 28 + px]; 3])
    });
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    page.save_with_format(path, image::ImageFormat::Png)
        .unwrap();
    test.label(i)
}

/// A model trained briefly, and a set of pictures: `one.png`, and a folder `scans` holding
/// pictures at two depths (one named `.PNG`), a text file, a folder of its own with nothing
/// but a text file, and a corrupt picture `scans/b/bad.png`. Returns the pictures' paths
/// (relative to the folder) in the order nn takes them, each with its label (`None` for the
/// corrupt one).
fn setup() -> (TempDir, Vec<(String, Option<u8>)>) {
    let tmp = TempDir::new().unwrap();
    ok(run(
        tmp.path(),
        &mnist_train_args(5000, &["--epochs", "3", "--save", "model.json", "--quiet"]),
    ));
    let test = nn_data::load_splits(&common::data_dir(), Some(10_000))
        .unwrap()
        .test;
    let dir = tmp.path();
    let mut pictures = vec![(
        "one.png".to_string(),
        Some(draw(&test, 0, &dir.join("one.png"))),
    )];
    for (i, name) in [
        (1, "scans/a/x.png"),
        (2, "scans/a/y.png"),
        (3, "scans/b/a.png"),
        (4, "scans/b/bad.png"),
        (5, "scans/b/c.PNG"),
        (6, "scans/z.png"),
    ] {
        let label = if name.ends_with("bad.png") {
            std::fs::create_dir_all(dir.join("scans/b")).unwrap();
            std::fs::write(dir.join(name), b"\x89PNG\r\n\x1a\n and then not a picture").unwrap();
            None
        } else {
            Some(draw(&test, i, &dir.join(name)))
        };
        pictures.push((name.to_string(), label));
    }
    std::fs::write(dir.join("scans/notes.txt"), "not a picture, not looked at").unwrap();
    std::fs::create_dir_all(dir.join("scans/empty")).unwrap();
    std::fs::write(dir.join("scans/empty/readme.md"), "nothing").unwrap();
    (tmp, pictures)
}

/// The digit `nn predict model.json PICTURE` prints for one picture.
fn single(dir: &Path, picture: &str) -> u64 {
    let text = stdout(&ok(run(dir, &["predict", "model.json", picture])));
    let line = text.lines().find(|l| l.starts_with("Digit: ")).unwrap();
    line["Digit: ".len()..].parse().unwrap()
}

#[test]
fn many_pictures_and_folders_give_one_json_object_each_and_a_bad_one_is_skipped() {
    let (tmp, pictures) = setup();
    let dir = tmp.path();
    let out = run(
        dir,
        &["predict", "model.json", "one.png", "scans", "--json"],
    );
    let (text, errors) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{errors}");
    assert!(!errors.contains("panicked"), "{errors}");
    let error_lines: Vec<&str> = errors.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{errors}");
    assert!(error_lines[0].contains("bad.png"), "{errors}");
    assert!(
        errors.contains("Classified 6 of 7 pictures (1 could not be read)"),
        "{errors}"
    );

    let objects: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let paths: Vec<&str> = objects
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = pictures.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, expected);
    let mut recognised = 0;
    for (object, (path, label)) in objects.iter().zip(&pictures) {
        let Some(label) = label else {
            assert!(
                object["error"].as_str().unwrap().contains("bad.png"),
                "{object}"
            );
            assert!(object.get("digit").is_none(), "{object}");
            continue;
        };
        let digit = object["digit"].as_u64().unwrap();
        let probabilities: Vec<f64> = object["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(probabilities.len(), 10, "{object}");
        assert!(
            (probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-6,
            "{object}"
        );
        let best = (0..10)
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .unwrap();
        assert_eq!(digit, best as u64, "{object}");
        // The same digit as the picture alone gets.
        assert_eq!(digit, single(dir, path), "{path}");
        recognised += usize::from(digit == u64::from(*label));
    }
    assert!(
        recognised >= 4,
        "only {recognised} of 6 drawings recognised"
    );
}

#[test]
fn lines_and_a_summary_for_people_and_success_when_every_picture_is_read() {
    let (tmp, pictures) = setup();
    let dir = tmp.path();
    std::fs::remove_file(dir.join("scans/b/bad.png")).unwrap();
    let out = ok(run(dir, &["predict", "model.json", "scans", "one.png"]));
    let text = stdout(&out);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    let line = regex::Regex::new(r"^(.+): (\d) \((0\.\d{4}|1\.0000)\)$").unwrap();
    let mut order: Vec<&str> = pictures
        .iter()
        .filter(|(_, label)| label.is_some())
        .map(|(p, _)| p.as_str())
        .collect();
    order.rotate_left(1); // one.png comes last here
    assert_eq!(order.len(), 6);
    for (l, path) in lines[..6].iter().zip(order) {
        let captures = line.captures(l).unwrap_or_else(|| panic!("{l}"));
        assert_eq!(&captures[1], path);
    }
    assert!(
        lines[6].starts_with("Classified 6 of 6 pictures; digits "),
        "{text}"
    );
}

#[test]
fn a_missing_file_or_an_empty_folder_is_one_error_line_among_the_results() {
    let (tmp, _) = setup();
    let dir = tmp.path();
    let out = run(
        dir,
        &[
            "predict",
            "model.json",
            "absent.png",
            "scans/a",
            "scans/empty",
        ],
    );
    let errors = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{errors}");
    let error_lines: Vec<&str> = errors.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 2, "{errors}");
    assert!(error_lines[0].contains("absent.png"), "{errors}");
    assert!(
        error_lines[1].contains("scans/empty: no .png picture"),
        "{errors}"
    );
    let text = stdout(&out);
    assert!(text.contains("scans/a/x.png: "), "{text}");
    assert!(text.contains("scans/a/y.png: "), "{text}");
    assert!(
        text.contains("Classified 2 of 4 pictures (2 could not be read)"),
        "{text}"
    );
    // A model that cannot be used stops before any picture.
    std::fs::write(dir.join("broken.json"), "{").unwrap();
    let out = run(dir, &["predict", "broken.json", "scans"]);
    common::assert_refused(&out, &["broken.json"]);
    assert!(stdout(&out).is_empty());
}
