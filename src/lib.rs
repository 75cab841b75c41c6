//! `dl` downloads many files over HTTP(S) at once: prioritised, retried, verified, and never
//! leaving a partial file under its final name. This crate is the engine behind the `dl`
//! command, usable on its own:
//!
//! ```
//! # fn serve() -> String {
//! #     // A tiny HTTP server on 127.0.0.1 that answers every path with its own name.
//! #     use std::io::{BufRead, BufReader, Write};
//! #     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! #     let addr = listener.local_addr().unwrap();
//! #     std::thread::spawn(move || {
//! #         for stream in listener.incoming().flatten() {
//! #             std::thread::spawn(move || {
//! #                 let mut reader = BufReader::new(stream.try_clone().unwrap());
//! #                 let mut request = String::new();
//! #                 reader.read_line(&mut request).unwrap();
//! #                 let path = request.split(' ').nth(1).unwrap_or("/").to_string();
//! #                 let mut line = String::new();
//! #                 while reader.read_line(&mut line).unwrap() > 2 { line.clear(); }
//! #                 let mut stream = stream;
//! #                 write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{path}", path.len()).unwrap();
//! #             });
//! #         }
//! #     });
//! #     format!("http://{addr}")
//! # }
//! # let dir = tempfile::tempdir().unwrap();
//! # let dir = dir.path();
//! let base = serve(); // e.g. "http://127.0.0.1:8080"
//! let plan = dl::Plan::from_urls(dir, [format!("{base}/a.txt"), format!("{base}/b.txt")])
//!     .expect("valid URLs");
//! let engine = dl::Engine::new(dl::EngineConfig::default()).expect("HTTP client");
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let summary = runtime.block_on(engine.download(plan, |_event| {}));
//!
//! assert!(summary.ok);
//! assert_eq!(summary.stats.completed, 2);
//! assert_eq!(std::fs::read_to_string(dir.join("b.txt")).unwrap(), "/b.txt");
//! ```
//!
//! Data flows one way: `input` (sources → `FileSpec`s) → `plan` (validated `FileConfig`s) →
//! `queue` → `engine` workers → `Event`s → `tracker`/`report` → `RunSummary` → `exit`.

pub mod app;
pub mod checksum;
pub mod cli;
mod download;
pub mod engine;
pub mod error;
pub mod event;
pub mod exit;
pub mod generate;
pub mod input;
pub mod logging;
pub mod paths;
pub mod plan;
pub mod policy;
pub mod queue;
pub mod report;
pub mod sanitize;
pub mod secret;
pub mod settings;
pub mod signal;
pub mod stdio;
pub mod summary;
pub mod tracker;
pub mod units;

pub use engine::{Cancel, Engine, EngineConfig, OnExist, RetryPolicy};
pub use error::{Diagnostic, Error, FailureKind, FileError};
pub use event::Event;
pub use plan::{FileConfig, FileId, Plan};
pub use summary::{FileReport, FileStatus, RunSummary, SkipReason, Stats};
