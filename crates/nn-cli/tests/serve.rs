//! `nn serve` end to end: the real binary on a free port, spoken to over TCP with HTTP/1.1 by a
//! small client that can also misbehave (send too much, a decoding bomb, stall). Every bad body
//! gets a clear 4xx with `{"error": ...}`, and the server still answers afterwards.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{data_dir, nn, ok, run};

/// A running `nn serve`, killed when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `nn serve --port 0` with `args` in `cwd` and reads the address from its first line.
fn serve(cwd: &std::path::Path, args: &[&str]) -> Served {
    let mut child = nn(cwd)
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nn serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("serving http://")
        .unwrap_or_else(|| panic!("first line is not the URL: {line:?}"));
    let addr = url.trim_end_matches('/').parse().unwrap();
    Served { child, addr }
}

/// A response: status, headers (lower-case names) and body.
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error message of a 4xx, which must be JSON `{"error": "..."}`.
    fn error(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }
}

/// Reads one response from `stream` (the server closes the connection after it).
fn read_response(mut stream: TcpStream) -> Response {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {:?}", String::from_utf8_lossy(&bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    assert!(!head.contains("transfer-encoding: chunked"), "{head}");
    Response {
        status,
        head,
        body: bytes[split + 4..].to_vec(),
    }
}

/// Sends one request with `body` (a write error after the server has answered is ignored: it
/// may refuse a body before reading it) and reads the response.
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         image/png\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(1 << 16) {
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    read_response(stream)
}

/// MNIST test digit `i`, dark on white, as a 112x112 PNG, and its label.
fn digit_png(test: &nn_data::ImageSet, i: usize) -> (Vec<u8>, u8) {
    let pixels = test.image(i);
    let picture = image::GrayImage::from_fn(112, 112, |x, y| {
        image::Luma([255 - pixels[(y / 4) as usize * 28 + (x / 4) as usize]])
    });
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    (png, test.label(i))
}

