//! `carepath lsp` driven over standard input and output as an editor drives
//! it: messages framed with `Content-Length`, every response asserted in
//! full. Hostile input (bad frames, bad JSON, unknown methods, bad
//! parameters, positions a document does not have, very deep input) gets
//! an error response and the server goes on serving. The VS Code
//! extension's TextMate grammar is checked against the language's grammar.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::scratch;

/// The server, and the messages it writes, read on a thread of their own
/// so that a server that stops answering fails the test instead of hanging it.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_carepath"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if out.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    assert!(line.ends_with("\r\n"), "header lines end in CRLF: {line:?}");
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(": ").expect("a header");
                    assert_eq!(name, "Content-Length");
                    length = Some(value.parse::<usize>().expect("a length"));
                }
                let mut body = vec![0; length.expect("Content-Length")];
                out.read_exact(&mut body).expect("the body");
                let value = serde_json::from_slice(&body).expect("the server writes JSON");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("the server reads");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answers within a minute")
    }

    /// Send a request and return its whole response.
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.next();
        assert_eq!(
            response["id"],
            json!(id),
            "a response to {method}: {response}"
        );
        response
    }

    /// The result of a request that must succeed.
    fn call(&mut self, id: i64, method: &str, params: Value) -> Value {
        let response = self.request(id, method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The error of a request that must fail.
    fn refused(&mut self, id: i64, method: &str, params: Value) -> Value {
        let response = self.request(id, method, params);
        assert!(
            response.get("result").is_none(),
            "{method} answered: {response}"
        );
        response["error"].clone()
    }

    /// The diagnostics published next.
    fn published(&mut self) -> Value {
        let m = self.next();
        assert_eq!(m["method"], "textDocument/publishDiagnostics", "{m}");
        m["params"].clone()
    }

    fn exit(mut self) -> i32 {
        self.notify("exit", Value::Null);
        drop(self.stdin);
        self.child
            .wait()
            .expect("the server exits")
            .code()
            .expect("an exit status")
    }

    fn initialize(&mut self, root: &Path) -> Value {
        let result = self.call(
            1,
            "initialize",
            json!({"capabilities": {}, "rootUri": uri(root)}),
        );
        self.notify("initialized", json!({}));
        result
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The editor position of the `nth` (from 0) `needle` in `text`, plus
/// `offset` bytes: lines from 0, columns in UTF-16 units.
fn pos(text: &str, needle: &str, nth: usize, offset: usize) -> Value {
    let at = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} in the text"))
        .0
        + offset;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = before[line_start..].encode_utf16().count();
    json!({"line": line, "character": character})
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

const LIBRARY: &str = r#"library shared {
  title "Shared questions"
}

question harm "Was anyone hurt?" {
  answer one of { none "No one", minor "Minor injury", serious "Serious injury" }
  cite "4.2"
  note "Ask the staff on shift."
}
"#;

// Line 19 has text before `harm` whose UTF-16 length differs from its
// length in bytes and in characters (curly quotes, `£`, an emoji).
const PROTOCOL: &str = r#"import "lib.carepath"

protocol demo {
  title "Demo protocol"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}
setting home "Children's home" { no route "not part of this test" }
level low "Low – handled at home" {
  police none
  example "A broken cup" { given harm == none }
  cite "6.1"
}
level high "High" {
  police report
  cite "6.2", "6.2.1"
}
rule minor "Minor “harm” £5 🚓" { when harm == minor then low }
rule serious "Serious harm" {
  when harm == serious
  then high
  cite "6.3"
}
"#;

fn fixture(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("lib.carepath"), LIBRARY).unwrap();
    std::fs::write(dir.join("main.carepath"), PROTOCOL).unwrap();
    dir
}

#[test]
fn an_editing_session_over_stdio() {
    let dir = fixture("lsp-session");
    let main = uri(&dir.join("main.carepath"));
    let lib = uri(&dir.join("lib.carepath"));
    let mut c = Client::start();

    let init = c.initialize(&dir);
    assert_eq!(
        init,
        json!({
            "capabilities": {
                "textDocumentSync": 1,
                "hoverProvider": true,
                "completionProvider": {"triggerCharacters": [" ", "(", ","]},
                "definitionProvider": true,
                "referencesProvider": true,
                "documentSymbolProvider": true,
                "documentFormattingProvider": true,
                "renameProvider": {"prepareProvider": true},
            },
            "serverInfo": {"name": "carepath", "version": env!("CARGO_PKG_VERSION")},
        })
    );

    // Open: the protocol checks cleanly.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main, "languageId": "carepath", "version": 1, "text": PROTOCOL}}),
    );
    assert_eq!(
        c.published(),
        json!({"uri": main, "diagnostics": [], "version": 1})
    );

    // A misspelt level: the error `check` reports, with its help.
    let broken = PROTOCOL.replace("then high", "then hihg");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    assert_eq!(
        c.published(),
        json!({
            "uri": main,
            "version": 2,
            "diagnostics": [{
                "range": range(22, 7, 22, 11),
                "severity": 1,
                "code": "carepath::unknown-name",
                "source": "carepath",
                "message": "`hihg` is not defined; a level is expected here\nhelp: did you mean `high`? the levels are `high` and `low`",
                "relatedInformation": [{
                    "location": {"uri": main, "range": range(22, 7, 22, 11)},
                    "message": "not defined",
                }],
            }],
        })
    );
    // Mended: the diagnostics are cleared.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{"text": PROTOCOL}]}),
    );
    assert_eq!(
        c.published(),
        json!({"uri": main, "diagnostics": [], "version": 3})
    );

    let at = |p: Value| json!({"textDocument": {"uri": main}, "position": p});

    // Hover on a question used after non-ASCII text on its line.
    let harm = pos(PROTOCOL, "harm == minor", 0, 2);
    assert_eq!(harm, json!({"line": 19, "character": 41}));
    assert_eq!(
        c.call(2, "textDocument/hover", at(harm.clone())),
        json!({
            "contents": {"kind": "markdown", "value": "question `harm`: **Was anyone hurt?**\n\nAnswers, one of: `none` (No one), `minor` (Minor injury), `serious` (Serious injury)\n\nCites 4.2\n\nNote: Ask the staff on shift."},
            "range": range(19, 39, 19, 43),
        })
    );
    // On a level: its police response and examples.
    assert_eq!(
        c.call(
            3,
            "textDocument/hover",
            at(pos(PROTOCOL, "otherwise low", 0, 11))
        ),
        json!({
            "contents": {"kind": "markdown", "value": "level `low`: **Low – handled at home**\n\nPolice response: **none**\n\nExamples:\n- A broken cup\n\nCites 6.1"},
            "range": range(7, 12, 7, 15),
        })
    );
    // On an answer: its title and question.
    assert_eq!(
        c.call(4, "textDocument/hover", at(pos(PROTOCOL, "== minor", 0, 4))),
        json!({
            "contents": {"kind": "markdown", "value": "answer `minor`: **Minor injury**\n\nof the question `harm`: Was anyone hurt?"},
            "range": range(19, 47, 19, 52),
        })
    );
    // Nothing to say about a keyword.
    assert_eq!(
        c.call(
            5,
            "textDocument/hover",
            at(pos(PROTOCOL, "police report", 0, 1))
        ),
        Value::Null
    );

    // Definition, across the import.
    assert_eq!(
        c.call(6, "textDocument/definition", at(harm.clone())),
        json!([{"uri": lib, "range": range(4, 9, 4, 13)}])
    );
    // References: the definition and every use, in both files.
    let mut refs = at(harm.clone());
    refs["context"] = json!({"includeDeclaration": true});
    assert_eq!(
        c.call(7, "textDocument/references", refs),
        json!([
            {"uri": lib, "range": range(4, 9, 4, 13)},
            {"uri": main, "range": range(12, 33, 12, 37)},
            {"uri": main, "range": range(19, 39, 19, 43)},
            {"uri": main, "range": range(21, 7, 21, 11)},
        ])
    );

    // Rename across files, and renames that are refused.
    assert_eq!(
        c.call(8, "textDocument/prepareRename", at(harm.clone())),
        range(19, 39, 19, 43)
    );
    let mut rename = at(harm.clone());
    rename["newName"] = json!("injury");
    assert_eq!(
        c.call(9, "textDocument/rename", rename),
        json!({"changes": {
            lib.clone(): [{"range": range(4, 9, 4, 13), "newText": "injury"}],
            main.clone(): [
                {"range": range(12, 33, 12, 37), "newText": "injury"},
                {"range": range(19, 39, 19, 43), "newText": "injury"},
                {"range": range(21, 7, 21, 11), "newText": "injury"},
            ],
        }})
    );
    let high = pos(PROTOCOL, "then high", 0, 6);
    let mut taken = at(high.clone());
    taken["newName"] = json!("low");
    let main_path = dir.join("main.carepath");
    assert_eq!(
        c.refused(10, "textDocument/rename", taken),
        json!({"code": -32803, "message": format!("`low` is already the name of a level ({}, line 11)", main_path.display())})
    );
    for (id, bad) in [(11, "2x"), (12, "a b"), (13, "")] {
        let mut invalid = at(high.clone());
        invalid["newName"] = json!(bad);
        assert_eq!(
            c.refused(id, "textDocument/rename", invalid),
            json!({"code": -32803, "message": format!("`{bad}` is not a name: a name starts with a letter and has only letters, digits, `-` and `_`")})
        );
    }
    let mut word = at(high);
    word["newName"] = json!("and");
    assert_eq!(
        c.refused(14, "textDocument/rename", word)["message"],
        "`and` is a word of the language and cannot be a name"
    );

    // The outline.
    assert_eq!(
        c.call(
            15,
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": main}})
        ),
        json!([
            {"name": "import lib.carepath", "kind": 4, "range": range(0, 0, 0, 21), "selectionRange": range(0, 7, 0, 21)},
            {"name": "demo", "kind": 1, "range": range(2, 0, 8, 1), "selectionRange": range(2, 9, 2, 13)},
            {"name": "home", "detail": "Children's home", "kind": 22, "range": range(9, 0, 9, 67), "selectionRange": range(9, 8, 9, 12)},
            {"name": "low", "detail": "Low – handled at home", "kind": 14, "range": range(10, 0, 14, 1), "selectionRange": range(10, 6, 10, 9),
             "children": [{"name": "A broken cup", "kind": 24, "range": range(12, 2, 12, 47), "selectionRange": range(12, 10, 12, 24)}]},
            {"name": "high", "detail": "High", "kind": 14, "range": range(15, 0, 18, 1), "selectionRange": range(15, 6, 15, 10)},
            {"name": "minor", "detail": "Minor “harm” £5 🚓", "kind": 12, "range": range(19, 0, 19, 63), "selectionRange": range(19, 5, 19, 10)},
            {"name": "serious", "detail": "Serious harm", "kind": 12, "range": range(20, 0, 24, 1), "selectionRange": range(20, 5, 20, 12)},
        ])
    );

    // Completion while typing a rule (the file does not parse meanwhile):
    // the answers of the question compared, then the levels after `then`.
    let typing = format!("{PROTOCOL}rule new \"New\" {{\n  when harm == m");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 4}, "contentChanges": [{"text": typing}]}),
    );
    assert_eq!(
        c.published()["diagnostics"][0]["code"],
        "carepath::syntax-error"
    );
    assert_eq!(
        c.call(
            16,
            "textDocument/completion",
            at(pos(&typing, "== m", 1, 4))
        ),
        json!([{"label": "minor", "kind": 20, "detail": "answer: Minor injury",
                "textEdit": {"range": range(26, 15, 26, 16), "newText": "minor"}}])
    );
    let typing = format!("{PROTOCOL}rule new \"New\" {{\n  when harm == minor\n  then ");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 5}, "contentChanges": [{"text": typing}]}),
    );
    c.published();
    assert_eq!(
        c.call(
            17,
            "textDocument/completion",
            at(pos(&typing, "then ", 2, 5))
        ),
        json!([
            {"label": "high", "kind": 21, "detail": "level: High", "textEdit": {"range": range(27, 7, 27, 7), "newText": "high"}},
            {"label": "low", "kind": 21, "detail": "level: Low – handled at home", "textEdit": {"range": range(27, 7, 27, 7), "newText": "low"}},
        ])
    );

    // Formatting: a file that does not parse is left alone; one laid out
    // otherwise becomes what `carepath fmt` makes of it, in one edit.
    let format_main =
        json!({"textDocument": {"uri": main}, "options": {"tabSize": 2, "insertSpaces": true}});
    assert_eq!(
        c.call(18, "textDocument/formatting", format_main.clone()),
        json!([])
    );
    let messy = PROTOCOL.replace("\n  ", "\n      ");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 6}, "contentChanges": [{"text": messy}]}),
    );
    c.published();
    let laid_out = carepath::syntax::format::format(&messy).expect("the messy text parses");
    assert_ne!(laid_out, messy);
    let last_line = messy.split('\n').count() - 1;
    let last_column = messy
        .split('\n')
        .next_back()
        .map_or(0, |l| l.encode_utf16().count());
    assert_eq!(
        c.call(19, "textDocument/formatting", format_main.clone()),
        json!([{"range": range(0, 0, last_line as u32, last_column as u32), "newText": laid_out}])
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 7}, "contentChanges": [{"text": laid_out}]}),
    );
    c.published();
    assert_eq!(
        c.call(20, "textDocument/formatting", format_main),
        json!([]),
        "formatting what is laid out changes nothing"
    );

    assert_eq!(c.call(21, "shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit(), 0, "exit after shutdown is status 0");
}

#[test]
fn an_open_library_is_seen_by_the_protocol_that_imports_it() {
    let dir = fixture("lsp-library");
    let main = uri(&dir.join("main.carepath"));
    let lib = uri(&dir.join("lib.carepath"));
    let mut c = Client::start();
    c.initialize(&dir);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main, "languageId": "carepath", "version": 1, "text": PROTOCOL}}),
    );
    c.published();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": lib, "languageId": "carepath", "version": 1, "text": LIBRARY}}),
    );
    assert_eq!(
        c.published(),
        json!({"uri": lib, "diagnostics": [], "version": 1})
    );
    // Removing an answer in the unsaved library breaks the protocol.
    let edited = LIBRARY.replace("minor \"Minor injury\", ", "");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": lib, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    // The edited file is published with its version, then the protocol,
    // whose diagnostics changed.
    assert_eq!(
        c.published(),
        json!({"uri": lib, "diagnostics": [], "version": 2})
    );
    let main_diags = c.published();
    assert_eq!(main_diags["uri"], json!(main));
    let codes: Vec<&Value> = main_diags["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("carepath::unknown-option")]);
    assert_eq!(main_diags["diagnostics"][0]["range"], range(19, 47, 19, 52));
    // Closing the library reads it from the disk again: the protocol is
    // clean, and only what changed is published.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": lib}}),
    );
    assert_eq!(
        c.published(),
        json!({"uri": main, "diagnostics": [], "version": 1})
    );
    // The library changed on disk: the protocol is checked again.
    std::fs::write(dir.join("lib.carepath"), &edited).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": lib, "type": 2}]}),
    );
    let after = c.published();
    assert_eq!(after["uri"], json!(main));
    assert_eq!(after["diagnostics"][0]["code"], "carepath::unknown-option");
    assert_eq!(c.call(2, "shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit(), 0);
}

const ROUTED: &str = r#"protocol demo {
  title "Demo protocol"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}
