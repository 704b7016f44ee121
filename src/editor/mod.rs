//! Stage "editor": what an editor asks about open protocols, answered from
//! the same stages `check` runs.
//!
//! [`Editor`] holds the open documents (path -> text). Everything else is
//! read through a [`Reader`] the caller supplies, which the editor wraps so
//! that an open document is read from its unsaved text: a library being
//! edited is seen as it is by the protocols that import it. Answers are in
//! the Language Server Protocol's types (`lsp-types`), positions in its
//! UTF-16 columns ([`position`]); the server itself, which speaks the
//! protocol over standard input and output, is `carepath lsp` in the CLI.
//!
//! Diagnostics are exactly those of `carepath check <file>` for each open
//! file, published on the file each lies in. The other answers come from
//! the syntax trees ([`index`]), so they work in libraries and in files
//! whose rules conflict; while a file does not parse, completion uses the
//! last text of it that did.

pub mod complete;
pub mod hover;
pub mod index;
pub mod position;
mod symbols;
pub mod uri;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use lsp_types::{
    CompletionItem, CompletionTextEdit, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentSymbol, Hover, HoverContents, Location, MarkupContent, MarkupKind, NumberOrString,
    Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::model::{ReadError, Reader, Workspace};
use crate::source::{FileId, Sources, Span};

use index::{At, DefKind, Index};
use position::LineIndex;

/// Why a request has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The request names a position the document does not have.
    BadPosition(Position),
    /// The document is neither open nor readable.
    Unreadable(PathBuf, String),
    /// A rename that would break the protocol, or of nothing.
    Rename(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::BadPosition(p) => write!(
                f,
                "line {} column {} is not a position in the document",
                p.line, p.character
            ),
            Refusal::Unreadable(path, why) => {
                write!(f, "cannot read `{}`: {why}", path.display())
            }
            Refusal::Rename(why) => f.write_str(why),
        }
    }
}

struct Doc {
    text: String,
    version: i32,
    /// The latest text of the document that parsed, for completion while
    /// the current one does not.
    last_good: Option<String>,
}

/// What one open file's check reported, by the file each diagnostic is in.
#[derive(Default)]
struct Reported {
    /// Every file its workspace loaded: a change to any of them rechecks it.
    loaded: BTreeSet<PathBuf>,
    by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
}

/// Diagnostics to publish for one file (an empty list clears them).
#[derive(Clone, Debug, PartialEq)]
pub struct Publish {
    pub uri: Uri,
    pub version: Option<i32>,
    pub diagnostics: Vec<lsp_types::Diagnostic>,
}

/// The open documents and what their checks last reported.
#[derive(Default)]
pub struct Editor {
    docs: BTreeMap<PathBuf, Doc>,
    reported: BTreeMap<PathBuf, Reported>,
    /// What was last published for each file.
    published: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    /// Protocol files of the editor's folders that are not open, so that
    /// references and renames reach the files that use a library.
    known: Vec<PathBuf>,
}

impl Editor {
    pub fn new() -> Editor {
        Editor::default()
    }

    /// Files beyond the open ones that references and renames search.
    pub fn set_known_files(&mut self, files: Vec<PathBuf>) {
        self.known = files;
    }

    /// Open a document (or replace its text), then check every open file
    /// that depends on it.
    pub fn open(
        &mut self,
        path: PathBuf,
        text: String,
        version: i32,
        read: &mut Reader<'_>,
    ) -> Vec<Publish> {
        self.set_text(path.clone(), text, version);
        self.recheck(&path, read)
    }

    /// A new text for an open document; nothing happens for a document
    /// that is not open or a version older than the one held.
    pub fn change(
        &mut self,
        path: &Path,
        text: String,
        version: i32,
        read: &mut Reader<'_>,
    ) -> Vec<Publish> {
        match self.docs.get(path) {
            Some(d) if d.version <= version => {}
            _ => return Vec::new(),
        }
        self.set_text(path.to_path_buf(), text, version);
        self.recheck(path, read)
    }