/// A PNG that declares `width x height` pixels of RGBA and holds a few bytes of data.
fn declared_png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // A zlib stream of zeros: what a bomb would hold, many times over.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn serve_answers_good_and_hostile_clients_and_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir();
    let train = common::mnist_train_args(5000, &["--epochs", "2", "--save", "model.json"]);
    ok(run(dir.path(), &train));
    let served = serve(
        dir.path(),
        &[
            "--model",
            "model.json",
            "--data",
            data.to_str().unwrap(),
            "--timeout",
            "2",
        ],
    );
    let addr = served.addr;
    let test = nn_data::load_splits(&data, Some(10_000)).unwrap().test;

    // Good pictures: the digits recognised, and the same class as `nn predict` gives.
    let mut right = 0;
    for i in 0..20 {
        let (png, label) = digit_png(&test, i);
        let reply = request(addr, "POST", "/api/predict", &png);
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(
            reply.head.contains("content-type: application/json"),
            "{}",
            reply.head
        );
        let json = reply.json();
        let p: Vec<f64> = serde_json::from_value(json["probabilities"].clone()).unwrap();
        assert_eq!(p.len(), 10);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{p:?}");
        let digit = json["digit"].as_u64().unwrap();
        right += usize::from(digit == u64::from(label));
        if i < 3 {
            let path = dir.path().join(format!("d{i}.png"));
            std::fs::write(&path, &png).unwrap();
            let text = common::stdout(&ok(run(
                dir.path(),
                &["predict", "model.json", path.to_str().unwrap()],
            )));
            assert!(
                text.starts_with(&format!("Digit: {digit}\n")),
                "{text} vs {json}"
            );
        }
    }
    assert!(right >= 16, "only {right} of 20 digits recognised");

    // Hostile bodies: a clear 4xx each.
    let not_png = request(addr, "POST", "/api/predict", b"GIF89a, not a PNG at all");
    assert!(not_png.error(415).contains("not a readable PNG"));
    assert!(
        request(addr, "POST", "/api/predict", b"")
            .error(400)
            .contains("empty")
    );
    let huge = vec![0u8; 50 << 20];
    assert!(
        request(addr, "POST", "/api/predict", &huge)
            .error(413)
            .contains("limit")
    );
    let bomb = request(
        addr,
        "POST",
        "/api/predict",
        &declared_png(100_000, 100_000),
    );
    assert!(bomb.error(413).contains("100000x100000"));
    let thin = request(addr, "POST", "/api/predict", &declared_png(1, 100_000));
    assert!(thin.error(413).contains("1x100000"));
    let truncated = declared_png(200, 200);
    let truncated = request(addr, "POST", "/api/predict", &truncated);
    assert!(
        truncated.status == 415 || truncated.status == 422,
        "{}",
        truncated.status
    );
    truncated.error(truncated.status);
    assert!(
        request(addr, "GET", "/api/nothing", b"")
            .error(404)
            .contains("no such API")
    );

    // A negative control: a good picture is not refused by the same client.
    let (png, _) = digit_png(&test, 0);
    assert_eq!(request(addr, "POST", "/api/predict", &png).status, 200);

    // The page, the model and the data files.
    let page = request(addr, "GET", "/", b"");
    assert_eq!(page.status, 200);
    assert!(page.head.contains("text/html"), "{}", page.head);
    let model = request(addr, "GET", "/api/model", b"").json();
    assert_eq!(model["sizes"], serde_json::json!([784, 30, 10]));
    let labels = request(addr, "GET", "/data/t10k-labels-idx1-ubyte.gz", b"");
    assert_eq!(labels.status, 200);
    let on_disk = nn_data::mnist::find_file(&data, &nn_data::mnist::MNIST_FILES[3]).unwrap();
    assert_eq!(labels.body, std::fs::read(on_disk).unwrap());
    assert_eq!(request(addr, "GET", "/data/passwd", b"").status, 404);

    // 50 clients at once, each with a picture: all answered, the same class for the same one.
    let (png, _) = digit_png(&test, 1);
    let expected = request(addr, "POST", "/api/predict", &png).json()["digit"].clone();
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let png = png.clone();
            std::thread::spawn(move || request(addr, "POST", "/api/predict", &png))
        })
        .collect();
    for client in clients {
        let reply = client.join().unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.json()["digit"], expected);
    }

    // Slow clients: a body that stops coming gets 408 after the timeout, headers that stop
    // coming get the connection closed, and so do a connection that never sends a byte and
    // one left idle after a keep-alive request; the server answers others meanwhile.
    let silent = TcpStream::connect(addr).unwrap();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut slow_body = TcpStream::connect(addr).unwrap();
    slow_body
        .write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n\x89PNG")
        .unwrap();
    let mut slow_head = TcpStream::connect(addr).unwrap();
    slow_head
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    assert_eq!(request(addr, "POST", "/api/predict", &png).status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    let timed_out = read_response(slow_body.try_clone().unwrap());
    assert!(timed_out.error(408).contains("did not arrive"));
    slow_head
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow_head.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a stalled client held on"
    );
    for (name, mut stream) in [("silent", silent), ("idle", idle)] {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut answer = Vec::new();
        let closed = stream.read_to_end(&mut answer);
        assert!(
            closed.is_ok(),
            "the {name} connection was not closed: {closed:?}"
        );
        if name == "idle" {
            assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a silent or idle connection held on"
    );

    // Still up, and SIGTERM stops it cleanly.
    assert_eq!(request(addr, "POST", "/api/predict", &png).status, 200);
    let mut served = served;
    let pid = served.child.id().to_string();
    ok(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .output()
        .unwrap());
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    served
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("stopped on SIGTERM"), "{stderr}");
}

#[test]
fn serve_without_a_model_says_so_and_refuses_a_taken_port() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir();
    let served = serve(dir.path(), &["--data", data.to_str().unwrap()]);
    let info = request(served.addr, "GET", "/api/info", b"").json();
    assert_eq!(info["model"], serde_json::Value::Null);
    let reply = request(served.addr, "POST", "/api/predict", b"\x89PNG");
    assert!(reply.error(404).contains("--model"));
    let port = served.addr.port().to_string();
    let taken = run(
        dir.path(),
        &["serve", "--port", &port, "--data", data.to_str().unwrap()],
    );
    common::assert_refused(&taken, &["cannot listen on"]);
}
