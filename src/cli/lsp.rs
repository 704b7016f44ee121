//! `carepath lsp`: the editor server, speaking the Language Server Protocol
//! over standard input and output.
//!
//! The answers come from `carepath::editor`; this file reads messages,
//! reads files from disk for it (an open document is read from the
//! editor's text instead), and writes responses and diagnostics. Messages
//! are framed and parsed here rather than by `lsp-server`'s own transport,
//! which ends the connection on the first malformed message and allocates
//! whatever length a header claims: a bad frame, bad JSON, an unknown
//! method or bad parameters get an error response (or, for a notification,
//! are ignored) and the server keeps serving. A panic while answering one
//! request is answered as an internal error.

use std::io::{self, BufRead, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use carepath::editor::{Editor, Publish, Refusal, uri};
use carepath::model::ReadError;
use lsp_server::{ErrorCode, Message, Notification, Request};
use lsp_types::{
    CompletionOptions, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentSymbolParams, GotoDefinitionParams, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, OneOf, PublishDiagnosticsParams,
    ReferenceParams, RenameOptions, RenameParams, ServerCapabilities, ServerInfo,
    TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use serde_json::{Value, json};

use super::Status;
use super::input::{expand, read_text};
use super::output::StdoutStream;

/// The largest message read: far above any protocol, far below what would
/// exhaust memory.
const MAX_MESSAGE: usize = 64 << 20;
/// The longest header line.
const MAX_HEADER: usize = 1024;

#[derive(clap::Args)]
pub struct Args {
    /// Speak over standard input and output (the only transport; accepted
    /// because editors pass it).
    #[arg(long)]
    pub stdio: bool,
}

/// One message from the client, or why it could not be read.
enum Incoming {
    Message(Message),
    /// Answered with an error: the id (`null` when it cannot be known).
    Bad {
        id: Value,
        code: ErrorCode,
        message: String,
    },
}

pub fn run(_args: Args) -> Status {
    let (tx, rx) = mpsc::sync_channel::<Incoming>(16);
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = stdin.lock();
        loop {
            match read_frame(&mut input) {
                Ok(Some(frame)) => {
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
                // End of input, or input that can no longer be read.
                Ok(None) | Err(_) => return,
            }
        }
    });
    let mut server = Server {
        editor: Editor::new(),
        state: State::Uninitialized,
        folders: Vec::new(),
        out: StdoutStream::new(),
    };
    for incoming in rx {
        let step = match incoming {
            Incoming::Message(m) => server.handle(m),
            Incoming::Bad { id, code, message } => server.error(id, code, &message),
        };
        match step {
            Ok(Some(status)) => return status,
            Ok(None) => {}
            // The client has gone: nothing more can be said.
            Err(_) => return Status::Errors,
        }
    }
    // Input ended without `exit`.
    Status::Errors
}

/// Read one framed message: headers, a blank line, `Content-Length` bytes.
/// `Ok(None)` at the end of input.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let bad = |message: String| Incoming::Bad {
        id: Value::Null,
        code: ErrorCode::ParseError,
        message,
    };
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = input
            .by_ref()
            .take(MAX_HEADER as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") {
            // An over-long header line: skip the rest of it.
            let mut rest = Vec::new();
            input.read_until(b'\n', &mut rest)?;
            return Ok(Some(bad("a header line is too long".into())));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            // Blank lines between messages are skipped.
            continue;
        }
        saw_header = true;
        let Some((name, value)) = text.split_once(':') else {
            return Ok(Some(bad(format!(
                "malformed header line `{}`",
                text.escape_debug()
            ))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`{}` is not a length", value.trim().escape_debug())),
            );
        }
    }
    let length = match length {
        None => return Ok(Some(bad("the message has no Content-Length header".into()))),
        Some(Err(e)) => return Ok(Some(bad(e))),
        Some(Ok(n)) => n,
    };
    if length > MAX_MESSAGE {
        io::copy(&mut input.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(Some(Incoming::Bad {
            id: Value::Null,
            code: ErrorCode::InvalidRequest,
            message: format!(
                "a message of {length} bytes is larger than the {MAX_MESSAGE} allowed"
            ),
        }));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    let Ok(body) = String::from_utf8(body) else {
        return Ok(Some(bad("the message is not UTF-8".into())));
    };
    Ok(Some(parse_message(&body)))
}

/// A message's JSON as a request, notification or response.
fn parse_message(body: &str) -> Incoming {
    // serde_json refuses nesting deeper than 128 levels, so hostile JSON
    // is an error here rather than a deep recursion.
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Bad {
                id: Value::Null,
                code: ErrorCode::ParseError,
                message: format!("the message is not JSON: {e}"),
            };
        }
    };
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let id_ok = match &id {
        Value::String(_) => true,
        Value::Number(n) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        Value::Null => value.get("id").is_none(),
        _ => false,
    };
    let invalid = |message: &str| Incoming::Bad {
        id: if matches!(id, Value::String(_) | Value::Number(_)) {
            id.clone()
        } else {
            Value::Null
        },
        code: ErrorCode::InvalidRequest,
        message: message.to_string(),
    };
    if !value.is_object() {
        return invalid("a message is a JSON object");
    }
    if !id_ok {
        return invalid("a request id is a string or a 32-bit integer");
    }
    if value.get("method").is_some_and(|m| !m.is_string()) {
        return invalid("a method is a string");
    }
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(_) => invalid("the message is neither a request, a response nor a notification"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    ShuttingDown,
}