    /// Close a document: its own check is dropped and the files that
    /// depended on it are checked against the disk again.
    pub fn close(&mut self, path: &Path, read: &mut Reader<'_>) -> Vec<Publish> {
        if self.docs.remove(path).is_none() {
            return Vec::new();
        }
        let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
        if let Some(r) = self.reported.remove(path) {
            touched.extend(r.by_file.into_keys());
        }
        touched.insert(path.to_path_buf());
        self.recheck_dependents(path, read, &mut touched);
        self.publish(touched, None)
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.docs.contains_key(path)
    }

    pub fn text(&self, path: &Path) -> Option<&str> {
        self.docs.get(path).map(|d| d.text.as_str())
    }

    fn set_text(&mut self, path: PathBuf, text: String, version: i32) {
        let parses = crate::syntax::parse(FileId(0), &text).is_ok();
        let last_good = match self.docs.remove(&path) {
            _ if parses => Some(text.clone()),
            Some(old) => old.last_good,
            None => None,
        };
        self.docs.insert(
            path,
            Doc {
                text,
                version,
                last_good,
            },
        );
    }

    /// Check every open file whose workspace includes `changed`.
    fn recheck(&mut self, changed: &Path, read: &mut Reader<'_>) -> Vec<Publish> {
        let mut touched = BTreeSet::new();
        self.recheck_dependents(changed, read, &mut touched);
        self.publish(touched, Some(changed))
    }

    /// Check again every open file whose workspace loaded `changed`,
    /// adding the files whose diagnostics may have changed to `touched`.
    fn recheck_dependents(
        &mut self,
        changed: &Path,
        read: &mut Reader<'_>,
        touched: &mut BTreeSet<PathBuf>,
    ) {
        let roots: Vec<PathBuf> = self
            .docs
            .keys()
            .filter(|r| {
                r.as_path() == changed
                    || self
                        .reported
                        .get(*r)
                        .is_none_or(|rep| rep.loaded.contains(changed))
            })
            .cloned()
            .collect();
        self.recheck_roots(roots, read, touched);
    }

    fn recheck_roots(
        &mut self,
        roots: Vec<PathBuf>,
        read: &mut Reader<'_>,
        touched: &mut BTreeSet<PathBuf>,
    ) {
        for root in roots {
            let fresh = self.check_one(&root, read);
            if let Some(old) = self.reported.get(&root) {
                touched.extend(old.by_file.keys().cloned());
            }
            touched.extend(fresh.by_file.keys().cloned());
            touched.insert(root.clone());
            self.reported.insert(root, fresh);
        }
    }

    /// Check every open file again, after files on disk changed (an
    /// imported library saved by another program, say).
    pub fn refresh(&mut self, read: &mut Reader<'_>) -> Vec<Publish> {
        let mut touched = BTreeSet::new();
        let roots: Vec<PathBuf> = self.docs.keys().cloned().collect();
        self.recheck_roots(roots, read, &mut touched);
        self.publish(touched, None)
    }

    /// `carepath check <root>`, as editor diagnostics by file.
    fn check_one(&self, root: &Path, read: &mut Reader<'_>) -> Reported {
        let Some(doc) = self.docs.get(root) else {
            return Reported::default();
        };
        let mut ws = Workspace::new();
        let id = {
            let mut reader = self.reader(read);
            ws.add_root(
                root,
                root.parent().unwrap_or(Path::new("/")),
                doc.text.clone(),
                &mut reader,
            )
        };
        let mut diags = Diagnostics::new();
        diags.extend(ws.diagnostics());
        diags.extend(crate::check(&ws, id).diagnostics);
        let sorted = diags.sorted(&ws.sources);
        let mut lines = LineCache::default();
        let mut by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for d in &sorted {
            let path = ws.sources.get(d.span.file).path.clone();
            by_file
                .entry(path)
                .or_default()
                .push(to_lsp(d, &ws.sources, &mut lines));
        }
        Reported {
            loaded: ws.sources.iter().map(|(_, f)| f.path.clone()).collect(),
            by_file,
        }
    }

