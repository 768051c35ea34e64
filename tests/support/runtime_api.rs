//! A Lambda Runtime API endpoint on 127.0.0.1, served by the test, so a built
//! `bootstrap` runs as Lambda runs it: one process that polls for events,
//! answers each, and stays warm in between.
//!
//! It implements what a custom runtime uses (the Lambda Developer Guide,
//! "Using the Lambda runtime API for custom runtimes", API version
//! 2018-06-01):
//! - `GET /2018-06-01/runtime/invocation/next` -> the event, with the
//!   `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (epoch
//!   milliseconds), `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id` headers; it waits until there is one;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`
//!   -> 202, recorded for that request id (an unknown id -> 400; a response
//!   over Lambda's 6 MiB is recorded as the error Lambda would make of it);
//! - `POST /2018-06-01/runtime/init/error` -> 202, recorded.
//!
//! HTTP/1.1 with keep-alive, `Content-Length` and chunked request bodies; one
//! thread per connection. Every wait is bounded, and dropping the server
//! stops its threads.
// Shared by two test crates; each uses a part.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The ARN the function is told it was invoked as.
pub const FUNCTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:cwl-firehose-LogsProcessorFunction";
/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(200);
/// Lambda's limit on a synchronous invocation's response: a larger one
/// fails the invocation (Function.ResponseSizeTooLarge), here too.
pub const MAX_RESPONSE: usize = 6 << 20;
/// Larger requests are not read at all (a guard for the test, not Lambda's).
const MAX_BODY: usize = 16 << 20;

/// What the function sent for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(Vec<u8>),
    /// `Lambda-Runtime-Function-Error-Type` and the error document.
    Error {
        error_type: Option<String>,
        body: Vec<u8>,
    },
}

/// One answered invocation.
#[derive(Debug)]
pub struct Invocation {
    pub outcome: Outcome,
    /// From the moment `/next` handed the event out to the moment the
    /// answer was read (the function's work plus moving both bodies over
    /// loopback).
    pub elapsed: Duration,
}

/// Starts `bootstrap` as Lambda starts a `provided.al2023` function: an
/// empty environment but for the variables Lambda defines (the Developer
/// Guide's "Defined runtime environment variables") and the function's own
/// `env`, in its task root, pointed at `api`. Dummy credentials and a dead
/// AWS endpoint unless `env` says otherwise: nothing may reach AWS. Its
/// stdout and stderr (the summary and EMF lines) go to `log`.
pub fn spawn_function(
    bootstrap: &Path,
    api: &RuntimeApi,
    memory_mb: u32,
    env: &[(String, String)],
    log: &Path,
) -> Child {
    let log = std::fs::File::create(log).unwrap();
    let task_root = bootstrap.parent().unwrap();
    let mut cmd = Command::new(bootstrap);
    cmd.env_clear()
        .current_dir(task_root)
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", api.address().as_str()),
            (
                "AWS_LAMBDA_FUNCTION_NAME",
                "cwl-firehose-LogsProcessorFunction",
            ),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/cwl-firehose-LogsProcessorFunction",
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef",
            ),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("_HANDLER", "bootstrap"),
            ("LAMBDA_TASK_ROOT", task_root.to_str().unwrap()),
            ("LAMBDA_RUNTIME_DIR", task_root.to_str().unwrap()),
            ("LANG", "en_US.UTF-8"),
            ("TZ", ":UTC"),
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    cmd.spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", bootstrap.display()))
}

struct Pending {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    handed_out: HashMap<String, Instant>,
    answers: HashMap<String, Invocation>,
    init_error: Option<Vec<u8>>,
    next_polls: usize,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    invocations: usize,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let shared = shared.clone();
                        std::thread::spawn(move || serve(stream, &shared));
                    }
                }
            })
        };
        Self {
            addr,
            shared,
            acceptor: Some(acceptor),
            invocations: 0,
        }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (host:port, no scheme).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Sends `event` to the function with `timeout` until its deadline and
    /// waits for the answer, for at most the timeout plus a second. `alive`
    /// is asked between waits, so a function that exits fails fast.
    pub fn invoke(
        &mut self,
        event: Vec<u8>,
        timeout: Duration,
        mut alive: impl FnMut() -> bool,
    ) -> Result<Invocation, String> {
        self.invocations += 1;
        let request_id = format!(
            "8476a536-e9f4-11e8-9739-{:012x}",
            self.invocations as u64 + 0x2d_0000_0000
        );
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut state = self.shared.state.lock().unwrap();
        state.queue.push_back(Pending {
            request_id: request_id.clone(),
            event,
            deadline_ms: now_ms + timeout.as_millis() as u64,
        });
        self.shared.changed.notify_all();
        let give_up = Instant::now() + timeout + Duration::from_secs(1);
        loop {
            if let Some(answer) = state.answers.remove(&request_id) {
                return Ok(answer);
            }
            if Instant::now() >= give_up {
                return Err(format!("no answer to {request_id} within {timeout:?}"));
            }
            if !alive() {
                return Err(format!("the function exited before answering {request_id}"));
            }
            state = self.shared.changed.wait_timeout(state, TICK).unwrap().0;
        }
    }

    /// The body of a `/runtime/init/error` report, if the function sent one.
    pub fn init_error(&self) -> Option<Vec<u8>> {
        self.shared.state.lock().unwrap().init_error.clone()
    }

    /// How many `/next` requests arrived (a function that failed its init
    /// never asks).
    pub fn next_polls(&self) -> usize {
        self.shared.state.lock().unwrap().next_polls
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wakes the blocking accept so the acceptor sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One connection: requests in order until the client closes it or the
/// server stops.
fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(TICK));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf, shared) {
        let reply = handle(request, shared);
        let Some((status, headers, body)) = reply else {
            return; // stopping while a /next waited
        };
        let mut head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
            return;
        }
    }
}

