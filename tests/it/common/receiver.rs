//! Local HTTP receivers for alert notices: a generic webhook that records what it gets, and a
//! stand-in for Gotify's `POST /message` that checks the application token the way Gotify does
//! (401 with its JSON error shape) and requires a non-empty `message`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// A webhook receiver answering 200 to everything.
    pub fn webhook() -> Self {
        Self::start(None)
    }

    /// A Gotify stand-in accepting `token`.
    pub fn gotify(token: &str) -> Self {
        Self::start(Some(token.to_string()))
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn start(gotify_token: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &log, gotify_token.as_deref());
            }
        });
        Self { url, got }
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Received>>, gotify_token: Option<&str>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let r = Received { method, path, headers, body };
    let (status, answer) = match gotify_token {
        None => (200, "{}".to_string()),
        Some(token) => {
            let key = r.header("x-gotify-key").map(str::to_string).or_else(|| {
                r.path.split_once("token=").map(|(_, t)| t.split('&').next().unwrap_or_default().to_string())
            });
            if r.method != "POST" || !r.path.starts_with("/message") {
                (404, r#"{"error":"Not Found","errorCode":404,"errorDescription":"page not found"}"#.to_string())
            } else if key.as_deref() != Some(token) {
                (
                    401,
                    r#"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token or user credentials to access this api"}"#
                        .to_string(),
                )
            } else if r.body.get("message").and_then(|m| m.as_str()).is_none_or(str::is_empty) {
                (
                    400,
                    r#"{"error":"Bad Request","errorCode":400,"errorDescription":"Field 'message' is required"}"#
                        .to_string(),
                )
            } else {
                (200, serde_json::json!({"id": 1, "appid": 1, "message": r.body["message"]}).to_string())
            }
        }
    };
    if status == 200 {
        log.lock().unwrap().push(r);
    }
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    out.flush()
}