    /// The diagnostics of each file in `files`, merged over every open
    /// file's check: those that differ from what was last published, and
    /// always those of `edited` (so the editor hears about every version).
    fn publish(&mut self, files: BTreeSet<PathBuf>, edited: Option<&Path>) -> Vec<Publish> {
        let mut out = Vec::new();
        for path in files {
            let mut diagnostics: Vec<lsp_types::Diagnostic> = Vec::new();
            for r in self.reported.values() {
                for d in r.by_file.get(&path).into_iter().flatten() {
                    if !diagnostics.contains(d) {
                        diagnostics.push(d.clone());
                    }
                }
            }
            let unchanged = self.published.get(&path) == Some(&diagnostics)
                || !self.published.contains_key(&path)
                    && diagnostics.is_empty()
                    && !self.docs.contains_key(&path);
            if unchanged && Some(path.as_path()) != edited {
                continue;
            }
            self.published.insert(path.clone(), diagnostics.clone());
            out.push(Publish {
                uri: uri::from_path(&path),
                version: self.docs.get(&path).map(|d| d.version),
                diagnostics,
            });
        }
        out
    }

    /// A reader that gives an open document's text, else asks `read`.
    fn reader<'a>(
        &'a self,
        read: &'a mut Reader<'_>,
    ) -> impl FnMut(&Path) -> Result<String, ReadError> + 'a {
        move |p: &Path| match self.docs.get(p) {
            Some(d) => Ok(d.text.clone()),
            None => read(p),
        }
    }

    /// A workspace with `roots` loaded (open text first, then `read`).
    fn load(
        &self,
        roots: &[PathBuf],
        read: &mut Reader<'_>,
    ) -> Result<(Workspace, Vec<FileId>), Refusal> {
        let mut ws = Workspace::new();
        let mut ids = Vec::new();
        for (k, root) in roots.iter().enumerate() {
            let text = {
                let mut reader = self.reader(read);
                match reader(root) {
                    Ok(t) => t,
                    // Only the first root is the document asked about; the
                    // others are searched when they can be read.
                    Err(e) if k == 0 => {
                        return Err(Refusal::Unreadable(root.clone(), e.to_string()));
                    }
                    Err(_) => continue,
                }
            };
            let mut reader = self.reader(read);
            ids.push(ws.add_root(
                root,
                root.parent().unwrap_or(Path::new("/")),
                text,
                &mut reader,
            ));
        }
        Ok((ws, ids))
    }

    /// The document's workspace and the byte offset of `pos` in it.
    fn locate(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<(Workspace, FileId, usize), Refusal> {
        let (ws, ids) = self.load(&[path.to_path_buf()], read)?;
        let file = ids[0];
        let text = &ws.sources.get(file).text;
        let offset = LineIndex::new(text)
            .offset(text, pos)
            .ok_or(Refusal::BadPosition(pos))?;
        Ok((ws, file, offset))
    }

    /// Everything that could refer to `path`'s definitions: the document,
    /// the other open documents and the known files.
    fn load_wide(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<(Workspace, FileId, usize), Refusal> {
        let mut roots = vec![path.to_path_buf()];
        for p in self.docs.keys().chain(self.known.iter()) {
            if !roots.contains(p) {
                roots.push(p.clone());
            }
        }
        let (ws, ids) = self.load(&roots, read)?;
        let file = ids[0];
        let text = &ws.sources.get(file).text;
        let offset = LineIndex::new(text)
            .offset(text, pos)
            .ok_or(Refusal::BadPosition(pos))?;
        Ok((ws, file, offset))
    }

    pub fn hover(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<Option<Hover>, Refusal> {
        let (ws, file, offset) = self.locate(path, pos, read)?;
        let index = Index::new(&ws);
        let Some(at) = index.at(file, offset) else {
            return Ok(None);
        };
        let span = match at {
            At::Def(d) => d.span,
            At::Use(u) => u.span,
        };
        let Some((df, def)) = index.target(file, offset) else {
            return Ok(None);
        };
        let Some(text) = hover::describe(&ws, df, def) else {
            return Ok(None);
        };
        let mut lines = LineCache::default();
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(lines.range(&ws.sources, span)),
        }))
    }

    pub fn definition(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<Vec<Location>, Refusal> {
        let (ws, file, offset) = self.locate(path, pos, read)?;
        let index = Index::new(&ws);
        let mut lines = LineCache::default();
        Ok(index
            .target(file, offset)
            .map(|(df, d)| lines.location(&ws.sources, Span { file: df, ..d.span }))
            .into_iter()
            .collect())
    }

    pub fn references(
        &self,
        path: &Path,
        pos: Position,
        include_declaration: bool,
        read: &mut Reader<'_>,
    ) -> Result<Vec<Location>, Refusal> {
        let (ws, file, offset) = self.load_wide(path, pos, read)?;
        let index = Index::new(&ws);
        let Some((df, def)) = index.target(file, offset) else {
            return Ok(Vec::new());
        };
        let mut spans = Vec::new();
        if include_declaration {
            spans.push(def.span);
        }
        spans.extend(index.references(df, def).into_iter().map(|(_, s)| s));
        let mut lines = LineCache::default();
        Ok(spans
            .into_iter()
            .map(|s| lines.location(&ws.sources, s))
            .collect())
    }

    /// The range of the name a rename at `pos` would change, or why there
    /// is nothing to rename there.
    pub fn prepare_rename(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<Range, Refusal> {
        let (ws, file, offset) = self.locate(path, pos, read)?;
        let index = Index::new(&ws);
        let span = match index.at(file, offset) {
            Some(At::Def(d)) => d.span,
            Some(At::Use(u)) => {
                if index.resolve(file, u).is_none() {
                    return Err(Refusal::Rename(format!(
                        "`{}` is not defined, so there is nothing to rename",
                        u.name
                    )));
                }
                u.span
            }
            None => return Err(Refusal::Rename("there is no name here to rename".into())),
        };
        Ok(LineCache::default().range(&ws.sources, span))
    }

    /// Rename the definition at `pos` and every use of it, in every file
    /// open or known. Refused when the new name is not a name, is taken by
    /// another definition of the same kind, or would not parse.
    // `WorkspaceEdit` keys its changes by `Uri`, which clippy sees as
    // mutable (a cache inside it); the map is built once and never mutated
    // through its keys.
    #[allow(clippy::mutable_key_type)]
    pub fn rename(
        &self,
        path: &Path,
        pos: Position,
        new_name: &str,
        read: &mut Reader<'_>,
    ) -> Result<WorkspaceEdit, Refusal> {
        let (ws, file, offset) = self.load_wide(path, pos, read)?;
        let index = Index::new(&ws);
        let (df, def) = match index.at(file, offset) {
            None => return Err(Refusal::Rename("there is no name here to rename".into())),
            Some(_) => index.target(file, offset).ok_or_else(|| {
                Refusal::Rename("this name is not defined, so there is nothing to rename".into())
            })?,
        };
        check_name(new_name, def.kind)?;
        let uses = index.references(df, def);
        if new_name == def.name {
            return Ok(WorkspaceEdit::default());
        }
        // Taken where the definition is seen: its own file and every file
        // that uses it.
        let mut files: Vec<FileId> = vec![df];
        files.extend(uses.iter().map(|(f, _)| *f));
        files.sort();
        files.dedup();
        for &f in &files {
            if let Some((of, other)) = taken(&index, f, df, def, new_name) {
                let src = ws.sources.get(of);
                let (line, _) = src.line_col(other.span.start);
                return Err(Refusal::Rename(format!(
                    "`{new_name}` is already the name of a {} ({}, line {line})",
                    other.kind.word(),
                    src.name()
                )));
            }
        }
        let mut spans: Vec<Span> = vec![Span {
            file: df,
            ..def.span
        }];
        spans.extend(uses.into_iter().map(|(_, s)| s));
        // Every edited file must still parse.
        let mut by_file: BTreeMap<FileId, Vec<Span>> = BTreeMap::new();
        for s in spans {
            by_file.entry(s.file).or_default().push(s);
        }
        let mut lines = LineCache::default();
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for (f, mut spans) in by_file {
            spans.sort();
            spans.dedup();
            let src = ws.sources.get(f);
            let mut text = src.text.to_string();
            for s in spans.iter().rev() {
                text.replace_range(s.range(), new_name);
            }
            if crate::syntax::parse(f, &text).is_err() {
                return Err(Refusal::Rename(format!(
                    "`{new_name}` cannot be used as a name in `{}`: the file would no longer read as the language",
                    src.name()
                )));
            }
            let edits = spans
                .iter()
                .map(|s| TextEdit {
                    range: lines.range(&ws.sources, *s),
                    new_text: new_name.to_string(),
                })
                .collect();
            changes.insert(uri::from_path(&src.path), edits);
        }
        Ok(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        })
    }

    /// Completions at `pos`, each replacing the part of the name typed.
    pub fn completion(
        &self,
        path: &Path,
        pos: Position,
        read: &mut Reader<'_>,
    ) -> Result<Vec<CompletionItem>, Refusal> {
        let text = match self.docs.get(path) {
            Some(d) => d.text.clone(),
            None => {
                read(path).map_err(|e| Refusal::Unreadable(path.to_path_buf(), e.to_string()))?
            }
        };
        let lines = LineIndex::new(&text);
        let offset = lines.offset(&text, pos).ok_or(Refusal::BadPosition(pos))?;
        // Names come from the latest text that parsed.
        let names_text = self
            .docs
            .get(path)
            .and_then(|d| d.last_good.clone())
            .unwrap_or_else(|| text.clone());
        let mut ws = Workspace::new();
        let id = {
            let mut reader = self.reader(read);
            ws.add_root(
                path,
                path.parent().unwrap_or(Path::new("/")),
                names_text,
                &mut reader,
            )
        };
        let index = Index::new(&ws);
        let (start, items) = complete::complete(&text, offset, Some((&index, id)));
        let range = lines.range(&text, start, offset);
        Ok(items
            .into_iter()
            .map(|mut item| {
                item.text_edit = Some(CompletionTextEdit::Edit(TextEdit {
                    range,
                    new_text: item.label.clone(),
                }));
                item
            })
            .collect())
    }

    /// The document laid out as `carepath fmt` lays it out, as one edit of
    /// the whole text; no edit when it is already so, or when it does not
    /// parse (its syntax errors are already among its diagnostics).
    pub fn format(&self, path: &Path, read: &mut Reader<'_>) -> Result<Vec<TextEdit>, Refusal> {
        let text = match self.docs.get(path) {
            Some(d) => d.text.clone(),
            None => {
                read(path).map_err(|e| Refusal::Unreadable(path.to_path_buf(), e.to_string()))?
            }
        };
        let text: &str = &text;
        match crate::syntax::format::format(text) {
            Ok(laid_out) if laid_out != text => Ok(vec![TextEdit {
                range: LineIndex::new(text).range(text, 0, text.len()),
                new_text: laid_out,
            }]),
            _ => Ok(Vec::new()),
        }
    }

    /// The outline of a document: its definitions, with the steps of
    /// routes, the answers of questions and the examples of levels inside.
    pub fn symbols(
        &self,
        path: &Path,
        read: &mut Reader<'_>,
    ) -> Result<Vec<DocumentSymbol>, Refusal> {
        let text = match self.docs.get(path) {
            Some(d) => d.text.clone(),
            None => {
                read(path).map_err(|e| Refusal::Unreadable(path.to_path_buf(), e.to_string()))?
            }
        };
        Ok(symbols::outline(&text))
    }
}