setting home "Children's home"
question harm "Was anyone hurt?" {
  answer one of { none "No one", minor "Minor injury", serious "Serious injury" }
  cite "4.2"
}
level low "Low" {
  police none
  cite "6.1"
}
level high "High" {
  police report
  cite "6.2"
}
rule serious "Serious harm" { when harm == serious then high cite "6.3" }
route home "At home" {
  for home
  start low, high -> how-hurt
  decision how-hurt "How badly was anyone hurt?" {
    on harm
    none -> done
    minor -> done
    serious -> tell
  }
  outcome tell "Tell the police"
  outcome done "Recorded"
  cite "6.4"
}
"#;

/// A decision `on` a question branches on its answers: each branch's
/// answer is a use of the question's option, found by definition,
/// references and rename.
#[test]
fn a_branch_answer_of_a_decision_on_a_question_is_its_option() {
    let dir = scratch("lsp-branch-answers");
    let main = uri(&dir.join("main.carepath"));
    std::fs::write(dir.join("main.carepath"), ROUTED).unwrap();
    let mut c = Client::start();
    c.initialize(&dir);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main, "languageId": "carepath", "version": 1, "text": ROUTED}}),
    );
    assert_eq!(
        c.published(),
        json!({"uri": main, "diagnostics": [], "version": 1})
    );
    let at = |p: Value| json!({"textDocument": {"uri": main}, "position": p});
    // `serious -> tell`: the option `serious` of `harm`, on line 9.
    let branch = pos(ROUTED, "serious -> tell", 0, 2);
    let option = range(9, 55, 9, 62);
    assert_eq!(
        c.call(2, "textDocument/definition", at(branch.clone())),
        json!([{"uri": main, "range": option}])
    );
    let mut refs = at(branch.clone());
    refs["context"] = json!({"includeDeclaration": false});
    assert_eq!(
        c.call(3, "textDocument/references", refs),
        json!([
            {"uri": main, "range": range(20, 43, 20, 50)},
            {"uri": main, "range": range(28, 4, 28, 11)},
        ])
    );
    // Renaming the option renames the branch, which would otherwise no
    // longer name an answer.
    let mut rename = at(branch);
    rename["newName"] = json!("grave");
    let edit = c.call(4, "textDocument/rename", rename);
    let mut ranges: Vec<Value> = edit["changes"][&main]
        .as_array()
        .expect("edits in the file")
        .iter()
        .map(|e| {
            assert_eq!(e["newText"], "grave");
            e["range"].clone()
        })
        .collect();
    ranges.sort_by_key(|r| {
        (
            r["start"]["line"].as_u64(),
            r["start"]["character"].as_u64(),
        )
    });
    assert_eq!(
        ranges,
        [option, range(20, 43, 20, 50), range(28, 4, 28, 11)]
    );
    // Another branch, another option.
    let none = pos(ROUTED, "none -> done", 0, 1);
    assert_eq!(
        c.call(5, "textDocument/definition", at(none)),
        json!([{"uri": main, "range": range(9, 18, 9, 22)}])
    );
    assert_eq!(c.call(6, "shutdown", Value::Null), Value::Null);
    assert_eq!(c.exit(), 0);
}

