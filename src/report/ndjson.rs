//! NDJSON progress: every event as one JSON object per line on stderr, with the file's `path`
//! (and on `queued`, its `url`) so each line stands on its own.

use crate::event::Event;
use crate::plan::Plan;
use serde::Serialize;
use std::io::Write;

pub(super) struct Ndjson {
    out: std::io::BufWriter<crate::stdio::Stream>,
}

impl Default for Ndjson {
    fn default() -> Self {
        Ndjson {
            out: std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stderr()),
        }
    }
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    event: &'a Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl Ndjson {
    pub(super) fn on_event(&mut self, event: &Event, plan: &Plan) {
        let file = event.file().map(|id| plan.file(id));
        let line = Line {
            event,
            path: file.map(|f| f.path()),
            url: match event {
                Event::Queued { .. } => file.map(|f| f.shown_url()),
                _ => None,
            },
        };
        if serde_json::to_writer(&mut self.out, &line).is_ok() {
            let _ = self.out.write_all(b"\n");
        }
    }

    pub(super) fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