/// Whether `name` can be given to a definition of `kind`.
fn check_name(name: &str, kind: DefKind) -> Result<(), Refusal> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(Refusal::Rename(format!(
            "`{name}` is not a name: a name starts with a letter and has only letters, digits, `-` and `_`"
        )));
    }
    if ["and", "or", "not", "no", "in", "yes", "because"].contains(&name) {
        return Err(Refusal::Rename(format!(
            "`{name}` is a word of the language and cannot be a name"
        )));
    }
    if kind == DefKind::Question && name == "setting" {
        return Err(Refusal::Rename(
            "a question cannot be called `setting`: conditions use it for where the child lives"
                .into(),
        ));
    }
    Ok(())
}

/// Another definition called `name` that would clash with `def` where
/// `file` sees it.
fn taken<'a>(
    index: &'a Index<'_>,
    file: FileId,
    df: FileId,
    def: &index::Def,
    name: &str,
) -> Option<(FileId, &'a index::Def)> {
    let same_owner = |f: FileId, d: &index::Def| {
        d.kind == def.kind && d.item == def.item && f == df && d.name == name
    };
    match def.kind {
        DefKind::Option | DefKind::Node | DefKind::ChecklistItem => index
            .defs(df)
            .iter()
            .find(|d| same_owner(df, d))
            .map(|d| (df, d)),
        kind => index.lookup(file, kind, name),
    }
}