struct Server {
    editor: Editor,
    state: State,
    /// The editor's workspace folders, whose files imports may be read
    /// from and references are searched in.
    folders: Vec<PathBuf>,
    out: StdoutStream,
}

/// An error answer to a request.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn params(message: impl Into<String>) -> Failure {
        Failure {
            code: ErrorCode::InvalidParams,
            message: message.into(),
        }
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Failure {
        let code = match r {
            Refusal::BadPosition(_) => ErrorCode::InvalidParams,
            Refusal::Unreadable(..) | Refusal::Rename(_) => ErrorCode::RequestFailed,
        };
        Failure {
            code,
            message: r.to_string(),
        }
    }
}

type Step = io::Result<Option<Status>>;

impl Server {
    fn write(&mut self, value: &Value) -> io::Result<()> {
        let text = value.to_string();
        write!(self.out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
        self.out.flush()
    }

    fn error(&mut self, id: Value, code: ErrorCode, message: &str) -> Step {
        self.write(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code as i32, "message": message},
        }))?;
        Ok(None)
    }

    fn handle(&mut self, message: Message) -> Step {
        match message {
            Message::Request(r) => self.request(r),
            Message::Notification(n) => self.notification(n),
            // The server sends no requests, so no response is awaited.
            Message::Response(_) => Ok(None),
        }
    }

    fn request(&mut self, r: Request) -> Step {
        let id = serde_json::to_value(&r.id).unwrap_or(Value::Null);
        let answer = match (self.state, r.method.as_str()) {
            (State::Uninitialized, "initialize") => self.initialize(r.params),
            (State::Uninitialized, _) => Err(Failure {
                code: ErrorCode::ServerNotInitialized,
                message: "the server has not been initialized".into(),
            }),
            (State::ShuttingDown, _) => Err(Failure {
                code: ErrorCode::InvalidRequest,
                message: "the server is shutting down".into(),
            }),
            (State::Running, "initialize") => Err(Failure {
                code: ErrorCode::InvalidRequest,
                message: "the server is already initialized".into(),
            }),
            (State::Running, "shutdown") => {
                self.state = State::ShuttingDown;
                Ok(Value::Null)
            }
            (State::Running, method) => {
                let method = method.to_string();
                match catch_unwind(AssertUnwindSafe(|| self.query(&method, r.params))) {
                    Ok(answer) => answer,
                    Err(_) => Err(Failure {
                        code: ErrorCode::InternalError,
                        message: format!("the server failed while answering `{method}`"),
                    }),
                }
            }
        };
        let response = match answer {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(f) => json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": f.code as i32, "message": f.message},
            }),
        };
        self.write(&response)?;
        Ok(None)
    }

    fn initialize(&mut self, params: Value) -> Result<Value, Failure> {
        let params: InitializeParams =
            serde_json::from_value(params).map_err(|e| Failure::params(e.to_string()))?;
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .unwrap_or_default()
            .iter()
            .filter_map(|f| uri::to_path(&f.uri))
            .collect();
        #[allow(deprecated)]
        if folders.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(uri::to_path)
        {
            folders.push(root);
        }
        let (found, _) = expand(&folders);
        self.editor
            .set_known_files(found.into_iter().map(|i| i.path).collect());
        self.folders = folders;
        self.state = State::Running;
        let capabilities = ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![" ".into(), "(".into(), ",".into()]),
                ..Default::default()
            }),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            document_symbol_provider: Some(OneOf::Left(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            ..Default::default()
        };
        let result = InitializeResult {
            capabilities,
            server_info: Some(ServerInfo {
                name: "carepath".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        };
        Ok(serde_json::to_value(result).expect("an initialize result is JSON"))
    }

    fn query(&self, method: &str, params: Value) -> Result<Value, Failure> {
        let mut read = disk_reader(&self.folders);
        match method {
            "textDocument/hover" => {
                let p: HoverParams = parse(params)?;
                let (path, pos) = position(&p.text_document_position_params)?;
                json(self.editor.hover(&path, pos, &mut read))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = parse(params)?;
                let (path, pos) = position(&p.text_document_position_params)?;
                json(self.editor.definition(&path, pos, &mut read))
            }
            "textDocument/references" => {
                let p: ReferenceParams = parse(params)?;
                let (path, pos) = position(&p.text_document_position)?;
                json(
                    self.editor
                        .references(&path, pos, p.context.include_declaration, &mut read),
                )
            }
            "textDocument/completion" => {
                let p: lsp_types::CompletionParams = parse(params)?;
                let (path, pos) = position(&p.text_document_position)?;
                json(self.editor.completion(&path, pos, &mut read))
            }
            "textDocument/prepareRename" => {
                let p: TextDocumentPositionParams = parse(params)?;
                let (path, pos) = position(&p)?;
                json(self.editor.prepare_rename(&path, pos, &mut read))
            }
            "textDocument/rename" => {
                let p: RenameParams = parse(params)?;
                let (path, pos) = position(&p.text_document_position)?;
                json(self.editor.rename(&path, pos, &p.new_name, &mut read))
            }
            "textDocument/documentSymbol" => {
                let p: DocumentSymbolParams = parse(params)?;
                let path = path_of(&p.text_document.uri)?;
                json(self.editor.symbols(&path, &mut read))
            }
            "textDocument/formatting" => {
                let p: lsp_types::DocumentFormattingParams = parse(params)?;
                let path = path_of(&p.text_document.uri)?;
                json(self.editor.format(&path, &mut read))
            }
            _ => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("`{method}` is not a method this server answers"),
            }),
        }
    }

    fn notification(&mut self, n: Notification) -> Step {
        if n.method == "exit" {
            return Ok(Some(if self.state == State::ShuttingDown {
                Status::Ok
            } else {
                Status::Errors
            }));
        }
        if self.state != State::Running {
            return Ok(None);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.document_event(&n.method, n.params)
        }));
        match outcome {
            Ok(Some(published)) => {
                for p in published {
                    let params = PublishDiagnosticsParams {
                        uri: p.uri,
                        diagnostics: p.diagnostics,
                        version: p.version,
                    };
                    self.write(&json!({
                        "jsonrpc": "2.0",
                        "method": "textDocument/publishDiagnostics",
                        "params": params,
                    }))?;
                }
            }
            // A notification with bad parameters, or one this server does
            // not know, is ignored, as the protocol says.
            Ok(None) => {}
            Err(_) => super::output::err(&format!(
                "carepath lsp: failed while handling `{}`\n",
                n.method.escape_debug()
            )),
        }
        Ok(None)
    }

    /// The diagnostics to publish after a document event, or `None` for a
    /// notification that is not one (or cannot be read).
    fn document_event(&mut self, method: &str, params: Value) -> Option<Vec<Publish>> {
        let mut read = disk_reader(&self.folders);
        match method {
            "textDocument/didOpen" => {
                let p: DidOpenTextDocumentParams = serde_json::from_value(params).ok()?;
                let path = uri::to_path(&p.text_document.uri)?;
                let doc = p.text_document;
                Some(self.editor.open(path, doc.text, doc.version, &mut read))
            }
            "textDocument/didChange" => {
                let p: DidChangeTextDocumentParams = serde_json::from_value(params).ok()?;
                let path = uri::to_path(&p.text_document.uri)?;
                // Full synchronisation: the last change holds the whole text.
                let text = p.content_changes.into_iter().last()?.text;
                Some(
                    self.editor
                        .change(&path, text, p.text_document.version, &mut read),
                )
            }
            "textDocument/didClose" => {
                let p: DidCloseTextDocumentParams = serde_json::from_value(params).ok()?;
                let path = uri::to_path(&p.text_document.uri)?;
                Some(self.editor.close(&path, &mut read))
            }
            // Files changed on disk: what the open files import may have.
            "workspace/didChangeWatchedFiles" => Some(self.editor.refresh(&mut read)),
            _ => None,
        }
    }
}

