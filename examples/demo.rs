//! `cargo run --release --example demo`: a real `dl fetch` run against a server on 127.0.0.1
//! that this example starts itself, so it works on a machine without internet access.
//! Extra arguments go to `dl fetch` (e.g. `-- --json`, `-- --progress plain`).
#![allow(clippy::print_stderr)]

use clap::Parser;
use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Serves `/fNN.bin` (NN KiB of bytes, sent slowly enough to watch) on a loopback port.
fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut stream = stream;
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 2 {
                        line.clear();
                    }
                    let path = request.split(' ').nth(1).unwrap_or("/");
                    let kib: usize = path
                        .trim_start_matches("/f")
                        .trim_end_matches(".bin")
                        .parse()
                        .unwrap_or(1);
                    let body: Vec<u8> = (0..kib * 1024).map(|i| (i * 31 % 251) as u8).collect();
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    if stream.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    for chunk in body.chunks(64 * 1024) {
                        std::thread::sleep(Duration::from_millis(40));
                        if stream.write_all(chunk).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn main() -> ExitCode {
    let base = serve();
    let work = std::env::temp_dir().join(format!("dl-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("create demo directory");
    let list = work.join("urls.txt");
    let mut urls = String::from("# a URL list: one URL per line\n");
    for i in 1..=24 {
        urls.push_str(&format!("{base}/f{:02}.bin\n", i * 40));
    }
    std::fs::write(&list, urls).expect("write the URL list");
    let dir = work.join("downloads");
    let mut args: Vec<String> = ["dl", "fetch", "--workers", "4", "--dir"]
        .map(String::from)
        .to_vec();
    args.push(dir.display().to_string());
    args.push(list.display().to_string());
    args.extend(std::env::args().skip(1));
    eprintln!(
        "dl demo: serving test files on {base}; downloading into {}",
        dir.display()
    );
    let cli = dl::cli::Cli::parse_from(args);
    dl::logging::init(cli.verbosity());
    match dl::app::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("dl: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