/// Line indexes of the files a conversion meets, built once each.
#[derive(Default)]
struct LineCache {
    lines: HashMap<FileId, LineIndex>,
}

impl LineCache {
    fn range(&mut self, sources: &Sources, span: Span) -> Range {
        let text = &sources.get(span.file).text;
        self.lines
            .entry(span.file)
            .or_insert_with(|| LineIndex::new(text))
            .range(text, span.start as usize, span.end as usize)
    }

    fn location(&mut self, sources: &Sources, span: Span) -> Location {
        Location {
            uri: uri::from_path(&sources.get(span.file).path),
            range: self.range(sources, span),
        }
    }
}

/// A diagnostic as an editor shows it: the message with the help after
/// it, the labels as related information, the code as `check` prints it.
fn to_lsp(d: &Diagnostic, sources: &Sources, lines: &mut LineCache) -> lsp_types::Diagnostic {
    let accepted = d.finding.as_ref().and_then(|f| f.accepted.as_ref());
    let severity = match (accepted, d.severity) {
        (Some(_), _) => DiagnosticSeverity::HINT,
        (None, Severity::Error) => DiagnosticSeverity::ERROR,
        (None, Severity::Warning) => DiagnosticSeverity::WARNING,
    };
    let mut message = match accepted {
        Some(_) => format!("accepted: {}", d.message),
        None => d.message.clone(),
    };
    let help = match accepted {
        Some(reason) => Some(format!("accepted because: {reason}")),
        None => d.help.clone(),
    };
    if let Some(h) = help {
        message.push_str("\nhelp: ");
        message.push_str(&h);
    }
    let mut related = Vec::new();
    if !d.label.is_empty() {
        related.push(DiagnosticRelatedInformation {
            location: lines.location(sources, d.span),
            message: d.label.clone(),
        });
    }
    for l in &d.labels {
        related.push(DiagnosticRelatedInformation {
            location: lines.location(sources, l.span),
            message: l.message.clone(),
        });
    }
    lsp_types::Diagnostic {
        range: lines.range(sources, d.span),
        severity: Some(severity),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("carepath".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}