fn json<T: serde::Serialize>(answer: Result<T, Refusal>) -> Result<Value, Failure> {
    Ok(serde_json::to_value(answer?).expect("answers are JSON"))
}

fn parse<T: serde::de::DeserializeOwned>(params: Value) -> Result<T, Failure> {
    serde_json::from_value(params).map_err(|e| Failure::params(format!("bad parameters: {e}")))
}

fn path_of(u: &Uri) -> Result<PathBuf, Failure> {
    uri::to_path(u).ok_or_else(|| {
        Failure::params(format!(
            "`{}` is not a local file",
            u.as_str().escape_debug()
        ))
    })
}

fn position(p: &TextDocumentPositionParams) -> Result<(PathBuf, lsp_types::Position), Failure> {
    Ok((path_of(&p.text_document.uri)?, p.position))
}

/// Reads a file from disk for the workspace. A file reached through a
/// link must lie inside its own folder or a workspace folder, as `check`
/// keeps imports inside the folder it checks.
fn disk_reader(folders: &[PathBuf]) -> impl FnMut(&Path) -> Result<String, ReadError> + '_ {
    move |path: &Path| {
        let real = std::fs::canonicalize(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Other(super::input::describe(&e)),
        })?;
        let inside = |dir: &Path| std::fs::canonicalize(dir).is_ok_and(|d| real.starts_with(d));
        let own_dir = path.parent().unwrap_or(Path::new("/"));
        if !(inside(own_dir) || folders.iter().any(|f| inside(f))) {
            return Err(ReadError::OutsideRoot);
        }
        read_text(path)
    }
}
