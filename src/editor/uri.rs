//! `file:` URIs to paths and back, by the rules of RFC 8089, without the
//! file system: an editor names documents by URI, the workspace by path.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The path a `file:` URI names, or `None` for another scheme, a remote
/// host, a relative path or an escape that is not UTF-8.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text
        .strip_prefix("file://")
        .or_else(|| text.strip_prefix("FILE://"))?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') || rest.contains(['?', '#']) {
        return None;
    }
    let decoded = percent_decode(rest)?;
    if decoded.contains('\0') {
        return None;
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub fn from_path(path: &Path) -> Uri {
    let mut out = String::from("file://");
    let text = path.to_string_lossy();
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).expect("an encoded path is a valid URI")
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_uris() {
        for p in [
            "/a/b.carepath",
            "/tmp/with space/£.carepath",
            "/x/100%.carepath",
        ] {
            let uri = from_path(Path::new(p));
            assert_eq!(to_path(&uri), Some(PathBuf::from(p)), "{}", uri.as_str());
        }
        assert_eq!(
            from_path(Path::new("/tmp/with space")).as_str(),
            "file:///tmp/with%20space"
        );
    }

    #[test]
    fn other_schemes_and_hosts_are_not_paths() {
        let uri = |s: &str| Uri::from_str(s).unwrap();
        assert_eq!(to_path(&uri("untitled:Untitled-1")), None);
        assert_eq!(to_path(&uri("file://server/share/a")), None);
        assert_eq!(to_path(&uri("file:///a%00b")), None);
        assert_eq!(to_path(&uri("file:///a%ffb")), None);
        assert_eq!(
            to_path(&uri("file://localhost/a")),
            Some(PathBuf::from("/a"))
        );
    }
}