#[test]
fn hostile_requests_are_answered_and_the_server_keeps_serving() {
    let dir = fixture("lsp-hostile");
    let main = uri(&dir.join("main.carepath"));
    let mut c = Client::start();
    let at = |p: Value| json!({"textDocument": {"uri": main}, "position": p});

    // Before `initialize`, requests are refused and notifications ignored.
    c.notify("textDocument/didOpen", json!({}));
    assert_eq!(
        c.refused(
            1,
            "textDocument/hover",
            at(json!({"line": 0, "character": 0}))
        ),
        json!({"code": -32002, "message": "the server has not been initialized"})
    );
    // A bad `initialize` is refused; a good one then works.
    assert_eq!(
        c.refused(2, "initialize", json!({"capabilities": 5}))["code"],
        -32602
    );
    c.initialize(&dir);
    assert_eq!(
        c.refused(3, "initialize", json!({"capabilities": {}}))["code"],
        -32600
    );

    // Not JSON, JSON nested past any sense, and JSON that is no message.
    for body in [
        "{bad json".to_string(),
        format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
    ] {
        c.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        let m = c.next();
        assert_eq!(m["id"], Value::Null);
        assert_eq!(m["error"]["code"], -32700, "{m}");
    }
    for body in [
        "[1, 2]",
        r#"{"jsonrpc": "2.0", "id": {"x": 1}, "method": "shutdown"}"#,
        r#"{"jsonrpc": "2.0", "id": 7, "method": 12}"#,
    ] {
        c.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        assert_eq!(c.next()["error"]["code"], -32600, "{body}");
    }
    // Frames without a usable length.
    c.raw(b"Content-Type: x\r\n\r\n");
    assert_eq!(c.next()["error"]["code"], -32700);
    c.raw(b"Content-Length: lots\r\n\r\n");
    assert_eq!(c.next()["error"]["code"], -32700);
    c.raw(b"no colon here\r\n\r\n");
    assert_eq!(c.next()["error"]["code"], -32700);

    // Unknown methods, bad parameters, documents that are not files.
    assert_eq!(
        c.refused(4, "textDocument/teleport", json!({})),
        json!({"code": -32601, "message": "`textDocument/teleport` is not a method this server answers"})
    );
    assert_eq!(
        c.refused(5, "textDocument/hover", json!({"x": 1}))["code"],
        -32602
    );
    assert_eq!(
        c.refused(
            6,
            "textDocument/hover",
            json!({"textDocument": {"uri": "untitled:1"}, "position": {"line": 0, "character": 0}})
        )["code"],
        -32602
    );
    // An unknown notification and one with bad parameters are ignored.
    c.notify("$/somethingNew", json!({}));
    c.notify("textDocument/didChange", json!({"textDocument": 3}));

    // Positions the document does not have: past its lines, past a line's
    // end, inside a character of two UTF-16 units.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": main, "languageId": "carepath", "version": 1, "text": PROTOCOL}}),
    );
    c.published();
    let emoji = pos(PROTOCOL, "🚓", 0, 0);
    let inside =
        json!({"line": emoji["line"], "character": emoji["character"].as_u64().unwrap() + 1});
    for (id, p) in [
        (7, json!({"line": 9999, "character": 0})),
        (8, json!({"line": 0, "character": 500})),
        (9, inside),
    ] {
        let e = c.refused(id, "textDocument/hover", at(p.clone()));
        assert_eq!(
            e,
            json!({"code": -32602, "message": format!("line {} column {} is not a position in the document", p["line"], p["character"])})
        );
        assert_eq!(
            c.refused(id + 100, "textDocument/completion", at(p))["code"],
            -32602
        );
    }
    // A file that cannot be read.
    let missing = uri(&dir.join("missing.carepath"));
    let e = c.refused(
        10,
        "textDocument/definition",
        json!({"textDocument": {"uri": missing}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(e["code"], -32803);

    // A document nested deeper than the language allows, and a very long
    // one: diagnostics, not a crash.
    let deep = format!(
        "rule r {{ when {}a{} then x }}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 2}, "contentChanges": [{"text": deep}]}),
    );
    assert_eq!(
        c.published()["diagnostics"][0]["code"],
        "carepath::nesting-too-deep"
    );
    let long = PROTOCOL.repeat(200);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 3}, "contentChanges": [{"text": long}]}),
    );
    assert!(!c.published()["diagnostics"].as_array().unwrap().is_empty());
    // An older version than the one held is ignored; the next request is
    // still answered.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": main, "version": 1}, "contentChanges": [{"text": PROTOCOL}]}),
    );

    // Still serving.
    assert_eq!(c.call(11, "shutdown", Value::Null), Value::Null);
    assert_eq!(
        c.refused(
            12,
            "textDocument/hover",
            at(json!({"line": 0, "character": 0}))
        ),
        json!({"code": -32600, "message": "the server is shutting down"})
    );
    assert_eq!(c.exit(), 0);
}