type Reply = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

fn handle(request: Request, shared: &Shared) -> Option<Reply> {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let accepted = || Some(("202 Accepted", Vec::new(), br#"{"status":"OK"}"#.to_vec()));
    let route = request.path.strip_prefix(PREFIX).unwrap_or("");
    match (request.method.as_str(), route) {
        ("GET", "invocation/next") => {
            let mut state = shared.state.lock().unwrap();
            state.next_polls += 1;
            let pending = loop {
                if let Some(p) = state.queue.pop_front() {
                    break p;
                }
                if shared.stop.load(Ordering::SeqCst) {
                    return None;
                }
                state = shared.changed.wait_timeout(state, TICK).unwrap().0;
            };
            state
                .handed_out
                .insert(pending.request_id.clone(), Instant::now());
            let headers = vec![
                ("lambda-runtime-aws-request-id", pending.request_id.clone()),
                (
                    "lambda-runtime-deadline-ms",
                    pending.deadline_ms.to_string(),
                ),
                (
                    "lambda-runtime-invoked-function-arn",
                    FUNCTION_ARN.to_string(),
                ),
                (
                    "lambda-runtime-trace-id",
                    format!(
                        "Root=1-5bef4de7-{:024};Parent=9a9197af755a6419;Sampled=1",
                        state.handed_out.len()
                    ),
                ),
            ];
            Some(("200 OK", headers, pending.event))
        }
        ("POST", "init/error") => {
            shared.state.lock().unwrap().init_error = Some(request.body);
            shared.changed.notify_all();
            accepted()
        }
        ("POST", rest) if rest.starts_with("invocation/") => {
            let rest = &rest["invocation/".len()..];
            let (id, kind) = rest.rsplit_once('/').unwrap_or((rest, ""));
            let mut state = shared.state.lock().unwrap();
            let Some(started) = state.handed_out.remove(id) else {
                return Some((
                    "400 Bad Request",
                    Vec::new(),
                    br#"{"errorMessage":"unknown or already answered request id","errorType":"InvalidRequestID"}"#.to_vec(),
                ));
            };
            let outcome = match kind {
                "response" if request.body.len() > MAX_RESPONSE => Outcome::Error {
                    error_type: Some("Function.ResponseSizeTooLarge".to_string()),
                    body: format!("response of {} bytes", request.body.len()).into_bytes(),
                },
                "response" => Outcome::Response(request.body),
                "error" => Outcome::Error {
                    error_type: request
                        .header("lambda-runtime-function-error-type")
                        .map(str::to_string),
                    body: request.body,
                },
                _ => {
                    state.handed_out.insert(id.to_string(), started);
                    return Some(("404 Not Found", Vec::new(), b"{}".to_vec()));
                }
            };
            let elapsed = started.elapsed();
            state
                .answers
                .insert(id.to_string(), Invocation { outcome, elapsed });
            shared.changed.notify_all();
            accepted()
        }
        _ => Some(("404 Not Found", Vec::new(), b"{}".to_vec())),
    }
}

/// Reads one request (head and body) from the connection; `None` when it
/// closes, is malformed, or the server stops. `buf` keeps bytes that
/// arrived past this request.
fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 << 10 || !fill(stream, buf, shared) {
            return None;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        request.body = read_chunked(stream, buf, shared)?;
    } else {
        let len: usize = request
            .header("content-length")
            .unwrap_or("0")
            .parse()
            .ok()?;
        if len > MAX_BODY {
            return None;
        }
        while buf.len() < len {
            if !fill(stream, buf, shared) {
                return None;
            }
        }
        request.body = buf.drain(..len).collect();
    }
    Some(request)
}

fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            if !fill(stream, buf, shared) {
                return None;
            }
        };
        let line = std::str::from_utf8(&buf[..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers (ignored) up to the empty line.
            loop {
                let end = loop {
                    if let Some(i) = find(buf, b"\r\n") {
                        break i;
                    }
                    if !fill(stream, buf, shared) {
                        return None;
                    }
                };
                buf.drain(..end + 2);
                if end == 0 {
                    return Some(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        while buf.len() < size + 2 {
            if !fill(stream, buf, shared) {
                return None;
            }
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

/// Reads more bytes into `buf`; false on close, error, or stop.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> bool {
    let mut chunk = [0u8; 64 << 10];
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