#[test]
fn exit_without_shutdown_is_an_error_status() {
    let dir = scratch("lsp-exit");
    let mut c = Client::start();
    c.initialize(&dir);
    assert_eq!(c.exit(), 1);
    // Input that ends without `exit`.
    let c = Client::start();
    let Client {
        mut child, stdin, ..
    } = c;
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

/// Every keyword of `grammar/carepath.pest`: the words in double quotes,
/// outside comments and outside the rules that spell characters rather
/// than words (`reserved` spells the reserved words a letter at a time,
/// `escape` the letters after a backslash).
fn pest_keywords() -> Vec<String> {
    let grammar = include_str!("../grammar/carepath.pest");
    let mut words = Vec::new();
    let mut rule = "";
    for line in grammar.lines() {
        let code = line.split("//").next().unwrap_or("");
        if let Some((name, _)) = code.split_once('=')
            && !code.starts_with(' ')
            && !name.trim().is_empty()
        {
            rule = name.trim();
        }
        if ["reserved", "escape", "string", "string_inner", "WHITESPACE"].contains(&rule) {
            continue;
        }
        for (k, part) in code.split('"').enumerate() {
            let word = k % 2 == 1
                && part.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && part.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            if word && !words.contains(&part.to_string()) {
                words.push(part.to_string());
            }
        }
    }
    words
}

/// The words of every `(?:a|b|c)` group in the grammar's patterns that
/// give a keyword or constant scope.
fn highlighted_words(value: &Value, scoped: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let scope = |v: Option<&Value>| {
                v.and_then(Value::as_str).is_some_and(|s| {
                    s.starts_with("keyword.") || s.starts_with("constant.language.")
                })
            };
            let here = scoped
                || scope(map.get("name"))
                || map
                    .get("captures")
                    .and_then(Value::as_object)
                    .is_some_and(|c| c.values().any(|v| scope(v.get("name"))));
            if here && let Some(Value::String(m)) = map.get("match") {
                for group in m.split("(?:").skip(1) {
                    let body = group.split(')').next().unwrap_or("");
                    out.extend(body.split('|').map(str::to_string));
                }
            }
            for (k, v) in map {
                if k != "match" {
                    highlighted_words(v, here && k != "patterns", out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| highlighted_words(v, scoped, out)),
        _ => {}
    }
}

#[test]
fn the_textmate_grammar_highlights_every_keyword_of_the_language() {
    let text = include_str!("../editors/vscode/syntaxes/carepath.tmLanguage.json");
    let grammar: Value = serde_json::from_str(text).expect("the TextMate grammar is JSON");
    assert_eq!(grammar["scopeName"], "source.carepath");
    let mut highlighted = Vec::new();
    highlighted_words(&grammar, false, &mut highlighted);
    let keywords = pest_keywords();
    // The reading of the pest grammar finds its keywords, not fragments.
    for sample in [
        "rule",
        "asked",
        "most-serious",
        "emergency",
        "immediately",
        "months",
    ] {
        assert!(
            keywords.contains(&sample.to_string()),
            "`{sample}` is read from the grammar"
        );
    }
    for fragment in ["nd", "es", "n", "t"] {
        assert!(
            !keywords.contains(&fragment.to_string()),
            "`{fragment}` is not a keyword"
        );
    }
    let missing: Vec<&String> = keywords
        .iter()
        .filter(|k| !highlighted.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "keywords without highlighting: {missing:?}"
    );

    // The extension points at the grammar and the language.
    let package: Value = serde_json::from_str(include_str!("../editors/vscode/package.json"))
        .expect("package.json is JSON");
    assert_eq!(package["contributes"]["languages"][0]["id"], "carepath");
    assert_eq!(
        package["contributes"]["languages"][0]["extensions"],
        json!([".carepath"])
    );
    assert_eq!(
        package["contributes"]["grammars"][0]["path"],
        "./syntaxes/carepath.tmLanguage.json"
    );
    let config: Value = serde_json::from_str(include_str!(
        "../editors/vscode/language-configuration.json"
    ))
    .expect("language-configuration.json is JSON");
    assert_eq!(config["comments"]["lineComment"], "//");
}
